// The object store: what etcd + the API server's generic registry give controllers.
// Objects by kind/namespace/name, one global monotonically increasing resourceVersion,
// uids from the cluster RNG (or a kind's own source), creationTimestamp from the virtual
// clock, generation for kinds whose spec is reconciled, optimistic concurrency, and
// watches with a bounded event history (a watch from a compacted version fails with
// 410 Gone, like etcd).
//
// Stored objects are deep-frozen: readers get them without copying, writers build new
// objects. Listeners run synchronously and must not write back (enqueue work instead).
import type { Kind, KubeObject, ObjectMeta, ObjectOfKind } from '../api/types.ts';
import type { VirtualClock } from './clock.ts';
import type { Rng } from './rng.ts';
import { ApiError, CLUSTER_SCOPED, alreadyExists, conflict, notFound } from './errors.ts';
import { deepEqual, deepFreeze, deepFreezeAgainst, objectKey } from './objects.ts';
import { LiteralCopier } from './shapes.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
  /** `namespace/name` (or `name`), computed once per event. */
  key: string;
  /** For MODIFIED: the object before the change (informer-style old object). */
  old?: T;
  /** The object's live handle (after DELETED: dead), for queues that skip key lookups. */
  handle: StoreHandle<T>;
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

/** Sets an object's metadata, in place (every stored version is built by it). */
const WITH_METADATA = new LiteralCopier(['metadata']);

/** `{ ...obj, metadata }` as one literal (see shapes.ts). */
function withMetadata<T extends KubeObject>(obj: T, metadata: ObjectMeta): T {
  return WITH_METADATA.copy(obj, [metadata]);
}

/**
 * Keys of `variant`'s copier among `keys` (bit i of the variant, for each optional key
 * i, says whether it is set), with each key's slot in a values array ordered like `keys`.
 */
function metaCopier(
  keys: readonly (readonly [string, boolean])[],
  variant: number,
  omit: Iterable<string> = [],
): LiteralCopier {
  const set: string[] = [];
  const slots: number[] = [];
  let bit = 0;
  keys.forEach(([k, optional], slot) => {
    if (optional && (variant & (1 << bit++)) === 0) return;
    set.push(k);
    slots.push(slot);
  });
  return new LiteralCopier(set, omit, slots);
}

/**
 * Metadata on create: the client's without server-set fields, then these appended.
 * Values in this order; namespace only for namespaced kinds (bit 0), generation only
 * for kinds that have one (bit 1).
 */
const CREATE_KEYS = [
  ['namespace', true],
  ['uid', false],
  ['creationTimestamp', false],
  ['resourceVersion', false],
  ['generation', true],
] as const;
const CREATE_META = [0, 1, 2, 3].map((v) => metaCopier(CREATE_KEYS, v, SERVER_SET));

/**
 * Metadata on update, the immutable fields from the stored object. Values in this order;
 * bits: namespaced, deletionTimestamp set, generation set.
 */
const UPDATE_KEYS = [
  ['namespace', true],
  ['uid', false],
  ['creationTimestamp', false],
  ['resourceVersion', false],
  ['deletionTimestamp', true],
  ['generation', true],
] as const;
const UPDATE_META = [0, 1, 2, 3, 4, 5, 6, 7].map((v) => metaCopier(UPDATE_KEYS, v));

/** `{ ...metadata, resourceVersion }` (deletes). */
const WITH_RV = new LiteralCopier(['resourceVersion']);

/**
 * deepEqual(old, obj) with metadata compared last: a write nearly always changes spec or
 * status, and metadata (the most fields) then needs no walk.
 */
function sameObject(old: KubeObject, obj: KubeObject): boolean {
  const a = old as unknown as Record<string, unknown>;
  const b = obj as unknown as Record<string, unknown>;
  let n = 0;
  for (const k in b) {
    n++;
    if (k === 'metadata') continue;
    if (!Object.prototype.hasOwnProperty.call(a, k) || !deepEqual(a[k], b[k])) return false;
  }
  let m = 0;
  for (const _ in a) m++;
  return n === m && deepEqual(old.metadata, obj.metadata);
}

/** See Store.handle(). */
export interface StoreHandle<T extends KubeObject = KubeObject> {
  readonly key: string;
  /** The current version while live; the last one stored once deleted. */
  readonly obj: T;
  /** False once the object is deleted (a new object with the same key gets a new handle). */
  readonly live: boolean;
  /** Queue membership bits (see HandleQueue): which queues hold this handle now. */
  queued: number;
  /** When an index last (re)filed this object (see PodIndex); 0 until then. */
  indexed: number;
  /**
   * The one controller that keeps state per object keeps it here (the kubelet's pod
   * record): no map keyed by name to look up per event. Undefined until it sets it.
   */
  local: unknown;
}

