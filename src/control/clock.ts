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
 * Float64Arrays, the timer itself and an argument for it beside them. Comparisons read two
 * numbers, never an object, and sifting moves a hole instead of swapping. The order is the
 * same total order as (at, priority, seq), so runs stay identical. `post()` queues a
 * function with no handle (packets in flight on a link: never cancelled), one object less
 * per event; `postArg()` also passes it one argument, so a link can queue the same
 * delivery function for every packet instead of a new closure per packet.
 */
const TIE_PRIORITY = 2 ** 52;
const NOOP = (): void => undefined;

/**
 * A normal-priority timer armed again and again with no new object per arming (a TCP
 * connection's retransmission timer is armed and cancelled a few times per exchange):
 * `clock.arm(t, delay)` does what cancel() of the pending arming and after() would, in the
 * same order; `clock.disarm(t)` what cancel() would. Each arming waits as an entry with
 * the timer's generation beside it: an entry of an older generation is a cancelled one.
 */
export class Timer {
  /** @internal Generation of the pending arming. */
  gen = 0;
  /** An arming is pending. */
  armed = false;
  /** @internal Where the pending arming waits: its FIFO, or undefined for the heap. */
  fifo: PostFifo | undefined = undefined;
  /** @internal Its position in that FIFO (kept up to date when the FIFO moves entries). */
  pos = 0;
  /**
   * `fn(owner)` runs when the timer fires: one function can serve every owner (a
   * connection's timer needs no closure of its own). Made by timerFor(), which types them.
   */
  private constructor(
    readonly fn: (owner: never) => void,
    readonly owner: unknown,
  ) {}

  /** A timer that calls `fn(owner)`. */
  static of<T>(fn: (owner: T) => void, owner: T): Timer {
    return new Timer(fn, owner);
  }
}

type Item = TimerHandle | Timer | ((arg: never) => void);

