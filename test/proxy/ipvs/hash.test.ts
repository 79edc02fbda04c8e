// The kernel hash functions, checked against an independent BigInt implementation:
// hash_32() and SipHash (the official SipHash-2-4 vector pins the round function; the
// kernel's 64-bit hsiphash is the same rounds as SipHash-1-3).
import test from 'ava';
import fc from 'fast-check';
import { GOLDEN_RATIO_32, hash32, hsipKey, hsiphashU32 } from '../../../src/proxy/ipvs/hash.ts';

const M64 = (1n << 64n) - 1n;
const rol = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

/** Reference SipHash-c-d over bytes, 64-bit key words k0, k1. */
function siphash(c: number, d: number, k0: bigint, k1: bigint, msg: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64;
    v1 = rol(v1, 13n) ^ v0;
    v0 = rol(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rol(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M64;
    v3 = rol(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M64;
    v1 = rol(v1, 17n) ^ v2;
    v2 = rol(v2, 32n);
  };
  const full = msg.length - (msg.length % 8);
  for (let i = 0; i < full; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(msg[i + j]!);
    v3 ^= m;
    for (let r = 0; r < c; r++) round();
    v0 ^= m;
  }
  let b = BigInt(msg.length & 0xff) << 56n;
  for (let j = msg.length - 1; j >= full; j--) b |= BigInt(msg[j]!) << BigInt(8 * (j - full));
  v3 ^= b;
  for (let r = 0; r < c; r++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let r = 0; r < d; r++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

test('reference SipHash-2-4 matches the paper vector (key 00..0f, message 00..0e)', (t) => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const le = (o: number) => {
    let x = 0n;
    for (let j = 7; j >= 0; j--) x = (x << 8n) | BigInt(key[o + j]!);
    return x;
  };
  const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
  t.is(siphash(2, 4, le(0), le(8), msg), 0xa129ca6149be45e5n);
});

test('hsiphashU32 equals SipHash-1-3 of the 4 little-endian bytes, low 32 bits', (t) => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (m, a, b) => {
      const msg = new Uint8Array(4);
      new DataView(msg.buffer).setUint32(0, m, true);
      const expected = Number(siphash(1, 3, BigInt(a), BigInt(b), msg) & 0xffffffffn);
      return hsiphashU32(m, hsipKey(a, b)) === expected;
    }),
  );
  t.pass();
});

test('hash32 is the top bits of val * GOLDEN_RATIO_32 mod 2^32', (t) => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.integer({ min: 1, max: 32 }), (v, bits) => {
      const ref = Number(
        ((BigInt(v) * BigInt(GOLDEN_RATIO_32)) & 0xffffffffn) >> BigInt(32 - bits),
      );
      return hash32(v, bits) === ref;
    }),
  );
  t.is(hash32(0, 8), 0);
  t.is(hash32(1, 8), 0x61);
});
