// The hash behind nftables sets and verdict maps: a key of two u32 words (for
// kube-proxy's maps `ipv4_addr . inet_proto . inet_service` that is the address and
// proto<<16|port) to a non-negative integer, open-addressed with linear probing in
// one Int32Array of [a, b, value, -] slots, so a probe touches one cache line. A
// lookup costs the same with ten elements or a million, which is what the kernel's
// nft_set_hash gives kube-proxy's nftables mode over iptables' chain walk.

const EMPTY = -1;
const STRIDE = 4;

/** Mix two words into a 32-bit hash (murmur3's finalizer over a combined word). */
function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b + 0x7f4a7c15) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class PairTable {
  private slots: Int32Array;
  /** Slot count - 1 (a power of two minus one). */
  private mask: number;
  private count = 0;

  constructor(expected = 4) {
    let cap = 8;
    while (cap < expected * 2) cap *= 2;
    this.slots = PairTable.emptySlots(cap);
    this.mask = cap - 1;
  }

  private static emptySlots(cap: number): Int32Array {
    const s = new Int32Array(cap * STRIDE);
    for (let i = 2; i < s.length; i += STRIDE) s[i] = EMPTY;
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    let i = hash2(a, b) & mask;
    for (;;) {
      const o = i * STRIDE;
      const v = slots[o + 2]!;
      if (v === EMPTY || (slots[o] === ka && slots[o + 1] === kb)) return v;
      i = (i + 1) & mask;
    }
  }

  has(a: number, b: number): boolean {
    return this.get(a, b) !== EMPTY;
  }

  /** Insert or replace; `value` must be >= 0. */
  set(a: number, b: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    let i = hash2(a, b) & mask;
    for (;;) {
      const o = i * STRIDE;
      if (slots[o + 2] === EMPTY) {
        slots[o] = a;
        slots[o + 1] = b;
        slots[o + 2] = value;
        this.count++;
        return;
      }
      if (slots[o] === (a | 0) && slots[o + 1] === (b | 0)) {
        slots[o + 2] = value;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Every (a, b, value), in slot order. */
  forEach(f: (a: number, b: number, value: number) => void): void {
    const slots = this.slots;
    for (let o = 0; o < slots.length; o += STRIDE) {
      if (slots[o + 2] !== EMPTY) f(slots[o]!, slots[o + 1]!, slots[o + 2]!);
    }
  }

  /** A copy with every stored value v replaced by f(v) (f must return values >= 0). */
  mapped(f: (v: number) => number): PairTable {
    const t = new PairTable();
    t.slots = this.slots.slice();
    t.mask = this.mask;
    t.count = this.count;
    t.remap(f);
    return t;
  }

  /** Replace every stored value v with f(v) (f must return values >= 0). */
  remap(f: (v: number) => number): void {
    const slots = this.slots;
    for (let o = 2; o < slots.length; o += STRIDE) {
      const v = slots[o]!;
      if (v !== EMPTY) slots[o] = f(v);
    }
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = PairTable.emptySlots(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let o = 0; o < old.length; o += STRIDE) {
      const v = old[o + 2]!;
      if (v !== EMPTY) this.set(old[o]!, old[o + 1]!, v);
    }
  }
}