/** A queued entry that will not fire: a cancelled handle or an outdated timer arming. */
function isDead(t: Item, arg: unknown): boolean {
  if (typeof t === 'function') return false;
  if (t instanceof Timer) return !t.armed || t.gen !== arg;
  return t.cancelled;
}

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
  private readonly fifos: PostFifo[] = [];
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
    if (f !== undefined) f.add(this.nowNs + delayNs, this.seq++, t, t.gen);
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
    else if (++this.dead > 256 && this.dead * 2 > this.size) this.compact();
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
  private fifoFor(delayNs: number): PostFifo | undefined {
    const last = this.lastFifo;
    if (last !== undefined && last.delay === delayNs) return last;
    const f = this.findFifo(delayNs);
    if (f !== undefined) this.lastFifo = f;
    return f;
  }

  /** The FIFO fifoFor() returned last (a link posts a run of packets with one delay). */
  private lastFifo: PostFifo | undefined;

  private findFifo(delayNs: number): PostFifo | undefined {
    const fs = this.fifos;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f.delay !== delayNs) continue;
      // Move a hit one place forward: the busiest delays end up first (order is free:
      // the next event is chosen by (at, tie) over all of them).
      if (i > 0) {
        fs[i] = fs[i - 1]!;
        fs[i - 1] = f;
      }
      return f;
    }
    if (fs.length >= MAX_FIFOS) return undefined;
    const f = new PostFifo(delayNs);
    fs.push(f);
    return f;
  }

  /**
   * The FIFO whose head comes first in (at, tie) order, or undefined when all are empty;
   * that head's time and tie are left in fAt / fTie.
   */
  private firstFifo(): PostFifo | undefined {
    const fs = this.fifos;
    let best: PostFifo | undefined;
    let bAt = Infinity;
    let bTie = Infinity;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f.dead > 0) f.dropCancelled();
      if (f.head === f.tail) continue;
      const a = f.hAt;
      if (a < bAt || (a === bAt && f.hTie < bTie)) {
        best = f;
        bAt = a;
        bTie = f.hTie;
      }
    }
    this.fAt = bAt;
    this.fTie = bTie;
    return best;
  }

  /** Time and tie of the head firstFifo() found last. */
  private fAt = 0;
  private fTie = 0;

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
    else if (++this.dead > 256 && this.dead * 2 > this.size) this.compact();
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
    this.dropCancelled();
    const f = this.firstFifo();
    if (this.size === 0) return f === undefined ? undefined : this.fAt;
    const h = this.atQ[0]!;
    if (f === undefined) return h;
    const a = this.fAt;
    return a < h ? a : h;
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
    this.dropCancelled();
    let f = this.firstFifo();
    let at: number;
    let tie: number;
    if (f !== undefined) {
      at = this.fAt;
      tie = this.fTie;
      if (this.size > 0 && (this.atQ[0]! < at || (this.atQ[0] === at && this.tieQ[0]! < tie))) {
        at = this.atQ[0]!;
        tie = this.tieQ[0]!;
      }
    } else if (this.size > 0) {
      at = this.atQ[0]!;
      tie = this.tieQ[0]!;
    } else return 0;
    if (at > limit) return 0;
    if (at > this.nowNs) this.nowNs = at;
    // The batch: every entry at `at` whose tie lies in the same priority band.
    const lo = Math.floor(tie / TIE_PRIORITY) * TIE_PRIORITY;
    const hi = lo + TIE_PRIORITY;
    let n = 0;
    for (;;) {
      this.dropCancelled();
      f = this.firstFifo();
      // Which comes first: the heap's top or the first FIFO's head?
      let fromHeap: boolean;
      if (f === undefined) {
        if (this.size === 0) return n;
        fromHeap = true;
      } else if (this.size === 0) fromHeap = false;
      else {
        const ha = this.atQ[0]!;
        const fa = this.fAt;
        fromHeap = ha < fa || (ha === fa && this.tieQ[0]! < this.fTie);
      }
      if (fromHeap) {
        const k = this.tieQ[0]!;
        if (this.atQ[0] !== at || k < lo || k >= hi) return n;
        const t = this.itemQ[0]!;
        const arg = this.argQ[0];
        this.pop();
        this.fired++;
        n++;
        if (typeof t === 'function') (t as (arg: unknown) => void)(arg);
        else if (t instanceof Timer) {
          t.armed = false;
          (t.fn as (owner: unknown) => void)(t.owner);
        } else {
          t.cancelled = true;
          t.fn();
        }
      } else {
        const k = this.fTie;
        if (this.fAt !== at || k < lo || k >= hi) return n;
        const t = f!.headItem();
        const arg = f!.shift();
        this.fired++;
        n++;
        if (typeof t === 'function') (t as (arg: unknown) => void)(arg);
        else if (t instanceof Timer) {
          t.armed = false;
          (t.fn as (owner: unknown) => void)(t.owner);
        } else {
          t.cancelled = true;
          t.fn();
        }
      }
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

/** What a cancelled Timer arming leaves in its FIFO. */
const DEAD: TimerHandle = Object.freeze({
  at: 0,
  priority: 0,
  seq: -1,
  cancelled: true,
  fn: NOOP,
});

/** At most this many delays get a FIFO; posts and timers of other delays go to the heap. */
const MAX_FIFOS = 16;

/** A timer handle waiting in a FIFO: cancel() tells the FIFO. */
interface FifoHandle extends TimerHandle {
  readonly fifo: PostFifo | undefined;
}

/**
 * Posts and normal-priority timers of one delay, in the order they were made: a ring
 * buffer in parallel arrays. Cancelled timers stay until they reach the head (or the
 * FIFO is compacted, when they are more than half of it); filtering keeps the order.
 */
class PostFifo {
  private at = new Float64Array(256);
  private tie = new Float64Array(256);
  private item: Item[] = new Array<Item>(256);
  private arg: unknown[] = new Array<unknown>(256);
  private mask = 255;
  /** Positions only grow; slot = position & mask. */
  head = 0;
  tail = 0;
  /** Cancelled timers still in the FIFO. */
  dead = 0;
  /** The head's time and tie (kept beside the ring: read for every event fired). */
  hAt = 0;
  hTie = 0;

  constructor(readonly delay: number) {}

  add(at: number, tie: number, item: Item, arg: unknown): void {
    if (this.tail - this.head > this.mask) this.grow(this.mask + 1);
    if (this.head === this.tail) {
      this.hAt = at;
      this.hTie = tie;
    }
    const i = this.tail & this.mask;
    this.at[i] = at;
    this.tie[i] = tie;
    this.item[i] = item;
    this.arg[i] = arg;
    if (item instanceof Timer) item.pos = this.tail;
    this.tail++;
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
    if (++this.dead > 256 && this.dead * 2 > this.tail - this.head) this.compact();
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

  private grow(n: number): void {
    const at = new Float64Array(n * 2);
    const tie = new Float64Array(n * 2);
    const item = new Array<Item>(n * 2);
    const arg = new Array<unknown>(n * 2);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & this.mask;
      at[k] = this.at[i]!;
      tie[k] = this.tie[i]!;
      const t = this.item[i]!;
      item[k] = t;
      arg[k] = this.arg[i];
      if (t instanceof Timer) t.pos = k;
    }
    this.at = at;
    this.tie = tie;
    this.item = item;
    this.arg = arg;
    this.mask = n * 2 - 1;
    this.head = 0;
    this.tail = n;
  }
}