interface History {
  /** Retained events and, index by index, their resourceVersions (no wrapper object per write). */
  events: WatchEvent[];
  rvs: number[];
  /** Highest resourceVersion dropped from the window. */
  compacted: number;
}

/**
 * One stored object. The entry lives as long as the object does and an update swaps
 * `obj` in place; `key` is the one `namespace/name` string every watch event of the
 * object carries, so maps keyed by it hash it once (a fresh string is hashed per lookup).
 */
interface Entry {
  readonly key: string;
  obj: KubeObject;
  live: boolean;
  queued: number;
  indexed: number;
  local: unknown;
}

/** Where uids come from (the cluster Rng, or a kind's own source: see setUidSource). */
export interface UidSource {
  uuid(): string;
}

/** Everything the store keeps for one kind. */
interface KindTable {
  /** The kind's own uid source; undefined: the store's Rng. */
  uids: UidSource | undefined;
  /** namespace -> name -> entry; Maps keep insertion order (each() follows it). */
  readonly byNs: Map<string, Map<string, Entry>>;
  /** Stored objects (a second map by `namespace/name` would cost an insert per create). */
  size: number;
  listeners: WatchListener[];
  readonly history: History;
  /** Bumped when a name is added or removed (not on updates): keys the sorted-name cache. */
  keysVersion: number;
  /** Namespace → its names sorted, as of keysVersion (lists of thousands need no re-sort). */
  sorted: Map<string, { version: number; names: string[] }>;
}

export class Store {
  private readonly tables = new Map<Kind, KindTable>();
  private readonly strategies = new Map<Kind, Strategy>();
  private rv = 0;
  private queueBits = 0;
  private lastNamespace: Entry | undefined;
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

  /**
   * Give a kind uids from a source of its own, so creating its objects draws nothing
   * from the store's Rng (the recorder's Events: recording them must not shift pod
   * names, ClusterIPs or NodePorts).
   */
  setUidSource(kind: Kind, source: UidSource | undefined): void {
    this.table(kind).uids = source;
  }

  setStrategy<K extends Kind>(kind: K, strategy: Strategy<ObjectOfKind<K>>): void {
    this.strategies.set(kind, strategy as unknown as Strategy);
  }

  get<K extends Kind>(
    kind: K,
    namespace: string | undefined,
    name: string,
  ): ObjectOfKind<K> | undefined {
    return this.tables.get(kind)?.byNs.get(this.ns(kind, namespace))?.get(name)?.obj as
      ObjectOfKind<K> | undefined;
  }

  /** The object with this `namespace/name` key (`name` for cluster-scoped kinds), as in watch events. */
  getByKey<K extends Kind>(kind: K, key: string): ObjectOfKind<K> | undefined {
    return this.entry(kind, key)?.obj as ObjectOfKind<K> | undefined;
  }

  /**
   * A live handle on a stored object: `obj` is its current version for as long as it
   * exists (an update swaps it in place). Indexes keep handles to skip a map lookup per read.
   */
  handle<K extends Kind>(kind: K, key: string): StoreHandle<ObjectOfKind<K>> | undefined {
    return this.entry(kind, key) as StoreHandle<ObjectOfKind<K>> | undefined;
  }

  /** The entry with this `namespace/name` (or `name`) key. */
  private entry(kind: Kind, key: string): Entry | undefined {
    const byNs = this.tables.get(kind)?.byNs;
    if (byNs === undefined) return undefined;
    const slash = key.indexOf('/');
    if (slash < 0) return byNs.get('')?.get(key);
    return byNs.get(key.slice(0, slash))?.get(key.slice(slash + 1));
  }

  /** Objects of a kind (in one namespace if given), sorted by namespace then name like etcd keys. */
  list<K extends Kind>(kind: K, namespace?: string): ObjectOfKind<K>[] {
    const byNs = this.tables.get(kind)?.byNs;
    if (byNs === undefined) return [];
    const out: KubeObject[] = [];
    const namespaces =
      namespace === undefined ? [...byNs.keys()].sort() : [this.ns(kind, namespace)];
    const table = this.tables.get(kind)!;
    for (const ns of namespaces) {
      const names = byNs.get(ns);
      if (names === undefined) continue;
      let sorted = table.sorted.get(ns);
      if (sorted === undefined || sorted.version !== table.keysVersion) {
        sorted = { version: table.keysVersion, names: [...names.keys()].sort() };
        table.sorted.set(ns, sorted);
      }
      for (const name of sorted.names) out.push(names.get(name)!.obj);
    }
    return out as ObjectOfKind<K>[];
  }

