// kube-proxy's change trackers (pkg/proxy/servicechangetracker.go,
// endpointschangetracker.go): one {previous, current} per object between two syncs.
// A later change to the same object folds into the pending entry (coalesced), and an
// entry whose previous and current look the same to kube-proxy is dropped: a
// status-only or resourceVersion-only update, or an add followed by a delete.
import type { KubeObject } from '../api/types.ts';
import { objectKey } from './objects.ts';

/**
 * What kube-proxy sees of an object, as a comparable string; null when kube-proxy
 * ignores the object entirely (e.g. a headless Service).
 */
export type Projection<T> = (obj: T) => string | null;

/** The cheap half of a Projection: true when it would return null. */
export type Ignored<T> = (obj: T) => boolean;

export interface Change<T> {
  key: string;
  previous?: T;
  current?: T;
}

interface Pending<T> extends Change<T> {
  /** previous / current exist and kube-proxy does not ignore them. */
  previousSeen: boolean;
  currentSeen: boolean;
}

export interface ChangeTrackerStats {
  /** update() calls. */
  updates: number;
  /** Updates folded into an already pending entry. */
  coalesced: number;
  /** Entries dropped because nothing kube-proxy cares about changed. */
  noOps: number;
}

export class ChangeTracker<T extends KubeObject> {
  private pending = new Map<string, Pending<T>>();
  readonly stats: ChangeTrackerStats = { updates: 0, coalesced: 0, noOps: 0 };
  /** Stored objects are immutable, so a view computed once stays valid. */
  private readonly views = new WeakMap<T, string | null>();
  private readonly ignoredFn: Ignored<T>;

  /**
   * `ignored` must agree with `projectFn` returning null; with it, views are only built
   * when an update has to be compared with what kube-proxy already has (never for adds).
   */
  constructor(
    private readonly projectFn: Projection<T>,
    ignored?: Ignored<T>,
  ) {
    this.ignoredFn = ignored ?? ((obj) => this.project(obj) === null);
  }

  private project(obj: T): string | null {
    let v = this.views.get(obj);
    if (v === undefined) this.views.set(obj, (v = this.projectFn(obj)));
    return v;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Record a change (previous undefined: add; current undefined: delete). True if pending.
   * `key` is the object's `namespace/name` when the caller has it (a watch event does).
   */
  update(previous: T | undefined, current: T | undefined, key?: string): boolean {
    const obj = current ?? previous;
    if (obj === undefined) return false;
    this.stats.updates++;
    key ??= objectKey(obj);
    let entry = this.pending.get(key);
    if (entry === undefined) {
      entry = {
        key,
        previousSeen: previous !== undefined && !this.ignoredFn(previous),
        currentSeen: false,
      };
      if (previous !== undefined) entry.previous = previous;
      this.pending.set(key, entry);
    } else {
      this.stats.coalesced++;
    }
    entry.currentSeen = current !== undefined && !this.ignoredFn(current);
    if (current === undefined) delete entry.current;
    else entry.current = current;
    if (this.same(entry)) {
      this.pending.delete(key);
      this.stats.noOps++;
      return false;
    }
    return true;
  }

  /** Does kube-proxy see the same thing before and after? */
  private same(e: Pending<T>): boolean {
    if (e.previousSeen !== e.currentSeen) return false;
    if (!e.previousSeen) return true;
    const p = e.previous!;
    const c = e.current!;
    return p === c || this.project(p) === this.project(c);
  }

  /**
   * Take the pending changes (first-changed first). An object kube-proxy ignored before
   * shows up without `previous` (an add); one it ignores now, without `current` (a delete).
   */
  drain(): Change<T>[] {
    const out: Change<T>[] = [];
    for (const e of this.pending.values()) {
      const c: Change<T> = { key: e.key };
      if (e.previousSeen) c.previous = e.previous!;
      if (e.currentSeen) c.current = e.current!;
      out.push(c);
    }
    this.pending = new Map();
    return out;
  }
}
