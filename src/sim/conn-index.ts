// A host's TCP connections by 4-tuple, for the per-packet lookup: an open-addressing hash
// table whose keys (local address, local port, remote address, remote port) are four words
// of an Int32Array, the connection in a slot array beside them. Linear probing, deletion by
// shifting the following entries back (no tombstones), grown at half load. A lookup builds
// no string and no number key object, and adding a connection allocates nothing until
// the table grows.

const WORDS = 4;
const MIN_CAPACITY = 16;

function slotHash(lip: number, lport: number, rip: number, rport: number): number {
  let h = Math.imul(rip ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul((rport << 16) | lport, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2f);
  h ^= Math.imul(lip, 0x165667b1);
  return (h ^ (h >>> 13)) >>> 0;
}

export class ConnIndex<T> {
  private keys: Int32Array;
  private vals: (T | undefined)[];
  private mask: number;
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    let c = MIN_CAPACITY;
    while (c < capacity) c *= 2;
    this.keys = new Int32Array(c * WORDS);
    this.vals = new Array<T | undefined>(c).fill(undefined);
    this.mask = c - 1;
  }

  get(lip: number, lport: number, rip: number, rport: number): T | undefined {
    const k = this.keys;
    const v = this.vals;
    const m = this.mask;
    lip |= 0;
    rip |= 0;
    for (let i = slotHash(lip, lport, rip, rport) & m; ; i = (i + 1) & m) {
      const x = v[i];
      if (x === undefined) return undefined;
      const o = i * WORDS;
      if (k[o] === lip && k[o + 1] === lport && k[o + 2] === rip && k[o + 3] === rport) return x;
    }
  }

  /** Add or replace the entry for this 4-tuple. */
  set(lip: number, lport: number, rip: number, rport: number, value: T): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow();
    const k = this.keys;
    const v = this.vals;
    const m = this.mask;
    lip |= 0;
    rip |= 0;
    let i = slotHash(lip, lport, rip, rport) & m;
    for (; v[i] !== undefined; i = (i + 1) & m) {
      const o = i * WORDS;
      if (k[o] === lip && k[o + 1] === lport && k[o + 2] === rip && k[o + 3] === rport) {
        v[i] = value;
        return;
      }
    }
    const o = i * WORDS;
    k[o] = lip;
    k[o + 1] = lport;
    k[o + 2] = rip;
    k[o + 3] = rport;
    v[i] = value;
    this.size++;
  }

  /** Remove the entry for this 4-tuple; false if there was none. */
  delete(lip: number, lport: number, rip: number, rport: number): boolean {
    const k = this.keys;
    const v = this.vals;
    const m = this.mask;
    lip |= 0;
    rip |= 0;
    let i = slotHash(lip, lport, rip, rport) & m;
    for (; ; i = (i + 1) & m) {
      if (v[i] === undefined) return false;
      const o = i * WORDS;
      if (k[o] === lip && k[o + 1] === lport && k[o + 2] === rip && k[o + 3] === rport) break;
    }
    // Shift later members of the probe run back into the hole (Knuth's algorithm R).
    for (let j = (i + 1) & m; v[j] !== undefined; j = (j + 1) & m) {
      const o = j * WORDS;
      const home = slotHash(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!) & m;
      // Move j into the hole i unless its home lies cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      k.copyWithin(i * WORDS, o, o + WORDS);
      v[i] = v[j];
      i = j;
    }
    v[i] = undefined;
    this.size--;
    return true;
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    const c = oldV.length * 2;
    this.keys = new Int32Array(c * WORDS);
    this.vals = new Array<T | undefined>(c).fill(undefined);
    this.mask = c - 1;
    this.size = 0;
    for (let i = 0; i < oldV.length; i++) {
      const x = oldV[i];
      if (x === undefined) continue;
      const o = i * WORDS;
      this.set(oldK[o]!, oldK[o + 1]!, oldK[o + 2]!, oldK[o + 3]!, x);
    }
  }
}
