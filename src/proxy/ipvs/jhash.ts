// Bob Jenkins' lookup3 as the kernel has it (include/linux/jhash.h jhash2), which ipset's hash
// types use to pick a bucket: jhash2(element words, initval) & (2^htable_bits - 1). Elements are
// read as host-order (little-endian) u32 words of their in-kernel struct, so an IPv4 address in
// network byte order enters byte-swapped.

export const JHASH_INITVAL = 0xdeadbeef;

const rol32 = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** __jhash_final(a, b, c): the last mix of lookup3, its result as a u32. */
function jhashFinal(a: number, b: number, c: number): number {
  // __jhash_final
  c ^= b;
  c = (c - rol32(b, 14)) | 0;
  a ^= c;
  a = (a - rol32(c, 11)) | 0;
  b ^= a;
  b = (b - rol32(a, 25)) | 0;
  c ^= b;
  c = (c - rol32(b, 16)) | 0;
  a ^= c;
  a = (a - rol32(c, 4)) | 0;
  b ^= a;
  b = (b - rol32(a, 14)) | 0;
  c ^= b;
  c = (c - rol32(b, 24)) | 0;
  return c >>> 0;
}

/** jhash2(k, length, initval). */
export function jhash2(k: readonly number[], initval: number): number {
  let length = k.length;
  let a = (JHASH_INITVAL + (length << 2) + initval) | 0;
  let b = a;
  let c = a;
  let i = 0;
  while (length > 3) {
    a = (a + k[i]!) | 0;
    b = (b + k[i + 1]!) | 0;
    c = (c + k[i + 2]!) | 0;
    // __jhash_mix
    a = (a - c) | 0;
    a ^= rol32(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rol32(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rol32(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rol32(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rol32(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rol32(b, 4);
    b = (b + a) | 0;
    length -= 3;
    i += 3;
  }
  if (length === 0) return c >>> 0;
  if (length === 3) c = (c + k[i + 2]!) | 0;
  if (length >= 2) b = (b + k[i + 1]!) | 0;
  a = (a + k[i]!) | 0;
  return jhashFinal(a, b, c);
}

/** jhash2() of `n` (1 to 3) words given one by one: no array per element. */
export function jhashWords(n: number, w0: number, w1: number, w2: number, initval: number): number {
  let a = (JHASH_INITVAL + (n << 2) + initval) | 0;
  let b = a;
  let c = a;
  if (n === 3) c = (c + w2) | 0;
  if (n >= 2) b = (b + w1) | 0;
  a = (a + w0) | 0;
  return jhashFinal(a, b, c);
}

/** A network-order IPv4 address as the little-endian u32 the kernel loads from memory. */
export function bswap32(x: number): number {
  return (
    (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff)) >>> 0
  );
}
