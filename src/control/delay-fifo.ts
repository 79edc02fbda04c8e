// The clock's queue for one delay: what is queued with one delay is already in firing
// order (now only moves forward, sequence numbers only grow), so a ring buffer keeps it.
import { DEAD, NOOP, Timer, isDead } from './timer.ts';
import type { Item } from './timer.ts';

/**
 * Posts and normal-priority timers of one delay, in the order they were made: a ring
 * buffer in parallel arrays. Cancelled timers stay until they reach the head (or the
 * FIFO is compacted, when they are more than half of it); filtering keeps the order.
 */
export class DelayFifo {
  private at: Float64Array;
  private tie: Float64Array;
  private item: Item[];
  private arg: unknown[];
  private mask: number;
  /** Positions grow (back to 0 when the FIFO empties); slot = position & mask. */
  head = 0;
  tail = 0;
  /** Cancelled timers still in the FIFO. */
  dead = 0;
  /** The head's time and tie (kept beside the ring: read for every event fired). */
  hAt = 0;
  hTie = 0;

  /**
   * `size` (a power of two) is the ring's first size; cancelled timers are compacted away
   * once more than `compactMin` of them are more than half of the FIFO.
   */
  constructor(
    readonly delay: number,
    size: number,
    private readonly compactMin: number,
  ) {
    this.at = new Float64Array(size);
    this.tie = new Float64Array(size);
    this.item = new Array<Item>(size);
    this.arg = new Array<unknown>(size);
    this.mask = size - 1;
  }

  /** Queue an entry; returns its position (a Timer keeps it to be killed by). */
  add(at: number, tie: number, item: Item, arg: unknown): number {
    if (this.tail - this.head > this.mask) this.grow();
    if (this.head === this.tail) {
      this.hAt = at;
      this.hTie = tie;
    }
    const i = this.tail & this.mask;
    this.at[i] = at;
    this.tie[i] = tie;
    this.item[i] = item;
    this.arg[i] = arg;
    return this.tail++;
  }

  headItem(): Item {
    return this.item[this.head & this.mask]!;
  }

  /** Remove the head; returns its argument. */
  shift(): unknown {
    const i = this.head & this.mask;
    const a = this.arg[i];
    this.item[i] = NOOP;
    this.arg[i] = undefined;
    this.head++;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else {
      const j = this.head & this.mask;
      this.hAt = this.at[j]!;
      this.hTie = this.tie[j]!;
    }
    return a;
  }

  /** The Timer arming at position `pos` was cancelled: a dead entry takes its place. */
  kill(pos: number): void {
    const i = pos & this.mask;
    this.item[i] = DEAD;
    this.arg[i] = undefined;
    this.cancelled();
  }

  /** A timer in this FIFO was cancelled. */
  cancelled(): void {
    if (++this.dead > this.compactMin && this.dead * 2 > this.tail - this.head) this.compact();
  }

  /** Drop cancelled timers at the head. */
  dropCancelled(): void {
    while (this.head !== this.tail) {
      const i = this.head & this.mask;
      if (!isDead(this.item[i]!, this.arg[i])) return;
      this.shift();
      this.dead--;
    }
  }

  /** Remove every cancelled timer, keeping the others' order. */
  private compact(): void {
    const n = this.tail - this.head;
    let k = 0;
    for (let p = 0; p < n; p++) {
      const i = (this.head + p) & this.mask;
      const t = this.item[i]!;
      if (isDead(t, this.arg[i])) continue;
      const j = (this.head + k) & this.mask;
      this.at[j] = this.at[i]!;
      this.tie[j] = this.tie[i]!;
      this.item[j] = t;
      this.arg[j] = this.arg[i];
      if (t instanceof Timer) t.pos = this.head + k;
      k++;
    }
    for (let p = k; p < n; p++) {
      const i = (this.head + p) & this.mask;
      this.item[i] = NOOP;
      this.arg[i] = undefined;
    }
    this.tail = this.head + k;
    this.dead = 0;
    if (k > 0) {
      const j = this.head & this.mask;
      this.hAt = this.at[j]!;
      this.hTie = this.tie[j]!;
    }
  }

  /**
   * Double the ring. Slots are positions masked, so each array is concatenated with
   * itself: every live position finds its entry at `pos & mask` under the new mask too,
   * nothing moves (no timer's position changes), and the copies are native (this runs
   * rarely, so a loop here would run in the interpreter). The stale twin of each live
   * entry is cleared so that it keeps nothing alive.
   */
  private grow(): void {
    const n = this.mask + 1;
    const at = new Float64Array(2 * n);
    at.set(this.at);
    at.set(this.at, n);
    this.at = at;
    const tie = new Float64Array(2 * n);
    tie.set(this.tie);
    tie.set(this.tie, n);
    this.tie = tie;
    const item = this.item.concat(this.item);
    const arg = this.arg.concat(this.arg);
    this.mask = 2 * n - 1;
    // Live slots are [h, h + n) around the ring; the other n are the twins.
    const h = this.head & this.mask;
    if (h <= n) {
      item.fill(NOOP, 0, h).fill(NOOP, h + n);
      arg.fill(undefined, 0, h).fill(undefined, h + n);
    } else {
      item.fill(NOOP, h - n, h);
      arg.fill(undefined, h - n, h);
    }
    this.item = item;
    this.arg = arg;
  }
}
