// A multiset of (u32, u32) keys in one Int32Array: open addressing with linear probing and
// backward-shift deletion (no tombstones), slots of [a, b, count, -], so a packet-path
// membership test touches one cache line and no object. The ipsets' packet-path index
// (ipset.ts): `hash:ip` members are (ip, 0), `hash:ip,port` members (ip, proto << 16 | port).
// The kernel's own set (bucket order, sizes) is modelled separately for `ipset list`.
// Not nftables' PairTable with counts as values: tried, and the ipvs first packet at 10,000
// Services was 0.81-0.83x as fast (bench/classify-ab.ts), so the test stays this direct.

const STRIDE = 4;

function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b + 0x7f4a7c15) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h ^ (h >>> 16);
}

export class PairIndex {
  private slots = new Int32Array(16 * STRIDE);
  private mask = 15;
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** Whether (a, b) is present. */
  has(a: number, b: number): boolean {
    const s = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    for (let i = hash2(ka, kb) & mask; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      if (s[o + 2] === 0) return false;
      if (s[o] === ka && s[o + 1] === kb) return true;
    }
  }

  /** One more of (a, b). */
  add(a: number, b: number): void {
    if ((this.used + 1) * 2 > this.mask + 1) this.grow();
    this.put(a | 0, b | 0, 1);
  }

  /** One fewer of (a, b); the key leaves with its last count. */
  remove(a: number, b: number): void {
    const s = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    let i = hash2(ka, kb) & mask;
    for (; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      if (s[o + 2] === 0) return;
      if (s[o] === ka && s[o + 1] === kb) break;
    }
    if (--s[i * STRIDE + 2]! > 0) return;
    this.used--;
    // Backward shift: pull later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; s[j * STRIDE + 2] !== 0; j = (j + 1) & mask) {
      const o = j * STRIDE;
      const home = hash2(s[o]!, s[o + 1]!) & mask;
      // j's member moves into the hole unless its home lies cyclically inside (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        s.copyWithin(hole * STRIDE, o, o + STRIDE);
        hole = j;
      }
    }
    s.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
  }

  private put(ka: number, kb: number, n: number): void {
    const s = this.slots;
    const mask = this.mask;
    for (let i = hash2(ka, kb) & mask; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      if (s[o + 2] === 0) {
        s[o] = ka;
        s[o + 1] = kb;
        s[o + 2] = n;
        this.used++;
        return;
      }
      if (s[o] === ka && s[o + 1] === kb) {
        s[o + 2] = s[o + 2]! + n;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = new Int32Array(cap * STRIDE);
    this.mask = cap - 1;
    this.used = 0;
    for (let o = 0; o < old.length; o += STRIDE) {
      if (old[o + 2] !== 0) this.put(old[o]!, old[o + 1]!, old[o + 2]!);
    }
  }
}
