// A virtual clock in nanoseconds with a timer queue. Nothing here reads real time:
// the Cluster moves `now` forward and fires due timers one at a time, settling the
// controllers in between, so every run is reproducible.
import { DelayFifo } from './delay-fifo.ts';
import { NOOP, fire, isDead } from './timer.ts';
import type { FifoHandle, Item, Timer, TimerHandle } from './timer.ts';

export { Timer } from './timer.ts';
export type { TimerHandle } from './timer.ts';

export const NANOSECOND = 1;
export const MICROSECOND = 1_000;
export const MILLISECOND = 1_000_000;
export const SECOND = 1_000_000_000;

/** Timers of a lower priority run first among timers due at the same instant. */
export const enum TimerPriority {
  Normal = 0,
  /** Runs after all normal work at the same instant (the proxy sync runner). */
  Late = 1,
}

/**
 * The timer queue is a binary heap kept as parallel arrays: the firing time and a tie-break
 * key (priority, then insertion order: `priority * 2^52 + seq`, exact in a double) in
 * Float64Arrays, the timer itself and an argument for it beside them. Comparisons read two
 * numbers, never an object, and sifting moves a hole instead of swapping. The order is the
 * same total order as (at, priority, seq), so runs stay identical. `post()` queues a
 * function with no handle (packets in flight on a link: never cancelled), one object less
 * per event; `postArg()` also passes it one argument, so a link can queue the same
 * delivery function for every packet instead of a new closure per packet.
 */
const TIE_PRIORITY = 2 ** 52;
/** At most this many delays get a FIFO; posts and timers of other delays go to the heap. */
const MAX_FIFOS = 16;

/** @internal Sizes for tests (see the VirtualClock constructor). */
export interface ClockTuning {
  fifoSize?: number;
  compactMin?: number;
}

/** scan()'s answers that are not a FIFO's index. */
const NONE = -1;
const HEAP = -2;

export class VirtualClock {
  private nowNs: number;
  private atQ = new Float64Array(1024);
  private tieQ = new Float64Array(1024);
  private itemQ: Item[] = [];
  private argQ: unknown[] = [];
  private size = 0;
  private seq = 0;
  /** Cancelled handles still in the heap (dropped when they reach the top, or compacted). */
  private dead = 0;
  /**
   * Posts by delay: what post() queues with one delay is already in (at, tie) order (now
   * only moves forward, seq only grows), so it waits in a FIFO instead of the heap, and
   * the next event is the least of the heap's top and the FIFOs' heads. Links post every
   * packet with their own fixed latency: most events never touch the heap.
   */
  private readonly fifos: DelayFifo[] = [];
  /** Timers fired so far. */
  fired = 0;

  /**
   * `tuning` is for tests: a FIFO's first ring size (a power of two) and how many cancelled
   * entries a FIFO or the heap holds before it may be compacted. Small values make the
   * rings grow and compact in short runs; the firing order never depends on them.
   */
  constructor(startNs = 0, tuning: ClockTuning = {}) {
    this.nowNs = startNs;
    this.fifoSize = tuning.fifoSize ?? 256;
    this.compactMin = tuning.compactMin ?? 256;
  }

  private readonly fifoSize: number;
  private readonly compactMin: number;

  now(): number {
    return this.nowNs;
  }

  /** Move time forward without firing anything (the Cluster fires timers itself). */
  setNow(ns: number): void {
    if (ns < this.nowNs)
      throw new Error(`virtual time cannot go backwards (${ns} < ${this.nowNs})`);
    this.nowNs = ns;
  }

  /** Run `fn` at absolute time `at` (clamped to now). */
  schedule(at: number, fn: () => void, priority: number = TimerPriority.Normal): TimerHandle {
    const t: FifoHandle = {
      at: Math.max(at, this.nowNs),
      priority,
      seq: this.seq++,
      cancelled: false,
      fn,
      fifo: undefined,
    };
    this.push(t.at, priority * TIE_PRIORITY + t.seq, t, undefined);
    return t;
  }

  /** Run `fn` after `delayNs`. */
  after(delayNs: number, fn: () => void, priority: number = TimerPriority.Normal): TimerHandle {
    // Normal timers of a delay seen before (retransmission, TIME-WAIT, keep-alive...) wait
    // in that delay's FIFO, like posts: the same order, no sifting through the heap.
    const f = priority === 0 && delayNs >= 0 ? this.fifoFor(delayNs) : undefined;
    if (f === undefined) return this.schedule(this.nowNs + delayNs, fn, priority);
    const t: FifoHandle = {
      at: this.nowNs + delayNs,
      priority,
      seq: this.seq++,
      cancelled: false,
      fn,
      fifo: f,
    };
    f.add(t.at, t.seq, t, undefined);
    return t;
  }

