// ConnIndex (a host's connections by 4-tuple, open addressing with backward-shift
// deletion) against a Map keyed by the same tuple, through random adds, replaces, lookups
// and deletes on a few addresses and ports, so probe runs collide, wrap and shrink.
import test from 'ava';
import fc from 'fast-check';
import { ConnIndex } from '../../src/sim/conn-index.ts';

type Op = { k: 'set' | 'get' | 'delete'; lip: number; lport: number; rip: number; rport: number };

const ip = fc.constantFrom(0x0a000001, 0xc0a80a01, 0xc0a80a02, 0xffffffff, 0);
const port = fc.constantFrom(0, 80, 8080, 32768, 60999, 65535);
const op: fc.Arbitrary<Op> = fc.record({
  k: fc.constantFrom('set' as const, 'set' as const, 'get' as const, 'delete' as const),
  lip: ip,
  lport: port,
  rip: ip,
  rport: fc.oneof(port, fc.integer({ min: 0, max: 65535 })),
});

test('behaves as a Map keyed by the 4-tuple', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 2000 }), (ops) => {
      const ix = new ConnIndex<number>();
      const ref = new Map<string, number>();
      let v = 0;
      for (const o of ops) {
        const key = `${o.lip >>> 0}:${o.lport}:${o.rip >>> 0}:${o.rport}`;
        if (o.k === 'set') {
          ix.set(o.lip, o.lport, o.rip, o.rport, ++v);
          ref.set(key, v);
        } else if (o.k === 'delete') {
          t.is(ix.delete(o.lip, o.lport, o.rip, o.rport), ref.delete(key));
        }
        t.is(ix.get(o.lip, o.lport, o.rip, o.rport), ref.get(key));
        t.is(ix.size, ref.size);
      }
      for (const [key, val] of ref) {
        const [a, b, c, d] = key.split(':').map(Number) as [number, number, number, number];
        t.is(ix.get(a, b, c, d), val);
      }
    }),
    { numRuns: 200 },
  );
});
