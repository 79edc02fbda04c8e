// Tuple hash for the conntrack buckets. The kernel uses siphash with a boot-time random seed
// (hash_conntrack_raw in nf_conntrack_core.c); a seeded murmur3 mix keeps runs reproducible.

/** Pack two 16-bit ports into one u32 key word: sport in the high half (ICMP: id, type<<8|code). */
export function packPorts(sport: number, dport: number): number {
  return (((sport & 0xffff) << 16) | (dport & 0xffff)) >>> 0;
}

function mixIn(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Hash of (proto, src, dst, packed ports) under `seed`: a 31-bit non-negative integer. */
export function hashTuple(
  seed: number,
  proto: number,
  src: number,
  dst: number,
  ports: number,
): number {
  let h = seed | 0;
  h = mixIn(h, src);
  h = mixIn(h, dst);
  h = mixIn(h, ports);
  h = mixIn(h, proto);
  h ^= 16;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff; // stays a small integer in V8: no heap number, integer modulo
}
