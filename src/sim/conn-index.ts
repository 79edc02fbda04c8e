// A host's TCP connections by 4-tuple, for the per-packet lookup: an open-addressing hash
// table in one plain array, four words per slot — local address, remote address (both as
// int32: small integers, where a u32 past 2^31 would be a heap number), the two ports in
// one word, then the connection (undefined: empty). A probe reads one slot's words side
// by side, and the table is an ordinary array, not typed-array views of a backing store
// (one object and one cache line less per lookup, no ArrayBuffer to allocate when it
// grows). Linear probing, deletion by shifting the following entries back (no tombstones),
// grown at half load. A lookup builds no string and no number key object, and adding a
// connection allocates nothing until the table grows.

const WORDS = 4;
const MIN_CAPACITY = 16;

function slotHash(lip: number, ports: number, rip: number): number {
  let h = Math.imul(rip ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(ports, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2f);
  h ^= Math.imul(lip, 0x165667b1);
  return (h ^ (h >>> 13)) >>> 0;
}

type Slots<T> = (number | T | undefined)[];

function emptySlots<T>(capacity: number): Slots<T> {
  const s: Slots<T> = new Array<number | T | undefined>(capacity * WORDS).fill(0);
  for (let o = 3; o < s.length; o += WORDS) s[o] = undefined;
  return s;
}

export class ConnIndex<T> {
  private slots: Slots<T>;
  private mask: number;
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    let c = MIN_CAPACITY;
    while (c < capacity) c *= 2;
    this.slots = emptySlots(c);
    this.mask = c - 1;
  }

  get(lip: number, lport: number, rip: number, rport: number): T | undefined {
    const s = this.slots;
    const m = this.mask;
    lip |= 0;
    rip |= 0;
    const ports = (lport << 16) | rport;
    for (let i = slotHash(lip, ports, rip) & m; ; i = (i + 1) & m) {
      const o = i * WORDS;
      const x = s[o + 3];
      if (x === undefined) return undefined;
      if (s[o] === lip && s[o + 1] === rip && s[o + 2] === ports) return x as T;
    }
  }

  /** Add or replace the entry for this 4-tuple. */
  set(lip: number, lport: number, rip: number, rport: number, value: T): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.put(lip | 0, rip | 0, (lport << 16) | rport, value);
  }

  /** Remove the entry for this 4-tuple; false if there was none. */
  delete(lip: number, lport: number, rip: number, rport: number): boolean {
    const s = this.slots;
    const m = this.mask;
    lip |= 0;
    rip |= 0;
    const ports = (lport << 16) | rport;
    let i = slotHash(lip, ports, rip) & m;
    for (; ; i = (i + 1) & m) {
      const o = i * WORDS;
      if (s[o + 3] === undefined) return false;
      if (s[o] === lip && s[o + 1] === rip && s[o + 2] === ports) break;
    }
    // Shift later members of the probe run back into the hole (Knuth's algorithm R).
    for (let j = (i + 1) & m; s[j * WORDS + 3] !== undefined; j = (j + 1) & m) {
      const o = j * WORDS;
      const home = slotHash(s[o] as number, s[o + 2] as number, s[o + 1] as number) & m;
      // Move j into the hole i unless its home lies cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      const h = i * WORDS;
      s[h] = s[o];
      s[h + 1] = s[o + 1];
      s[h + 2] = s[o + 2];
      s[h + 3] = s[o + 3];
      i = j;
    }
    s[i * WORDS + 3] = undefined;
    this.size--;
    return true;
  }

  /** Set with the key words already made (lip and rip as int32, ports packed). */
  private put(lip: number, rip: number, ports: number, value: T): void {
    const s = this.slots;
    const m = this.mask;
    let i = slotHash(lip, ports, rip) & m;
    for (; s[i * WORDS + 3] !== undefined; i = (i + 1) & m) {
      const o = i * WORDS;
      if (s[o] === lip && s[o + 1] === rip && s[o + 2] === ports) {
        s[o + 3] = value;
        return;
      }
    }
    const o = i * WORDS;
    s[o] = lip;
    s[o + 1] = rip;
    s[o + 2] = ports;
    s[o + 3] = value;
    this.size++;
  }

  private grow(): void {
    const old = this.slots;
    const c = (this.mask + 1) * 2;
    this.slots = emptySlots(c);
    this.mask = c - 1;
    this.size = 0;
    for (let o = 0; o < old.length; o += WORDS) {
      const x = old[o + 3];
      if (x !== undefined)
        this.put(old[o] as number, old[o + 1] as number, old[o + 2] as number, x as T);
    }
  }
}
