// A de-duplicating FIFO of keys, like client-go's workqueue: a key added again before
// it is processed is processed once, so a burst of events costs one reconcile.
import type { KubeObject } from '../api/types.ts';
import type { Store, StoreHandle } from './store.ts';

export class WorkQueue {
  private queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();

  add(key: string): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Next key, or undefined when empty. The key may be re-added while it is processed. */
  next(): string | undefined {
    if (this.head >= this.queue.length) {
      if (this.head > 0) {
        this.queue = [];
        this.head = 0;
      }
      return undefined;
    }
    const key = this.queue[this.head++]!;
    this.queued.delete(key);
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return key;
  }
}

/**
 * A WorkQueue of store handles for kinds with many objects (pods): membership is a bit
 * on the handle instead of a Set entry, so add/next touch no hash table. Dedup is per
 * handle: a deleted object and its same-named successor may both be queued (a sync of
 * the key twice, which reconcilers tolerate).
 */
export class HandleQueue<T extends KubeObject> {
  private queue: StoreHandle<T>[] = [];
  private head = 0;
  private readonly bit: number;

  constructor(store: Store) {
    this.bit = store.queueBit();
  }

  add(h: StoreHandle<T>): void {
    if ((h.queued & this.bit) !== 0) return;
    h.queued |= this.bit;
    this.queue.push(h);
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Next handle, or undefined when empty. The handle may be re-added while it is processed. */
  next(): StoreHandle<T> | undefined {
    if (this.head >= this.queue.length) {
      if (this.head > 0) {
        this.queue = [];
        this.head = 0;
      }
      return undefined;
    }
    const h = this.queue[this.head]!;
    // Drop the reference: a processed handle of a deleted object can be collected.
    this.queue[this.head++] = undefined as unknown as StoreHandle<T>;
    h.queued &= ~this.bit;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return h;
  }
}

/** Process every handle in `queue` (including ones added meanwhile) with `sync`. */
export function drainHandles<T extends KubeObject>(
  queue: HandleQueue<T>,
  sync: (h: StoreHandle<T>) => void,
): boolean {
  let worked = false;
  for (let h = queue.next(); h !== undefined; h = queue.next()) {
    sync(h);
    worked = true;
  }
  return worked;
}

/** A reconciler the Cluster drives: `drain` processes queued work, true if it did any. */
export interface Controller {
  readonly name: string;
  drain(): boolean;
}

/** Process every key in `queue` (including keys added meanwhile) with `sync`. */
export function drainQueue(queue: WorkQueue, sync: (key: string) => void): boolean {
  let worked = false;
  for (let key = queue.next(); key !== undefined; key = queue.next()) {
    sync(key);
    worked = true;
  }
  return worked;
}
