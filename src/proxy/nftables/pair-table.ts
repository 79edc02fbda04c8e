// The hash behind nftables sets and verdict maps: a key of two u32 words (for
// kube-proxy's maps `ipv4_addr . inet_proto . inet_service` that is the address and
// proto<<16|port) to a small integer, in open-addressed typed arrays with linear
// probing. A lookup costs the same with ten elements or a million, which is what the
// kernel's nft_set_hash gives kube-proxy's nftables mode over iptables' chain walk.

const EMPTY = -1;

/** Mix two words into a 32-bit hash (murmur3 finalizer over a combined word). */
function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b + 0x7f4a7c15) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class PairTable {
  private ka: Uint32Array;
  private kb: Uint32Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 4) {
    let cap = 8;
    while (cap < expected * 2) cap *= 2;
    this.ka = new Uint32Array(cap);
    this.kb = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    const ka = this.ka;
    const kb = this.kb;
    const vals = this.vals;
    const mask = this.mask;
    let i = hash2(a, b) & mask;
    for (;;) {
      const v = vals[i]!;
      if (v === EMPTY) return EMPTY;
      if (ka[i] === a >>> 0 && kb[i] === b >>> 0) return v;
      i = (i + 1) & mask;
    }
  }

  has(a: number, b: number): boolean {
    return this.get(a, b) !== EMPTY;
  }

  /** Insert or replace; `value` must be >= 0. */
  set(a: number, b: number, value: number): void {
    if ((this.count + 1) * 2 > this.vals.length) this.grow();
    const mask = this.mask;
    let i = hash2(a, b) & mask;
    for (;;) {
      const v = this.vals[i]!;
      if (v === EMPTY) {
        this.ka[i] = a;
        this.kb[i] = b;
        this.vals[i] = value;
        this.count++;
        return;
      }
      if (this.ka[i] === a >>> 0 && this.kb[i] === b >>> 0) {
        this.vals[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { ka, kb, vals } = this;
    const cap = vals.length * 2;
    this.ka = new Uint32Array(cap);
    this.kb = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i]!;
      if (v !== EMPTY) this.set(ka[i]!, kb[i]!, v);
    }
  }
}
