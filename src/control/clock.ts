// A virtual clock in nanoseconds with a timer queue. Nothing here reads real time:
// the Cluster moves `now` forward and fires due timers one at a time, settling the
// controllers in between, so every run is reproducible.

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

export interface TimerHandle {
  readonly at: number;
  readonly priority: number;
  readonly seq: number;
  cancelled: boolean;
  readonly fn: () => void;
}

/**
 * The timer queue is a binary heap kept as parallel arrays: the firing time and a tie-break
 * key (priority, then insertion order: `priority * 2^52 + seq`, exact in a double) in
 * Float64Arrays, and the timer itself beside them. Comparisons read two numbers, never
 * an object, and sifting moves a hole instead of swapping. The order is the same total
 * order as (at, priority, seq), so runs stay identical. `post()` queues a function with
 * no handle (packets in flight on a link: never cancelled), one object less per event.
 */
const TIE_PRIORITY = 2 ** 52;

export class VirtualClock {
  private nowNs: number;
  private atQ = new Float64Array(1024);
  private tieQ = new Float64Array(1024);
  private itemQ: (TimerHandle | (() => void))[] = [];
  private size = 0;
  private seq = 0;
  /** Timers fired so far. */
  fired = 0;

  constructor(startNs = 0) {
    this.nowNs = startNs;
  }

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
    const t: TimerHandle = {
      at: Math.max(at, this.nowNs),
      priority,
      seq: this.seq++,
      cancelled: false,
      fn,
    };
    this.push(t.at, priority * TIE_PRIORITY + t.seq, t);
    return t;
  }

  /** Run `fn` after `delayNs`. */
  after(delayNs: number, fn: () => void, priority: number = TimerPriority.Normal): TimerHandle {
    return this.schedule(this.nowNs + delayNs, fn, priority);
  }

  /**
   * Run `fn` after `delayNs` at normal priority, in the same order `after()` would, but with
   * no handle: it cannot be cancelled.
   */
  post(delayNs: number, fn: () => void): void {
    const at = this.nowNs + delayNs;
    this.push(at < this.nowNs ? this.nowNs : at, this.seq++, fn);
  }

  cancel(t: TimerHandle | undefined): void {
    if (t !== undefined) t.cancelled = true;
  }

  /** Time of the earliest live timer, or undefined. */
  nextTime(): number | undefined {
    this.dropCancelled();
    return this.size > 0 ? this.atQ[0] : undefined;
  }

  /** Pending live timers. */
  pending(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const t = this.itemQ[i]!;
      if (typeof t === 'function' || !t.cancelled) n++;
    }
    return n;
  }

  /**
   * Fire the earliest timer due at or before `limit`, moving now to its time, together
   * with every other timer of the same instant and priority (one batch, so the
   * controllers see a burst of same-instant events at once). Returns the number fired.
   */
  fireNext(limit: number): number {
    this.dropCancelled();
    if (this.size === 0) return 0;
    const at = this.atQ[0]!;
    if (at > limit) return 0;
    if (at > this.nowNs) this.nowNs = at;
    const priority = Math.floor(this.tieQ[0]! / TIE_PRIORITY);
    let n = 0;
    for (;;) {
      this.dropCancelled();
      if (
        this.size === 0 ||
        this.atQ[0] !== at ||
        Math.floor(this.tieQ[0]! / TIE_PRIORITY) !== priority
      )
        return n;
      const t = this.itemQ[0]!;
      this.pop();
      this.fired++;
      n++;
      if (typeof t === 'function') t();
      else {
        t.cancelled = true;
        t.fn();
      }
    }
  }

  private dropCancelled(): void {
    for (;;) {
      if (this.size === 0) return;
      const t = this.itemQ[0]!;
      if (typeof t === 'function' || !t.cancelled) return;
      this.pop();
    }
  }

  private push(at: number, tie: number, item: TimerHandle | (() => void)): void {
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
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pa = A[p]!;
      if (pa < at || (pa === at && K[p]! < tie)) break;
      A[i] = pa;
      K[i] = K[p]!;
      I[i] = I[p]!;
      i = p;
    }
    A[i] = at;
    K[i] = tie;
    I[i] = item;
  }

  private pop(): void {
    const n = --this.size;
    const A = this.atQ;
    const K = this.tieQ;
    const I = this.itemQ;
    const item = I.pop()!;
    if (n === 0) return;
    // Sift the last entry down from the root.
    const at = A[n]!;
    const tie = K[n]!;
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      const r = m + 1;
      if (r < n && (A[r]! < A[m]! || (A[r] === A[m] && K[r]! < K[m]!))) m = r;
      if (at < A[m]! || (at === A[m] && tie < K[m]!)) break;
      A[i] = A[m]!;
      K[i] = K[m]!;
      I[i] = I[m]!;
      i = m;
    }
    A[i] = at;
    K[i] = tie;
    I[i] = item;
  }
}
