// A de-duplicating FIFO of keys, like client-go's workqueue: a key added again before
// it is processed is processed once, so a burst of events costs one reconcile.

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
