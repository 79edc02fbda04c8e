// The object store: what etcd + the API server's generic registry give controllers.
// Objects by kind/namespace/name, one global monotonically increasing resourceVersion,
// uids from the cluster RNG, creationTimestamp from the virtual clock, generation for
// kinds whose spec is reconciled, optimistic concurrency, and watches with a bounded
// event history (a watch from a compacted version fails with 410 Gone, like etcd).
//
// Stored objects are deep-frozen: readers get them without copying, writers build new
// objects. Listeners run synchronously and must not write back (enqueue work instead).
import type { Kind, KubeObject, ObjectMeta, ObjectOfKind } from '../api/types.ts';
import type { VirtualClock } from './clock.ts';
import type { Rng } from './rng.ts';
import { ApiError, CLUSTER_SCOPED, alreadyExists, conflict, notFound } from './errors.ts';
import { deepEqual, deepFreeze, nsNameKey, objectKey } from './objects.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
  /** `namespace/name` (or `name`), computed once per event. */
  key: string;
  /** For MODIFIED: the object before the change (informer-style old object). */
  old?: T;
}

export type WatchListener<T extends KubeObject = KubeObject> = (event: WatchEvent<T>) => void;

export interface DeleteOptions {
  /** Pods: seconds until removal; 0 deletes now. Default: the pod's own grace period. */
  gracePeriodSeconds?: number;
}

/** Per-kind registry hooks, like the API server's REST strategies. */
export interface Strategy<T extends KubeObject = KubeObject> {
  /** Validate and fill server-assigned fields; throw an ApiError to reject. */
  prepareCreate?(obj: T): T;
  prepareUpdate?(old: T, obj: T): T;
  /** Graceful deletion: return the object to keep (marked for deletion), or undefined to remove now. */
  prepareDelete?(obj: T, opts: DeleteOptions): T | undefined;
  afterDelete?(obj: T): void;
}

export interface StoreOptions {
  /** Watch events kept per kind for watch-from-resourceVersion (etcd compaction window). */
  watchHistory?: number;
  /** Reject namespaced objects whose Namespace does not exist (NamespaceLifecycle admission). */
  requireNamespace?: boolean;
}

/** Kinds whose metadata.generation tracks spec changes (apps/v1, networking/v1 strategies). */
const GENERATION_KINDS: ReadonlySet<Kind> = new Set<Kind>(['Deployment', 'ReplicaSet', 'Ingress']);

/** names.SimpleNameGenerator: base truncated to 58 chars + 5 random characters. */
const MAX_GENERATED_BASE = 58;