  /** (Re)arm `t` to fire after `delayNs`: cancel(its pending arming) + after(), no new handle. */
  arm(t: Timer, delayNs: number): void {
    this.disarm(t);
    t.gen++;
    t.armed = true;
    const f = delayNs >= 0 ? this.fifoFor(delayNs) : undefined;
    t.fifo = f;
    if (f !== undefined) t.pos = f.add(this.nowNs + delayNs, this.seq++, t, t.gen);
    else {
      const at = this.nowNs + delayNs;
      this.push(at < this.nowNs ? this.nowNs : at, this.seq++, t, t.gen);
    }
  }

  /** Cancel `t`'s pending arming, if any (what cancel() does for a handle). */
  disarm(t: Timer): void {
    if (!t.armed) return;
    t.armed = false;
    const f = t.fifo;
    // The FIFO lets go of the timer at once (its owner, e.g. a closed connection, must not
    // stay alive until the entry reaches the head or a compaction).
    if (f !== undefined) f.kill(t.pos);
    else if (++this.dead > this.compactMin && this.dead * 2 > this.size) this.compact();
  }

  /**
   * Run `fn` after `delayNs` at normal priority, in the same order `after()` would, but with
   * no handle: it cannot be cancelled.
   */
  post(delayNs: number, fn: () => void): void {
    this.postArg(delayNs, fn, undefined);
  }

  /** post() for `fn(arg)`: the same order, no closure needed to carry the argument. */
  postArg<T>(delayNs: number, fn: (arg: T) => void, arg: T): void {
    const at = this.nowNs + delayNs;
    const f = delayNs >= 0 ? this.fifoFor(delayNs) : undefined;
    if (f !== undefined) f.add(at, this.seq++, fn as (arg: never) => void, arg);
    else this.push(at < this.nowNs ? this.nowNs : at, this.seq++, fn as (arg: never) => void, arg);
  }

  /** The FIFO of posts with this delay (made on first use, up to MAX_FIFOS of them). */
  private fifoFor(delayNs: number): DelayFifo | undefined {
    const last = this.lastFifo;
    if (last !== undefined && last.delay === delayNs) return last;
    // The delays in a typed array: the scan compares numbers without loading each FIFO.
    const ds = this.fifoDelays;
    const n = this.fifos.length;
    for (let i = 0; i < n; i++) {
      if (ds[i] !== delayNs) continue;
      return (this.lastFifo = this.fifos[i]!);
    }
    if (n >= MAX_FIFOS) return undefined;
    const f = new DelayFifo(delayNs, this.fifoSize, this.compactMin);
    ds[n] = delayNs;
    this.fifos.push(f);
    return (this.lastFifo = f);
  }

  /** The FIFO fifoFor() returned last (a link posts a run of packets with one delay). */
  private lastFifo: DelayFifo | undefined;
  private readonly fifoDelays = new Float64Array(MAX_FIFOS);

