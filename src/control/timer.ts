// What the virtual clock queues: a handle (after/schedule), a reusable Timer (arm), or a
// bare function with one argument (post/postArg), and how each is fired or found dead.
import type { DelayFifo } from './delay-fifo.ts';

export interface TimerHandle {
  readonly at: number;
  readonly priority: number;
  readonly seq: number;
  cancelled: boolean;
  readonly fn: () => void;
}

/** A handle waiting in a FIFO (undefined: in the heap): cancel() tells the FIFO. */
export interface FifoHandle extends TimerHandle {
  readonly fifo: DelayFifo | undefined;
}

export const NOOP = (): void => undefined;

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
  fifo: DelayFifo | undefined = undefined;
  /** @internal Its position in that FIFO (kept up to date when the FIFO moves entries). */
  pos = 0;
  /**
   * `fn(owner)` runs when the timer fires: one function can serve every owner (a
   * connection's timer needs no closure of its own). Made by of(), which types them.
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

/** A queue entry; its argument (a post's, or a Timer arming's generation) is kept beside it. */
export type Item = TimerHandle | Timer | ((arg: never) => void);

/** What a cancelled Timer arming leaves in its FIFO. */
export const DEAD: TimerHandle = Object.freeze({
  at: 0,
  priority: 0,
  seq: -1,
  cancelled: true,
  fn: NOOP,
});

/** A queued entry that will not fire: a cancelled handle or an outdated timer arming. */
export function isDead(t: Item, arg: unknown): boolean {
  if (typeof t === 'function') return false;
  if (t instanceof Timer) return !t.armed || t.gen !== arg;
  return t.cancelled;
}

/** Fire a live entry: its function with its argument, a Timer's function, or a handle's. */
export function fire(t: Item, arg: unknown): void {
  if (typeof t === 'function') (t as (arg: unknown) => void)(arg);
  else if (t instanceof Timer) {
    t.armed = false;
    (t.fn as (owner: unknown) => void)(t.owner);
  } else {
    (t as { cancelled: boolean }).cancelled = true;
    t.fn();
  }
}
