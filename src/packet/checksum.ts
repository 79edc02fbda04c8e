// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Sums are kept "unfolded" (a plain JS number, exact up to 2^53) while adding
// 16-bit big-endian words, then folded with end-around carry once at the end.

/** Fold an unfolded one's-complement sum to 16 bits (end-around carry). */
export function fold(acc: number): number {
  while (acc > 0xffff) {
    // `acc & 0xffff` is exact for any integer; `>>> 16` only below 2^32.
    acc = (acc & 0xffff) + (acc > 0xffffffff ? Math.floor(acc / 0x10000) : acc >>> 16);
  }
  return acc;
}

/**
 * Add the 16-bit big-endian words of bytes[start, end) to `acc` (unfolded).
 * An odd trailing byte is padded with a zero byte on the right (RFC 1071 §4.1).
 */
export function onesSum(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  const even = end - ((end - start) & 1);
  // Sum in chunks of 2^15 words, so a chunk's sum stays below 2^31 (2^15 * 0xffff) and the
  // inner loop adds small integers. `acc` takes each chunk unfolded: it is exact up to
  // 2^53, and fold() copes with sums beyond 2^32.
  while (i < even) {
    const stop = Math.min(even, i + 0x10000);
    let s = 0;
    for (; i < stop; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
    acc += s;
  }
  if (i < end) acc += bytes[i]! << 8;
  return acc;
}

/** RFC 1071 checksum of bytes[start, end): the one's complement of the folded sum. */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return ~fold(onesSum(bytes, start, end)) & 0xffff;
}

/** Unfolded sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768): src, dst, 0, proto, length. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4Length;
}

/**
 * Checksum of an L4 segment bytes[off, off+len) with the pseudo-header, treating
 * the 16-bit checksum field at off+csumAt as zero (it is skipped, not read).
 * The raw result may be 0; UDP transmits that as 0xffff (see `udpChecksumFinal`).
 */
export function l4Checksum(
  bytes: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
  proto: number,
  csumAt: number,
): number {
  let acc = pseudoHeaderSum(src, dst, proto, len);
  acc = onesSum(bytes, off, off + csumAt, acc);
  acc = onesSum(bytes, off + csumAt + 2, off + len, acc);
  return ~fold(acc) & 0xffff;
}

/** RFC 768: a computed UDP checksum of zero is transmitted as all ones (0 means "none"). */
export function udpChecksumFinal(c: number): number {
  return c === 0 ? 0xffff : c;
}

/** True if the segment (checksum field included) sums to all ones with its pseudo-header. */
export function l4ChecksumValid(
  bytes: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
  proto: number,
): boolean {
  return fold(onesSum(bytes, off, off + len, pseudoHeaderSum(src, dst, proto, len))) === 0xffff;
}

// ---- Incremental update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') ----------
//
// A "delta" is the unfolded sum of (~m + m') over every changed 16-bit word;
// several field changes are summed into one delta and applied once per checksum.

/** Delta for one 16-bit word changing from `m` to `m1`. */
export function delta16(m: number, m1: number): number {
  return (~m & 0xffff) + (m1 & 0xffff);
}

/** Delta for one 32-bit field (e.g. an address) changing from `m` to `m1`: two words. */
export function delta32(m: number, m1: number): number {
  return (~m >>> 16) + (~m & 0xffff) + (m1 >>> 16) + (m1 & 0xffff);
}

/** Apply a delta to checksum `hc`: ~(~HC + delta), folded. */
export function applyDelta(hc: number, delta: number): number {
  let s = (~hc & 0xffff) + delta;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Apply a delta to a UDP checksum: 0 means "no checksum" and stays 0 (RFC 768);
 * a result of 0 is sent as 0xffff, its one's-complement equal.
 */
export function applyDeltaUdp(hc: number, delta: number): number {
  if (hc === 0) return 0;
  const r = applyDelta(hc, delta);
  return r === 0 ? 0xffff : r;
}

/** New checksum after one 16-bit field changes from `m` to `m1` (RFC 1624 eqn. 3). */
export function updateChecksum16(hc: number, m: number, m1: number): number {
  return applyDelta(hc, delta16(m, m1));
}

/** New checksum after one 32-bit field changes from `m` to `m1`. */
export function updateChecksum32(hc: number, m: number, m1: number): number {
  return applyDelta(hc, delta32(m, m1));
}
