// ByteQueue (the send buffer) against a plain byte list: any mix of push (copied or
// shared), drop and peek.
import test from 'ava';
import fc from 'fast-check';
import { ByteQueue } from '../../src/sim/tcp/byte-queue.ts';

type Op =
  | { k: 'push'; bytes: Uint8Array; shared: boolean }
  | { k: 'drop'; n: number }
  | { k: 'peek'; offset: number; len: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('push' as const),
    bytes: fc.uint8Array({ maxLength: 12 }),
    shared: fc.boolean(),
  }),
  fc.record({ k: fc.constant('drop' as const), n: fc.nat({ max: 30 }) }),
  fc.record({
    k: fc.constant('peek' as const),
    offset: fc.nat({ max: 30 }),
    len: fc.nat({ max: 30 }),
  }),
);

test('push, drop and peek match a plain byte list', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const q = new ByteQueue();
      let ref: number[] = [];
      for (const o of ops) {
        if (o.k === 'push') {
          if (o.shared) q.pushShared(o.bytes);
          else q.push(o.bytes);
          ref.push(...o.bytes);
        } else if (o.k === 'drop') {
          q.drop(o.n);
          ref = ref.slice(Math.min(o.n, ref.length));
        } else {
          const want = ref.slice(o.offset, o.offset + Math.max(0, o.len));
          t.deepEqual([...q.peek(o.offset, o.len)], o.offset > ref.length ? [] : want);
        }
        t.is(q.length, ref.length);
      }
      t.deepEqual([...q.peek(0, q.length)], ref);
    }),
    { numRuns: 500 },
  );
});

test('push copies the bytes, pushShared keeps them', (t) => {
  const q = new ByteQueue();
  const a = Uint8Array.of(1, 2);
  const b = Uint8Array.of(3, 4);
  q.push(a);
  q.pushShared(b);
  a[0] = 9;
  b[0] = 8;
  t.deepEqual([...q.peek(0, 4)], [1, 2, 8, 4]);
});
