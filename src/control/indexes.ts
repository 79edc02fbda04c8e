// Informer-style indexes the controllers share, kept current from store watches so a
// pod event costs O(labels) and a service sync O(selected pods), never a full scan:
// pods by namespace + label pair and by controlling owner; services by one pair of
// their selector (every selected pod must carry that pair, so the lookup is complete).
// Pods are indexed only under label keys some selector has asked about: a label nobody
// selects on (`tier: web` on every pod) would otherwise build one huge map for nothing.
import type { Pod, Service } from '../api/types.ts';
import { hasServiceSelector, matchesServiceSelector } from '../api/selector.ts';
import type { Store, StoreHandle } from './store.ts';
import { controllerOf } from './objects.ts';

/** namespace -> label key -> label value -> object key -> V (what the index keeps per object). */
type NsIndex<V> = Map<string, Map<string, Map<string, Map<string, V>>>>;

function indexAdd<V>(
  index: NsIndex<V>,
  ns: string,
  k: string,
  v: string,
  key: string,
  val: V,
): void {
  let keys = index.get(ns);
  if (keys === undefined) index.set(ns, (keys = new Map()));
  let values = keys.get(k);
  if (values === undefined) keys.set(k, (values = new Map()));
  let set = values.get(v);
  if (set === undefined) values.set(v, (set = new Map()));
  set.set(key, val);
}

function indexDel<V>(index: NsIndex<V>, ns: string, k: string, v: string, key: string): void {
  const values = index.get(ns)?.get(k);
  const set = values?.get(v);
  if (set === undefined) return;
  set.delete(key);
  if (set.size === 0) values!.delete(v);
}

function indexGet<V>(
  index: NsIndex<V>,
  ns: string,
  k: string,
  v: string,
): Map<string, V> | undefined {
  return index.get(ns)?.get(k)?.get(v);
}

const EMPTY: ReadonlySet<string> = new Set();

export class PodIndex {
  /** Per label pair: the pods' store handles (reading a pod is then no map lookup). */
  private readonly byLabel: NsIndex<StoreHandle<Pod>> = new Map();
  /** The label keys byLabel covers: those a selector has used so far. */
  private readonly keys = new Set<string>();
  /** Counts add()s: a handle's `indexed` stamp orders a late-built key like an eager one. */
  private seq = 0;
  private readonly byOwner = new Map<string, Set<string>>();

  /**
   * The store is the informer cache: listeners run synchronously after each write, so
   * the store's current pod is what an informer would hold by the time anyone asks.
   */
  constructor(private readonly store: Store) {
    store.watch('Pod', (ev) => {
      const key = ev.key;
      const old = ev.old;
      // Status updates keep labels and owners: nothing to re-index.
      if (
        old !== undefined &&
        old.metadata.labels === ev.object.metadata.labels &&
        old.metadata.ownerReferences === ev.object.metadata.ownerReferences
      ) {
        return;
      }
      if (ev.type !== 'ADDED') this.remove(old ?? ev.object, key);
      if (ev.type !== 'DELETED') this.add(ev.object, ev.handle);
    });
  }

  /** Keys (`ns/name`) of the pods controlled by the owner with this uid. */
  ownedBy(uid: string): ReadonlySet<string> {
    return this.byOwner.get(uid) ?? EMPTY;
  }

  /** The current pod with this key. */
  get(key: string): Pod | undefined {
    return this.store.getByKey('Pod', key);
  }

  /** Pods in `ns` matching a Service's map selector (none when it has no selector). */
  selectedBy(ns: string, selector: Readonly<Record<string, string>> | undefined): Pod[] {
    if (!hasServiceSelector(selector)) return [];
    for (const k in selector) if (!this.keys.has(k)) this.indexKey(k);
    let best: Map<string, StoreHandle<Pod>> | undefined;
    for (const k in selector) {
      const set = indexGet(this.byLabel, ns, k, selector[k]!);
      if (set === undefined) return [];
      if (best === undefined || set.size < best.size) best = set;
    }
    const out: Pod[] = [];
    best!.forEach((h) => {
      if (matchesServiceSelector(selector, h.obj.metadata.labels)) out.push(h.obj);
    });
    return out;
  }

