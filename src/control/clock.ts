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

function before(a: TimerHandle, b: TimerHandle): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.priority !== b.priority) return a.priority < b.priority;
  return a.seq < b.seq;
}

export class VirtualClock {
  private nowNs: number;
  private readonly heap: TimerHandle[] = [];
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
    this.push(t);
    return t;
  }

  /** Run `fn` after `delayNs`. */
  after(delayNs: number, fn: () => void, priority: number = TimerPriority.Normal): TimerHandle {
    return this.schedule(this.nowNs + delayNs, fn, priority);
  }

  cancel(t: TimerHandle | undefined): void {
    if (t !== undefined) t.cancelled = true;
  }

  /** Time of the earliest live timer, or undefined. */
  nextTime(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Pending live timers. */
  pending(): number {
    let n = 0;
    for (const t of this.heap) if (!t.cancelled) n++;
    return n;
  }

  /**
   * Fire the earliest timer due at or before `limit`, moving now to its time, together
   * with every other timer of the same instant and priority (one batch, so the
   * controllers see a burst of same-instant events at once). Returns the number fired.
   */
  fireNext(limit: number): number {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.at > limit) return 0;
    if (top.at > this.nowNs) this.nowNs = top.at;
    const { at, priority } = top;
    let n = 0;
    for (;;) {
      this.dropCancelled();
      const t = this.heap[0];
      if (t === undefined || t.at !== at || t.priority !== priority) return n;
      this.pop();
      t.cancelled = true;
      this.fired++;
      n++;
      t.fn();
    }
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private push(t: TimerHandle): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