/** Metadata the server sets on create; a client's values are dropped. */
const SERVER_SET = new Set([
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

/** Copy client metadata without server-set fields (no `delete`, no rest-spread: both are slow in V8). */
function copyMeta(m: ObjectMeta): ObjectMeta {
  const out = { name: m.name } as ObjectMeta;
  for (const k in m) {
    if (k !== 'name' && !SERVER_SET.has(k)) {
      (out as unknown as Record<string, unknown>)[k] = (m as unknown as Record<string, unknown>)[k];
    }
  }
  return out;
}

interface History {
  events: { rv: number; event: WatchEvent }[];
  /** Highest resourceVersion dropped from the window. */
  compacted: number;
}

export class Store {
  private readonly objects = new Map<Kind, Map<string, Map<string, KubeObject>>>();
  private readonly listeners = new Map<Kind, WatchListener[]>();
  private readonly history = new Map<Kind, History>();
  private readonly strategies = new Map<Kind, Strategy>();
  private rv = 0;
  private readonly historyLimit: number;
  private readonly requireNamespace: boolean;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    opts: StoreOptions = {},
  ) {
    this.historyLimit = opts.watchHistory ?? 1000;
    this.requireNamespace = opts.requireNamespace ?? true;
  }

  /** The latest resourceVersion handed out. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  setStrategy<K extends Kind>(kind: K, strategy: Strategy<ObjectOfKind<K>>): void {
    this.strategies.set(kind, strategy as unknown as Strategy);
  }

  get<K extends Kind>(
    kind: K,
    namespace: string | undefined,
    name: string,
  ): ObjectOfKind<K> | undefined {
    return this.objects.get(kind)?.get(this.ns(kind, namespace))?.get(name) as
      ObjectOfKind<K> | undefined;
  }

  /** Objects of a kind (in one namespace if given), sorted by namespace then name like etcd keys. */
  list<K extends Kind>(kind: K, namespace?: string): ObjectOfKind<K>[] {
    const byNs = this.objects.get(kind);
    if (byNs === undefined) return [];
    const out: KubeObject[] = [];
    const namespaces =
      namespace === undefined ? [...byNs.keys()].sort() : [this.ns(kind, namespace)];
    for (const ns of namespaces) {
      const names = byNs.get(ns);
      if (names === undefined) continue;
      for (const name of [...names.keys()].sort()) out.push(names.get(name)!);
    }
    return out as ObjectOfKind<K>[];
  }

  /** Number of stored objects of a kind (cheap, unsorted). */
  count(kind: Kind): number {
    let n = 0;
    for (const m of this.objects.get(kind)?.values() ?? []) n += m.size;
    return n;
  }

  /** Iterate a kind without sorting (controllers' cold paths). */
  *each<K extends Kind>(kind: K): IterableIterator<ObjectOfKind<K>> {
    for (const m of this.objects.get(kind)?.values() ?? []) {
      yield* m.values() as IterableIterator<ObjectOfKind<K>>;
    }
  }

  create<T extends KubeObject>(input: T): T {
    const kind = input.kind;
    const ns = this.ns(kind, input.metadata.namespace);
    let name = input.metadata.name;
    if (name === '' || name === undefined) {
      const base = input.metadata.generateName;
      if (base === undefined || base === '') {
        throw new ApiError(
          'Invalid',
          `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
      name = this.generateName(kind, ns, base);
    }
    if (this.get(kind, ns, name) !== undefined) throw alreadyExists(kind, name);
    if (this.requireNamespace && ns !== '' && this.get('Namespace', undefined, ns) === undefined) {
      throw notFound('Namespace', ns);
    }
    let obj =
      name === input.metadata.name
        ? input
        : ({ ...input, metadata: { ...input.metadata, name } } as T);
    const strategy = this.strategies.get(kind) as Strategy<T> | undefined;
    if (strategy?.prepareCreate) obj = strategy.prepareCreate(obj);
    const meta = copyMeta(obj.metadata);
    if (ns !== '') meta.namespace = ns;
    meta.uid = this.rng.uuid();
    meta.creationTimestamp = this.clock.now();
    meta.resourceVersion = String(++this.rv);
    if (GENERATION_KINDS.has(kind)) meta.generation = 1;
    obj = deepFreeze({ ...obj, metadata: meta });
    this.put(kind, ns, name, obj);
    this.emit(kind, { type: 'ADDED', object: obj, key: nsNameKey(ns, name) });
    return obj;
  }

  /**
   * Replace an object. A set metadata.resourceVersion must match the stored one
   * (409 Conflict otherwise). A write that changes nothing is not stored and emits
   * nothing, like the API server's no-op update short-cut.
   */
  update<T extends KubeObject>(input: T): T {
    const kind = input.kind;
    const ns = this.ns(kind, input.metadata.namespace);
    const name = input.metadata.name;
    const old = this.get(kind, ns, name) as T | undefined;
    if (old === undefined) throw notFound(kind, name);
    const wantRv = input.metadata.resourceVersion;
    if (wantRv !== undefined && wantRv !== old.metadata.resourceVersion) throw conflict(kind, name);
    let obj = input;
    const strategy = this.strategies.get(kind) as Strategy<T> | undefined;
    if (strategy?.prepareUpdate) obj = strategy.prepareUpdate(old, obj);
    const meta: ObjectMeta = { ...obj.metadata };
    if (ns !== '') meta.namespace = ns;
    // Immutable metadata comes from the stored object.
    meta.uid = old.metadata.uid!;
    meta.creationTimestamp = old.metadata.creationTimestamp!;
    meta.resourceVersion = old.metadata.resourceVersion!;
    if (old.metadata.deletionTimestamp !== undefined) {
      meta.deletionTimestamp = old.metadata.deletionTimestamp;
    }
    if (old.metadata.generation !== undefined) {
      const specOld = (old as { spec?: unknown }).spec;
      const specNew = (obj as { spec?: unknown }).spec;
      const changed = specOld !== specNew && !deepEqual(specOld, specNew);
      meta.generation = old.metadata.generation + (changed ? 1 : 0);
    }
    obj = { ...obj, metadata: meta };
    if (deepEqual(old, obj)) return old;
    meta.resourceVersion = String(++this.rv);
    deepFreeze(obj);
    this.put(kind, ns, name, obj);
    this.emit(kind, { type: 'MODIFIED', object: obj, old, key: nsNameKey(ns, name) });
    return obj;
  }

  /**
   * Delete an object. A strategy may turn it into a graceful deletion (a pod gets a
   * deletionTimestamp and stays until its kubelet removes it): the marked object is returned.
   */
  delete<K extends Kind>(
    kind: K,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): ObjectOfKind<K> | undefined {
    const ns = this.ns(kind, namespace);
    const old = this.get(kind, ns, name);
    if (old === undefined) throw notFound(kind, name);
    const strategy = this.strategies.get(kind) as Strategy<ObjectOfKind<K>> | undefined;
    const kept = strategy?.prepareDelete?.(old, opts);
    if (kept !== undefined) {
      if (kept === old) return old;
      const meta = { ...kept.metadata, resourceVersion: String(++this.rv) };
      const obj = deepFreeze({ ...kept, metadata: meta });
      this.put(kind, ns, name, obj);
      this.emit(kind, { type: 'MODIFIED', object: obj, old, key: nsNameKey(ns, name) });
      return obj;
    }
    const names = this.objects.get(kind)!.get(ns)!;
    names.delete(name);
    if (names.size === 0) this.objects.get(kind)!.delete(ns);
    const gone = deepFreeze({
      ...old,
      metadata: { ...old.metadata, resourceVersion: String(++this.rv) },
    });
    this.emit(kind, { type: 'DELETED', object: gone, key: nsNameKey(ns, name) });
    strategy?.afterDelete?.(gone);
    return undefined;
  }

  /**
   * Watch a kind. Without `fromResourceVersion` the listener first receives a synthetic
   * ADDED for every current object (a list+watch); with it, the retained events after
   * that version are replayed (410 Gone if they were compacted away). Returns `stop`.
   */
  watch<K extends Kind>(
    kind: K,
    listener: WatchListener<ObjectOfKind<K>>,
    fromResourceVersion?: string,
  ): () => void {
    const l = listener as unknown as WatchListener;
    if (fromResourceVersion === undefined) {
      for (const obj of this.list(kind)) l({ type: 'ADDED', object: obj, key: objectKey(obj) });
    } else {
      const from = Number(fromResourceVersion);
      const h = this.history.get(kind);
      if (!Number.isInteger(from) || from < 0) {
        throw new ApiError('BadRequest', `invalid resource version: ${fromResourceVersion}`);
      }
      if (h !== undefined && from < h.compacted) {
        throw new ApiError('Gone', `too old resource version: ${from} (${h.compacted + 1})`);
      }
      for (const e of h?.events ?? []) if (e.rv > from) l(e.event);
    }
    let arr = this.listeners.get(kind);
    if (arr === undefined) this.listeners.set(kind, (arr = []));
    arr.push(l);
    return () => {
      const cur = this.listeners.get(kind);
      if (cur !== undefined)
        this.listeners.set(
          kind,
          cur.filter((x) => x !== l),
        );
    };
  }

  private ns(kind: Kind, namespace: string | undefined): string {
    if (CLUSTER_SCOPED.has(kind)) return '';
    return namespace === undefined || namespace === '' ? 'default' : namespace;
  }

  private generateName(kind: Kind, ns: string, base: string): string {
    const prefix = base.slice(0, MAX_GENERATED_BASE);
    for (let i = 0; i < 100; i++) {
      const name = prefix + this.rng.string(5);
      if (this.get(kind, ns, name) === undefined) return name;
    }
    throw new ApiError('AlreadyExists', `could not generate a unique name for ${base}`);
  }

  private put(kind: Kind, ns: string, name: string, obj: KubeObject): void {
    let byNs = this.objects.get(kind);
    if (byNs === undefined) this.objects.set(kind, (byNs = new Map()));
    let names = byNs.get(ns);
    if (names === undefined) byNs.set(ns, (names = new Map()));
    names.set(name, obj);
  }

  private emit(kind: Kind, event: WatchEvent): void {
    let h = this.history.get(kind);
    if (h === undefined) this.history.set(kind, (h = { events: [], compacted: 0 }));
    h.events.push({ rv: this.rv, event });
    if (h.events.length >= 2 * this.historyLimit) {
      const drop = h.events.length - this.historyLimit;
      h.compacted = h.events[drop - 1]!.rv;
      h.events.splice(0, drop);
    }
    const ls = this.listeners.get(kind);
    if (ls !== undefined) for (const l of ls) l(event);
  }
}
