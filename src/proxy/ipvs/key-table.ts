// A map from three u32 words to a non-zero int in one Int32Array: open addressing with linear
// probing and backward-shift deletion (no tombstones), slots of [a, b, c, value], so a lookup
// touches one cache line and no object. The ipsets keep their members here (ipset.ts: the
// packet path's membership test is one get()) and kube-ipsets.ts its reference counts; a
// member is its element's parts as words, never a parsed string.
// (It replaces a (u32, u32) multiset that was tuned for the packet path: the third word costs
// one multiply in the hash, and a two-part member leaves it 0.)

const STRIDE = 4;

function hash3(a: number, b: number, c: number): number {
  let h =
    Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^
    Math.imul((b + 0x7f4a7c15) | 0, 0xc2b2ae35) ^
    Math.imul(c, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h ^ (h >>> 16);
}

export class KeyTable {
  private slots = new Int32Array(16 * STRIDE);
  private mask = 15;
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** The value of (a, b, c), or 0 when absent. */
  get(a: number, b: number, c: number): number {
    const s = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    const kc = c | 0;
    for (let i = hash3(ka, kb, kc) & mask; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      const v = s[o + 3]!;
      if (v === 0) return 0;
      if (s[o] === ka && s[o + 1] === kb && s[o + 2] === kc) return v;
    }
  }

  /** Set (a, b, c) to `v`; 0 deletes it. */
  set(a: number, b: number, c: number, v: number): void {
    if (v === 0) {
      this.delete(a, b, c);
      return;
    }
    if ((this.used + 1) * 2 > this.mask + 1) this.grow();
    const s = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    const kc = c | 0;
    for (let i = hash3(ka, kb, kc) & mask; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      if (s[o + 3] === 0) {
        s[o] = ka;
        s[o + 1] = kb;
        s[o + 2] = kc;
        s[o + 3] = v;
        this.used++;
        return;
      }
      if (s[o] === ka && s[o + 1] === kb && s[o + 2] === kc) {
        s[o + 3] = v;
        return;
      }
    }
  }

  /** Remove (a, b, c); false if it was absent. */
  delete(a: number, b: number, c: number): boolean {
    const s = this.slots;
    const mask = this.mask;
    const ka = a | 0;
    const kb = b | 0;
    const kc = c | 0;
    let i = hash3(ka, kb, kc) & mask;
    for (; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      if (s[o + 3] === 0) return false;
      if (s[o] === ka && s[o + 1] === kb && s[o + 2] === kc) break;
    }
    this.used--;
    // Backward shift: pull later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; s[j * STRIDE + 3] !== 0; j = (j + 1) & mask) {
      const o = j * STRIDE;
      const home = hash3(s[o]!, s[o + 1]!, s[o + 2]!) & mask;
      // j's member moves into the hole unless its home lies cyclically inside (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        s.copyWithin(hole * STRIDE, o, o + STRIDE);
        hole = j;
      }
    }
    s.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = new Int32Array(cap * STRIDE);
    this.mask = cap - 1;
    this.used = 0;
    for (let o = 0; o < old.length; o += STRIDE) {
      if (old[o + 3] !== 0) this.set(old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!);
    }
  }
}