  /** Number of stored objects of a kind (cheap, unsorted). */
  count(kind: Kind): number {
    return this.tables.get(kind)?.size ?? 0;
  }

  /** Handles of a kind, unsorted (in each()'s order). */
  *eachHandle<K extends Kind>(kind: K): IterableIterator<StoreHandle<ObjectOfKind<K>>> {
    for (const m of this.tables.get(kind)?.byNs.values() ?? []) {
      yield* m.values() as IterableIterator<StoreHandle<ObjectOfKind<K>>>;
    }
  }

  /** A queue-membership bit of its own for a HandleQueue over this store's handles. */
  queueBit(): number {
    if (this.queueBits >= 31) throw new Error('out of handle queue bits');
    return 1 << this.queueBits++;
  }

  /** Iterate a kind without sorting (controllers' cold paths). */
  *each<K extends Kind>(kind: K): IterableIterator<ObjectOfKind<K>> {
    for (const m of this.tables.get(kind)?.byNs.values() ?? []) {
      for (const e of m.values()) yield e.obj as ObjectOfKind<K>;
    }
  }

  create<T extends KubeObject>(input: T): T {
    return this.insert(input, false)!;
  }

  /** create(), or undefined when the object exists (kubectl apply's one lookup). */
  createIfAbsent<T extends KubeObject>(input: T): T | undefined {
    return this.insert(input, true);
  }

