import test from 'ava';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyDelta,
  applyDeltaUdp,
  delta16,
  delta32,
  fold,
  internetChecksum,
  l4Checksum,
  l4ChecksumValid,
  onesSum,
  pseudoHeaderSum,
  udpChecksumFinal,
  updateChecksum16,
  updateChecksum32,
} from '../../src/packet/checksum.ts';
import { hex, refChecksum, refL4Checksum } from './helpers.ts';

test('RFC 1071 §3 worked example: sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2', (t) => {
  const b = hex('0001f203f4f5f6f7');
  t.is(fold(onesSum(b, 0, b.length)), 0xddf2);
  t.is(internetChecksum(b), ~0xddf2 & 0xffff);
});

test('odd length pads with a zero byte on the right', (t) => {
  t.is(fold(onesSum(hex('abcdef'), 0, 3)), 0xabcd + 0xef00 - 0xffff);
  t.is(internetChecksum(hex('ff')), 0x00ff);
});

test('sub-ranges and large buffers (carry folding beyond 2^32)', (t) => {
  const big = new Uint8Array(200_000).fill(0xff);
  // Several 2^15-word chunks, summed unfolded: the sum passes 2^32 and stays exact.
  t.is(onesSum(big, 0, big.length), 100_000 * 0xffff);
  t.is(internetChecksum(big), 0);
  const odd = Uint8Array.from({ length: 150_001 }, (_, i) => (i * 7919) & 0xff);
  t.is(internetChecksum(odd), refChecksum([...odd]));
  t.is(fold(0x1_0000_0000 * 3 + 5), fold(3 + 5));
  const b = hex('99 0001f203f4f5f6f7 99');
  t.is(internetChecksum(b, 1, 9), ~0xddf2 & 0xffff);
});

test('full checksum agrees with the reference over random data', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      assert.equal(
        internetChecksum(data),
        refChecksum([...data]) === 0xffff && data.length === 0 ? 0xffff : refChecksum([...data]),
      );
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('pseudo-header checksum agrees with the reference', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 8, maxLength: 120 }),
      fc.nat(0xffffffff),
      fc.nat(0xffffffff),
      fc.constantFrom(6, 17),
      (seg, src, dst, proto) => {
        const at = proto === 6 ? 16 : 6;
        if (seg.length < at + 2) return;
        assert.equal(
          l4Checksum(seg, 0, seg.length, src, dst, proto, at),
          refL4Checksum(seg, src, dst, proto, at),
        );
        const c = l4Checksum(seg, 0, seg.length, src, dst, proto, at);
        const s = seg.slice();
        s[at] = c >>> 8;
        s[at + 1] = c & 0xff;
        assert.ok(l4ChecksumValid(s, 0, s.length, src, dst, proto));
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
  t.is(pseudoHeaderSum(0x0a000001, 0x0a000002, 6, 40), 0x0a00 + 1 + 0x0a00 + 2 + 6 + 40);
});

test("RFC 1624 §4 example: HC 0xdd2f, m 0x5555 -> 0x3285 gives HC' 0x0000", (t) => {
  t.is(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000);
  t.is(applyDelta(0xdd2f, delta16(0x5555, 0x3285)), 0x0000);
});

/** Random data with a fixed non-zero first word (like IPv4's version), so "-0" cannot arise. */
const data = fc.uint8Array({ minLength: 8, maxLength: 64 }).map((d) => {
  const b = d.length % 2 ? d.subarray(1) : d;
  b[0] = 0x45;
  return b;
});

test('incremental 16-bit update equals full recomputation (property)', (t) => {
  fc.assert(
    fc.property(data, fc.nat(), fc.nat(0xffff), (b, k, v) => {
      const i = 2 + 2 * (k % ((b.length - 2) / 2));
      const hc = internetChecksum(b);
      const old = (b[i]! << 8) | b[i + 1]!;
      b[i] = v >>> 8;
      b[i + 1] = v & 0xff;
      assert.equal(updateChecksum16(hc, old, v), internetChecksum(b));
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('incremental 32-bit update equals full recomputation (property)', (t) => {
  fc.assert(
    fc.property(data, fc.nat(), fc.nat(0xffffffff), (b, k, v) => {
      if (b.length < 6) return;
      const i = 2 + 2 * (k % ((b.length - 4) / 2));
      const hc = internetChecksum(b);
      const old = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
      b[i] = v >>> 24;
      b[i + 1] = (v >>> 16) & 0xff;
      b[i + 2] = (v >>> 8) & 0xff;
      b[i + 3] = v & 0xff;
      assert.equal(updateChecksum32(hc, old, v), internetChecksum(b));
      assert.equal(applyDelta(hc, delta32(old, v)), internetChecksum(b));
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('UDP: checksum 0 stays 0; a result of 0 becomes 0xffff (RFC 768)', (t) => {
  t.is(applyDeltaUdp(0, delta16(0x1234, 0x4321)), 0);
  t.is(udpChecksumFinal(0), 0xffff);
  t.is(udpChecksumFinal(0x1234), 0x1234);
  // Choose a change whose eqn-3 result is 0: ~(~HC + ~m + m') = 0 needs ~HC + ~m + m' = 0xffff.
  const hc = 0x1000;
  const m = 0x0000;
  const m1 = 0x1000; // ~0x1000 + 0xffff + 0x1000 folds to 0xffff
  t.is(applyDelta(hc, delta16(m, m1)), 0);
  t.is(applyDeltaUdp(hc, delta16(m, m1)), 0xffff);
  // And from 0xffff (a transmitted zero) the update proceeds as from 0.
  t.is(applyDeltaUdp(0xffff, delta16(0x0001, 0x0000)), 0x0001);
});