  /**
   * Start indexing label key `k`: file every pod carrying it, in the order of their last
   * add() (what each value's map would hold had the key been indexed from the start;
   * selectedBy's order decides e.g. which slice a port group lands in).
   */
  private indexKey(k: string): void {
    this.keys.add(k);
    const carriers: StoreHandle<Pod>[] = [];
    for (const h of this.store.eachHandle('Pod')) {
      const labels = h.obj.metadata.labels;
      if (labels !== undefined && Object.prototype.hasOwnProperty.call(labels, k)) {
        carriers.push(h);
      }
    }
    carriers.sort((a, b) => a.indexed - b.indexed);
    for (const h of carriers) {
      const pod = h.obj;
      indexAdd(this.byLabel, pod.metadata.namespace!, k, pod.metadata.labels![k]!, h.key, h);
    }
  }

  private add(pod: Pod, h: StoreHandle<Pod>): void {
    const key = h.key;
    const ns = pod.metadata.namespace!;
    const labels = pod.metadata.labels;
    h.indexed = ++this.seq;
    if (this.keys.size > 0) {
      for (const k in labels) {
        if (this.keys.has(k)) indexAdd(this.byLabel, ns, k, labels[k]!, key, h);
      }
    }
    const owner = controllerOf(pod);
    if (owner !== undefined) {
      let set = this.byOwner.get(owner.uid);
      if (set === undefined) this.byOwner.set(owner.uid, (set = new Set()));
      set.add(key);
    }
  }

  private remove(pod: Pod, key: string): void {
    const ns = pod.metadata.namespace!;
    const labels = pod.metadata.labels;
    if (this.keys.size > 0) {
      for (const k in labels) if (this.keys.has(k)) indexDel(this.byLabel, ns, k, labels[k]!, key);
    }
    const owner = controllerOf(pod);
    if (owner !== undefined) {
      const set = this.byOwner.get(owner.uid);
      set?.delete(key);
      if (set?.size === 0) this.byOwner.delete(owner.uid);
    }
  }
}

export class ServiceIndex {
  /** Per selector pair: the services' selectors by key. */
  private readonly bySelector: NsIndex<Readonly<Record<string, string>>> = new Map();
  /** The last selecting() question and answer. */
  private memoNs = '';
  private memoLabels: Readonly<Record<string, string>> | undefined;
  private memo: string[] = [];

  constructor(store: Store) {
    store.watch('Service', (ev) => {
      const old = ev.old;
      if (old !== undefined && old.spec.selector === ev.object.spec.selector) return;
      this.memoLabels = undefined;
      if (ev.type !== 'ADDED') this.remove(old ?? ev.object, ev.key);
      if (ev.type !== 'DELETED') this.add(ev.object, ev.key);
    });
  }

  /**
   * Keys of the services in `ns` whose selector matches `labels` (do not modify). The
   * endpoints and slice controllers ask about the same pod one after the other: the last
   * answer is kept until the index changes.
   */
  selecting(ns: string, labels: Readonly<Record<string, string>> | undefined): readonly string[] {
    if (labels === this.memoLabels && ns === this.memoNs && labels !== undefined) {
      return this.memo;
    }
    const keys = this.bySelector.get(ns);
    if (keys === undefined || labels === undefined) return [];
    const out: string[] = [];
    this.memoNs = ns;
    this.memoLabels = labels;
    this.memo = out;
    for (const k in labels) {
      const set = keys.get(k)?.get(labels[k]!);
      if (set === undefined) continue;
      set.forEach((selector, key) => {
        if (matchesServiceSelector(selector, labels)) out.push(key);
      });
    }
    return out;
  }

  /** The indexed pair: the smallest key of the selector (any pair would do). */
  private pair(svc: Service): [string, string] | undefined {
    const sel = svc.spec.selector;
    if (!hasServiceSelector(sel)) return undefined;
    let min: string | undefined;
    for (const k in sel) if (min === undefined || k < min) min = k;
    return [min!, sel![min!]!];
  }

  private add(svc: Service, key: string): void {
    const p = this.pair(svc);
    if (p === undefined) return;
    indexAdd(this.bySelector, svc.metadata.namespace!, p[0], p[1], key, svc.spec.selector!);
  }

  private remove(svc: Service, key: string): void {
    const p = this.pair(svc);
    if (p === undefined) return;
    indexDel(this.bySelector, svc.metadata.namespace!, p[0], p[1], key);
  }
}