  private insert<T extends KubeObject>(input: T, ifAbsent: boolean): T | undefined {
    const kind = input.kind;
    const ns = this.ns(kind, input.metadata.namespace);
    let name = input.metadata.name;
    let generated = false;
    if (name === '' || name === undefined) {
      const base = input.metadata.generateName;
      if (base === undefined || base === '') {
        throw new ApiError(
          'Invalid',
          `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
      name = this.generateName(kind, ns, base);
      generated = true;
    }
    const table = this.table(kind);
    let names = table.byNs.get(ns);
    // A generated name was just checked to be free.
    if (!generated && names?.get(name) !== undefined) {
      if (ifAbsent) return undefined;
      throw alreadyExists(kind, name);
    }
    if (this.requireNamespace && ns !== '' && !this.namespaceExists(ns)) {
      throw notFound('Namespace', ns);
    }
    let obj =
      name === input.metadata.name
        ? input
        : ({ ...input, metadata: { ...input.metadata, name } } as T);
    const strategy = this.strategies.get(kind) as Strategy<T> | undefined;
    if (strategy?.prepareCreate) obj = strategy.prepareCreate(obj);
    const generation = GENERATION_KINDS.has(kind);
    const uid = (table.uids ?? this.rng).uuid();
    const now = this.clock.now();
    const rv = String(++this.rv);
    const meta = CREATE_META[(ns === '' ? 0 : 1) | (generation ? 2 : 0)]!.copy(obj.metadata, [
      ns,
      uid,
      now,
      rv,
      1,
    ]);
    obj = withMetadata(obj, meta);
    obj = deepFreeze(obj);
    // A flat string: it is hashed by every map that holds it and lives as long as the object.
    const entry: Entry = {
      key: ns === '' ? name : [ns, name].join('/'),
      obj,
      live: true,
      queued: 0,
      indexed: 0,
      local: undefined,
    };
    // The strategy may have created objects of this kind meanwhile: look the map up again.
    names = table.byNs.get(ns);
    if (names === undefined) table.byNs.set(ns, (names = new Map()));
    names.set(name, entry);
    table.keysVersion++;
    table.size++;
    this.emit(table, { type: 'ADDED', object: obj, key: entry.key, handle: entry });
    return obj;
  }

  /**
   * Replace an object. A set metadata.resourceVersion must match the stored one
   * (409 Conflict otherwise). `handle`, when the caller has the object's, saves a lookup. A write that changes nothing is not stored and emits
   * nothing, like the API server's no-op update short-cut.
   */
  update<T extends KubeObject>(input: T, handle?: StoreHandle<T>): T {
    const kind = input.kind;
    const ns = this.ns(kind, input.metadata.namespace);
    const name = input.metadata.name;
    const table = this.table(kind);
    // A caller holding the object's handle spares the lookup (checked, not trusted).
    const hint = handle as Entry | undefined;
    const entry =
      hint !== undefined &&
      hint.live &&
      hint.obj.kind === kind &&
      hint.obj.metadata.name === name &&
      (hint.obj.metadata.namespace ?? '') === ns
        ? hint
        : table.byNs.get(ns)?.get(name);
    if (entry === undefined) throw notFound(kind, name);
    const old = entry.obj as T;
    const wantRv = input.metadata.resourceVersion;
    if (wantRv !== undefined && wantRv !== old.metadata.resourceVersion) throw conflict(kind, name);
    let obj = input;
    const strategy = this.strategies.get(kind) as Strategy<T> | undefined;
    if (strategy?.prepareUpdate) obj = strategy.prepareUpdate(old, obj);
    // Immutable metadata comes from the stored object.
    const m = old.metadata;
    let generation = 0;
    if (m.generation !== undefined) {
      const specOld = (old as { spec?: unknown }).spec;
      const specNew = (obj as { spec?: unknown }).spec;
      const changed = specOld !== specNew && !deepEqual(specOld, specNew);
      generation = m.generation + (changed ? 1 : 0);
    }
    const variant =
      (ns === '' ? 0 : 1) |
      (m.deletionTimestamp !== undefined ? 2 : 0) |
      (m.generation !== undefined ? 4 : 0);
    const values = [
      ns,
      m.uid,
      m.creationTimestamp,
      m.resourceVersion,
      m.deletionTimestamp,
      generation,
    ];
    const meta: ObjectMeta = UPDATE_META[variant]!.copy(obj.metadata, values);
    obj = withMetadata(obj, meta);
    if (sameObject(old, obj)) return old;
    meta.resourceVersion = String(++this.rv);
    deepFreezeAgainst(obj, old);
    entry.obj = obj;
    this.emit(table, { type: 'MODIFIED', object: obj, old, key: entry.key, handle: entry });
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
    const table = this.table(kind);
    const entry = table.byNs.get(ns)?.get(name);
    if (entry === undefined) throw notFound(kind, name);
    const old = entry.obj as ObjectOfKind<K>;
    const strategy = this.strategies.get(kind) as Strategy<ObjectOfKind<K>> | undefined;
    const kept = strategy?.prepareDelete?.(old, opts);
    if (kept !== undefined) {
      if (kept === old) return old;
      const meta = WITH_RV.copy(kept.metadata, [String(++this.rv)]);
      const obj = deepFreeze(withMetadata(kept, meta));
      entry.obj = obj;
      this.emit(table, { type: 'MODIFIED', object: obj, old, key: entry.key, handle: entry });
      return obj;
    }
    const names = table.byNs.get(ns)!;
    names.delete(name);
    if (names.size === 0) table.byNs.delete(ns);
    table.keysVersion++;
    table.size--;
    entry.live = false;
    const gone = deepFreeze(withMetadata(old, WITH_RV.copy(old.metadata, [String(++this.rv)])));
    this.emit(table, { type: 'DELETED', object: gone, key: entry.key, handle: entry });
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
    const table = this.table(kind);
    if (fromResourceVersion === undefined) {
      for (const obj of this.list(kind)) {
        const entry = this.entry(kind, objectKey(obj))!;
        l({ type: 'ADDED', object: obj, key: entry.key, handle: entry });
      }
    } else {
      const from = Number(fromResourceVersion);
      const h = table.history;
      if (!Number.isInteger(from) || from < 0) {
        throw new ApiError('BadRequest', `invalid resource version: ${fromResourceVersion}`);
      }
      if (from < h.compacted) {
        throw new ApiError('Gone', `too old resource version: ${from} (${h.compacted + 1})`);
      }
      for (let i = 0; i < h.events.length; i++) if (h.rvs[i]! > from) l(h.events[i]!);
    }
    table.listeners.push(l);
    return () => {
      table.listeners = table.listeners.filter((x) => x !== l);
    };
  }

  /** Does Namespace `ns` exist? The last one found is remembered (creates come in runs). */
  private namespaceExists(ns: string): boolean {
    const last = this.lastNamespace;
    if (last !== undefined && last.live && last.key === ns) return true;
    const e = this.tables.get('Namespace')?.byNs.get('')?.get(ns);
    if (e === undefined) return false;
    this.lastNamespace = e;
    return true;
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

  private table(kind: Kind): KindTable {
    let t = this.tables.get(kind);
    if (t === undefined) {
      t = {
        uids: undefined,
        byNs: new Map(),
        size: 0,
        listeners: [],
        history: { events: [], rvs: [], compacted: 0 },
        keysVersion: 0,
        sorted: new Map(),
      };
      this.tables.set(kind, t);
    }
    return t;
  }

  private emit(table: KindTable, event: WatchEvent): void {
    const h = table.history;
    h.events.push(event);
    h.rvs.push(this.rv);
    if (h.events.length >= 2 * this.historyLimit) {
      const drop = h.events.length - this.historyLimit;
      h.compacted = h.rvs[drop - 1]!;
      h.events.splice(0, drop);
      h.rvs.splice(0, drop);
    }
    for (const l of table.listeners) l(event);
  }
}