  /**
   * Find the first live entry in (at, tie) order: returns the index of its FIFO, HEAP or
   * NONE, and leaves its time and tie in bAt / bTie and the next source's head (the least
   * of the other FIFOs' heads and the heap's top) in sAt / sTie.
   */
  private scan(): number {
    this.dropCancelled();
    let best = NONE;
    let bAt = Infinity;
    let bTie = Infinity;
    let sAt = Infinity;
    let sTie = Infinity;
    if (this.size > 0) {
      best = HEAP;
      bAt = this.atQ[0]!;
      bTie = this.tieQ[0]!;
    }
    const fs = this.fifos;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f.dead > 0) f.dropCancelled();
      if (f.head === f.tail) continue;
      const a = f.hAt;
      const k = f.hTie;
      if (a < bAt || (a === bAt && k < bTie)) {
        sAt = bAt;
        sTie = bTie;
        best = i;
        bAt = a;
        bTie = k;
      } else if (a < sAt || (a === sAt && k < sTie)) {
        sAt = a;
        sTie = k;
      }
    }
    this.bAt = bAt;
    this.bTie = bTie;
    this.sAt = sAt;
    this.sTie = sTie;
    return best;
  }

  /** What scan() found last: the first entry's time and tie, and the next source's. */
  private bAt = 0;
  private bTie = 0;
  private sAt = 0;
  private sTie = 0;

  /**
   * Cancel a timer. Its function is let go at once (a cancelled retransmission or keep-alive
   * timer must not keep its connection alive until its time would have come), and when
   * cancelled entries outnumber live ones the heap is rebuilt without them: the keys are
   * unique, so the order the live timers fire in does not depend on the heap's layout.
   */
  cancel(t: TimerHandle | undefined): void {
    if (t === undefined || t.cancelled) return;
    t.cancelled = true;
    (t as { fn: () => void }).fn = NOOP;
    const f = (t as FifoHandle).fifo;
    if (f !== undefined) f.cancelled();
    else if (++this.dead > this.compactMin && this.dead * 2 > this.size) this.compact();
  }

  /** Drop every cancelled entry and restore the heap property bottom-up (Floyd). */
  private compact(): void {
    const A = this.atQ;
    const K = this.tieQ;
    const I = this.itemQ;
    const G = this.argQ;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const t = I[i]!;
      if (isDead(t, G[i])) continue;
      A[n] = A[i]!;
      K[n] = K[i]!;
      I[n] = t;
      G[n] = G[i];
      n++;
    }
    I.length = n;
    G.length = n;
    this.size = n;
    this.dead = 0;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, A[i]!, K[i]!, I[i]!, G[i]);
  }

  /** Time of the earliest live timer, or undefined. */
  nextTime(): number | undefined {
    return this.scan() === NONE ? undefined : this.bAt;
  }

  /** Pending live timers. */
  pending(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (!isDead(this.itemQ[i]!, this.argQ[i])) n++;
    for (const f of this.fifos) n += f.tail - f.head - f.dead;
    return n;
  }

  /**
   * Fire the earliest timer due at or before `limit`, moving now to its time, together
   * with every other timer of the same instant and priority (one batch, so the
   * controllers see a burst of same-instant events at once). Returns the number fired.
   */
  fireNext(limit: number): number {
    let b = this.scan();
    if (b === NONE) return 0;
    const at = this.bAt;
    if (at > limit) return 0;
    if (at > this.nowNs) this.nowNs = at;
    // The batch: every entry at `at` whose tie lies in the same priority band.
    const lo = Math.floor(this.bTie / TIE_PRIORITY) * TIE_PRIORITY;
    const hi = lo + TIE_PRIORITY;
    let n = 0;
    for (;;) {
      const k = this.bTie;
      if (b === NONE || this.bAt !== at || k < lo || k >= hi) return n;
      if (b === HEAP) {
        const t = this.itemQ[0]!;
        const arg = this.argQ[0];
        this.pop();
        this.fired++;
        n++;
        fire(t, arg);
      } else {
        // A run from one FIFO: its entries come next while they precede the other sources'
        // heads and anything queued from now on (whose tie is at least this.seq). Within an
        // instant, a longer delay's entries were queued earlier: runs are long.
        const f = this.fifos[b]!;
        let stop = this.seq;
        if (this.sAt === at && this.sTie < stop) stop = this.sTie;
        do {
          const t = f.headItem();
          const arg = f.shift();
          this.fired++;
          n++;
          fire(t, arg);
          if (f.dead > 0) f.dropCancelled();
        } while (f.head !== f.tail && f.hAt === at && f.hTie < stop);
      }
      b = this.scan();
    }
  }

  private dropCancelled(): void {
    for (;;) {
      if (this.size === 0) return;
      if (!isDead(this.itemQ[0]!, this.argQ[0])) return;
      this.pop();
      this.dead--;
    }
  }

  private push(at: number, tie: number, item: Item, arg: unknown): void {
    if (this.size === this.atQ.length) {
      const a = new Float64Array(this.size * 2);
      a.set(this.atQ);
      this.atQ = a;
      const k = new Float64Array(this.size * 2);
      k.set(this.tieQ);
      this.tieQ = k;
    }
    const A = this.atQ;
    const K = this.tieQ;
    const I = this.itemQ;
    const G = this.argQ;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pa = A[p]!;
      if (pa < at || (pa === at && K[p]! < tie)) break;
      A[i] = pa;
      K[i] = K[p]!;
      I[i] = I[p]!;
      G[i] = G[p];
      i = p;
    }
    A[i] = at;
    K[i] = tie;
    I[i] = item;
    G[i] = arg;
  }

  private pop(): void {
    const n = --this.size;
    const item = this.itemQ.pop()!;
    const arg = this.argQ.pop();
    if (n === 0) return;
    // Sift the last entry down from the root.
    this.siftDown(0, this.atQ[n]!, this.tieQ[n]!, item, arg);
  }

  /** Put (at, tie, item, arg) at hole i or below it, moving smaller children up. */
  private siftDown(i: number, at: number, tie: number, item: Item, arg: unknown): void {
    const n = this.size;
    const A = this.atQ;
    const K = this.tieQ;
    const I = this.itemQ;
    const G = this.argQ;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      const r = m + 1;
      if (r < n && (A[r]! < A[m]! || (A[r] === A[m] && K[r]! < K[m]!))) m = r;
      if (at < A[m]! || (at === A[m] && tie < K[m]!)) break;
      A[i] = A[m]!;
      K[i] = K[m]!;
      I[i] = I[m]!;
      G[i] = G[m];
      i = m;
    }
    A[i] = at;
    K[i] = tie;
    I[i] = item;
    G[i] = arg;
  }
}
