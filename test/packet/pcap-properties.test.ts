// Property tests for the pcap reader: it never throws, stays inside its input,
// and returns exactly what the writer wrote.

import test from 'ava';
import fc from 'fast-check';
import { LinkType, PCAP_MAGIC_US, PcapWriter } from '../../src/packet/pcap.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import { FIXTURES, buildPcap, concat } from './pcap-fixtures.ts';

const SYN = FIXTURES[0]!.bytes;
const DNS = FIXTURES[1]!.bytes;
const T0 = 1_700_000_000n * 1_000_000_000n;

function writeNs(items: readonly (readonly [bigint, Uint8Array])[]): Uint8Array {
  const w = new PcapWriter({ resolution: 'ns' });
  for (const [ts, p] of items) w.write(ts, p);
  return w.toBytes();
}

const VALID = writeNs(FIXTURES.map((f, i) => [T0 + BigInt(i) * 999_999_999n, f.bytes] as const));

test('property: readPcap never throws on random bytes', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = readPcap(b);
      return r.error !== undefined || r.header !== undefined;
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('property: random record streams after a valid header never throw', (t) => {
  const links = [...Object.values(LinkType), 9];
  fc.assert(
    fc.property(
      fc.constantFrom(...links),
      fc.boolean(),
      fc.uint8Array({ maxLength: 400 }),
      (link, le, tail) => {
        const head = buildPcap({
          littleEndian: le,
          magic: PCAP_MAGIC_US,
          linkType: link,
          records: [],
        });
        const input = concat(head, tail);
        const r = readPcap(input);
        for (const p of r.packets) {
          if (p.data.buffer !== input.buffer || p.data.byteOffset + p.data.length > input.length) {
            return false;
          }
        }
        return r.header?.linkType === link;
      },
    ),
    { numRuns: 5000 },
  );
  t.pass();
});

test('every truncation of a valid file yields a prefix of its packets', (t) => {
  const full = readPcap(VALID).packets;
  const boundaries = new Set([
    24,
    24 + 16 + SYN.length,
    24 + 32 + SYN.length + DNS.length,
    VALID.length,
  ]);
  for (let n = 0; n <= VALID.length; n++) {
    const r = readPcap(VALID.subarray(0, n));
    t.deepEqual(
      r.packets.map((p) => p.data),
      full.slice(0, r.packets.length).map((p) => p.data),
    );
    t.is(r.error === undefined, boundaries.has(n), `cut at ${n}`);
  }
});

test('property: mutations of a valid file never throw and stay in bounds', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: VALID.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat({ max: VALID.length }),
      (muts, cut) => {
        const b = VALID.slice(0, Math.max(cut, 1));
        for (const [i, x] of muts) if (i < b.length) b[i] = x;
        const r = readPcap(b);
        let last = -1;
        for (const p of r.packets) {
          const inside =
            p.data.buffer === b.buffer &&
            p.data.byteOffset >= p.offset + 16 &&
            p.data.byteOffset + p.data.length <= b.length;
          if (!inside || p.offset <= last) return false;
          last = p.offset;
        }
        return r.error !== undefined || r.header !== undefined;
      },
    ),
    { numRuns: 5000 },
  );
  t.pass();
});

test('property: any packets and timestamps round-trip at ns resolution', (t) => {
  const ipv4ish = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => {
    b[0] = 0x40 | (b[0]! & 0x0f);
    return b;
  });
  const ts = fc.bigInt({ min: 0n, max: 4_294_967_296n * 1_000_000_000n - 1n });
  fc.assert(
    fc.property(fc.array(fc.tuple(ts, ipv4ish), { maxLength: 20 }), (items) => {
      const r = readPcap(writeNs(items));
      if (r.error !== undefined || r.packets.length !== items.length) return false;
      return items.every(([x, p], i) => {
        const q = r.packets[i]!;
        return q.tsNs === x && q.origLen === p.length && Buffer.from(q.data).equals(p);
      });
    }),
    { numRuns: 300 },
  );
  t.pass();
});
