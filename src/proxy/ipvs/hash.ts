// The kernel hash functions the IPVS schedulers use, bit for bit, so a flow lands in the
// bucket the kernel would pick:
//   hash_32()          include/linux/hash.h (sh, dh, lblcr)
//   hsiphash()         lib/siphash.c; on 64-bit kernels it is SipHash-1-3 with 64-bit key words (mh)

/** GOLDEN_RATIO_32 from include/linux/hash.h. */
export const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits): the top `bits` bits of val * GOLDEN_RATIO_32 (mod 2^32). */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** A 64-bit hsiphash key word pair, each word split into high and low u32 halves. */
export interface HsipKey {
  readonly k0hi: number;
  readonly k0lo: number;
  readonly k1hi: number;
  readonly k1lo: number;
}

/** A key whose two (64-bit) words hold the same small value, as ip_vs_mh.c generate_hash_secret(). */
export function hsipKey(word0: number, word1: number): HsipKey {
  return { k0hi: 0, k0lo: word0 >>> 0, k1hi: 0, k1lo: word1 >>> 0 };
}

// SipHash state v0..v3 as [hi, lo] u32 pairs: s[0]=v0hi s[1]=v0lo ... s[6]=v3hi s[7]=v3lo.
const s = new Uint32Array(8);

function add(a: number, b: number): void {
  // v[a] += v[b] (64-bit, wrapping)
  const lo = s[a + 1]! + s[b + 1]!;
  s[a] = s[a]! + s[b]! + (lo > 0xffffffff ? 1 : 0);
  s[a + 1] = lo;
}

function rol(a: number, n: number): void {
  const hi = s[a]!;
  const lo = s[a + 1]!;
  if (n === 32) {
    s[a] = lo;
    s[a + 1] = hi;
    return;
  }
  s[a] = (hi << n) | (lo >>> (32 - n));
  s[a + 1] = (lo << n) | (hi >>> (32 - n));
}

function xor(a: number, b: number): void {
  s[a] = s[a]! ^ s[b]!;
  s[a + 1] = s[a + 1]! ^ s[b + 1]!;
}

/** SIPROUND on the module state. */
function sipRound(): void {
  add(0, 2); // v0 += v1
  rol(2, 13);
  xor(2, 0);
  rol(0, 32);
  add(4, 6); // v2 += v3
  rol(6, 16);
  xor(6, 4);
  add(0, 6); // v0 += v3
  rol(6, 21);
  xor(6, 0);
  add(4, 2); // v2 += v1
  rol(2, 17);
  xor(2, 4);
  rol(4, 32);
}

/**
 * hsiphash(&v, 4, key) on a 64-bit kernel: SipHash-1-3 over the four little-endian bytes of the
 * u32 `m`, truncated to its low 32 bits (HPREAMBLE(4); b |= m; HPOSTAMBLE).
 */
export function hsiphashU32(m: number, key: HsipKey): number {
  s[0] = 0x736f6d65 ^ key.k0hi;
  s[1] = 0x70736575 ^ key.k0lo;
  s[2] = 0x646f7261 ^ key.k1hi;
  s[3] = 0x6e646f6d ^ key.k1lo;
  s[4] = 0x6c796765 ^ key.k0hi;
  s[5] = 0x6e657261 ^ key.k0lo;
  s[6] = 0x74656462 ^ key.k1hi;
  s[7] = 0x79746573 ^ key.k1lo;
  // b = (len << 56) | m
  const bhi = 4 << 24;
  const blo = m >>> 0;
  s[6] = s[6]! ^ bhi;
  s[7] = s[7]! ^ blo;
  sipRound();
  s[0] = s[0]! ^ bhi;
  s[1] = s[1]! ^ blo;
  s[5] = s[5]! ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  // (v0 ^ v1) ^ (v2 ^ v3), low 32 bits
  return (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
}

/** ip_vs_mh.c generate_hash_secret(): hash1 and hash2 keys. */
export const MH_HASH1 = hsipKey(2654435761, 2654435761);
export const MH_HASH2 = hsipKey(2654446892, 2654446892);

/** Greatest common divisor of two positive integers (lib/math/gcd.c). */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** fls(x): index of the most significant set bit, 1-based; 0 for 0. */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}
