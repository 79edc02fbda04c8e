// The desired service state every proxy mode compiles from: Services and
// EndpointSlices delivered by the Proxier handlers, folded at sync into one
// service-port -> endpoints map, as kube-proxy's ServiceChangeTracker +
// EndpointsChangeTracker + svcPortMap/endpointsMap.Update do. Only services whose
// objects changed are recomputed; the rest reuse their previous entries. The lookup by
// key is kept and updated in place, and the full sorted list is only built when a
// consumer reads it (iptables/nftables compile the whole table; ipvs never needs it),
// by merging the changed keys into the previous list: one change costs O(its ports).
import type { EndpointSlice, Service } from '../api/types.ts';
import {
  endpointsFromSlices,
  namespacedName,
  sameEndpoint,
  servicePortInfos,
  servicePortKey,
} from './model.ts';
import type { EndpointInfo, ServicePortInfo } from './model.ts';

/** Label that ties an EndpointSlice to its Service (discovery.LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One service port and every endpoint its slices list for it (ready or not). */
export interface ServicePortEntry {
  /** servicePortKey(info.name): `ns/name:port/PROTOCOL`. */
  readonly key: string;
  readonly info: ServicePortInfo;
  /** Sorted by `ip:port` string, as kube-proxy's byEndpoint. */
  readonly endpoints: readonly EndpointInfo[];
}

/**
 * The state at one sync. `byKey` is the map's live lookup: it always answers for the latest
 * snapshot, so read it before the next snapshot() call. `entries` is built on first read
 * (and then kept); reading it on a snapshot superseded by a later change throws.
 */
export interface ServiceMapSnapshot {
  /** Every service port, sorted by key (kube-proxy iterates a Go map; we fix the order). */
  readonly entries: readonly ServicePortEntry[];
  readonly byKey: ReadonlyMap<string, ServicePortEntry>;
  /** `ns/name` of services whose ports or endpoints changed since the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Increments on every snapshot that saw a change. */
  readonly generation: number;
  /** The ports of service `ns/name` (live, like `byKey`), in the Service's port order. */
  servicePorts(name: string): readonly ServicePortEntry[];
}

const EMPTY: readonly ServicePortEntry[] = [];
const NO_CHANGES: ReadonlySet<string> = new Set();

function sliceServiceName(slice: EndpointSlice): string | undefined {
  return slice.metadata.labels?.[SERVICE_NAME_LABEL];
}

function sameEntries(a: readonly ServicePortEntry[], b: readonly ServicePortEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.key !== y.key) return false;
    if (JSON.stringify(x.info) !== JSON.stringify(y.info)) return false;
    const ex = x.endpoints;
    const ey = y.endpoints;
    if (ex.length !== ey.length) return false;
    for (let k = 0; k < ex.length; k++) if (!sameEndpoint(ex[k]!, ey[k]!)) return false;
  }
  return true;
}

function byKeyOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the sorted entry list for one generation on demand. */
interface SortedSource {
  sortedEntries(generation: number): readonly ServicePortEntry[];
  servicePorts(name: string): readonly ServicePortEntry[];
}

class Snapshot implements ServiceMapSnapshot {
  private list: readonly ServicePortEntry[] | undefined;

  constructor(
    private readonly source: SortedSource,
    readonly byKey: ReadonlyMap<string, ServicePortEntry>,
    readonly changed: ReadonlySet<string>,
    readonly generation: number,
  ) {}

  get entries(): readonly ServicePortEntry[] {
    return (this.list ??= this.source.sortedEntries(this.generation));
  }

  servicePorts(name: string): readonly ServicePortEntry[] {
    return this.source.servicePorts(name);
  }
}

export class ServiceMap implements SortedSource {
  private readonly services = new Map<string, Service>();
  /** `ns/service` -> slice name -> slice. */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly perService = new Map<string, readonly ServicePortEntry[]>();
  private readonly dirty = new Set<string>();
  /** Every current entry by key, updated in place (the snapshots' `byKey`). */
  private readonly entryByKey = new Map<string, ServicePortEntry>();
  /** The sorted list as of `sortedGeneration`, or undefined when it must be rebuilt in full. */
  private sorted: readonly ServicePortEntry[] | undefined = EMPTY;
  private sortedGeneration = 0;
  /** Keys added, removed or replaced since `sorted` was built. */
  private readonly unsortedKeys = new Set<string>();
  private current: Snapshot = new Snapshot(this, this.entryByKey, NO_CHANGES, 0);

  /** @param nodeName this proxy's node: endpoints on it are `isLocal`. */
  constructor(readonly nodeName: string) {}
  /** Record a service add (previous undefined), update, or delete (current undefined). */
  updateService(previous: Service | undefined, current: Service | undefined): void {
    const obj = current ?? previous;
    if (obj === undefined) return;
    const key = namespacedName(obj.metadata.namespace, obj.metadata.name);
    if (current === undefined) this.services.delete(key);
    else this.services.set(key, current);
    this.dirty.add(key);
  }

  /** Record an EndpointSlice add/update, or its deletion. Slices without the service label are ignored. */
  updateEndpointSlice(slice: EndpointSlice, deleted: boolean): void {
    const svcName = sliceServiceName(slice);
    if (svcName === undefined) return;
    const key = namespacedName(slice.metadata.namespace, svcName);
    let bySlice = this.slices.get(key);
    if (deleted) {
      if (bySlice === undefined) return;
      bySlice.delete(slice.metadata.name);
      if (bySlice.size === 0) this.slices.delete(key);
    } else {
      if (bySlice === undefined) this.slices.set(key, (bySlice = new Map()));
      bySlice.set(slice.metadata.name, slice);
    }
    this.dirty.add(key);
  }

  /** True when updates arrived since the last snapshot. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Fold pending updates and return the current state (the same object if nothing changed). */
  snapshot(): ServiceMapSnapshot {
    if (this.dirty.size === 0) {
      if (this.current.changed.size > 0) this.current = this.snapshotOf(NO_CHANGES);
      return this.current;
    }
    const changed = new Set<string>();
    for (const key of this.dirty) {
      const next = this.computeService(key);
      const prev = this.perService.get(key) ?? EMPTY;
      if (sameEntries(prev, next)) continue;
      changed.add(key);
      if (next.length === 0) this.perService.delete(key);
      else this.perService.set(key, next);
      for (const e of prev) this.touch(e.key);
      for (const e of prev) this.entryByKey.delete(e.key);
      for (const e of next) {
        this.touch(e.key);
        this.entryByKey.set(e.key, e);
      }
    }
    this.dirty.clear();
    if (changed.size === 0) {
      this.current = this.snapshotOf(changed);
      return this.current;
    }
    this.current = new Snapshot(this, this.entryByKey, changed, this.current.generation + 1);
    return this.current;
  }

  /** The sorted entry list of `generation` (which must be the latest snapshot's). */
  sortedEntries(generation: number): readonly ServicePortEntry[] {
    if (generation !== this.current.generation)
      throw new Error(
        `ServiceMap: entries of snapshot generation ${generation} read after generation ${this.current.generation} replaced it`,
      );
    if (this.sorted !== undefined && this.sortedGeneration === generation) return this.sorted;
    const list = this.sorted === undefined ? this.rebuild() : this.merge(this.sorted);
    this.sorted = list;
    this.sortedGeneration = generation;
    this.unsortedKeys.clear();
    return list;
  }

  servicePorts(name: string): readonly ServicePortEntry[] {
    return this.perService.get(name) ?? EMPTY;
  }

  private snapshotOf(changed: ReadonlySet<string>): Snapshot {
    return new Snapshot(this, this.entryByKey, changed, this.current.generation);
  }

  /** Note that `key`'s place in the sorted list is stale (bounded: past the table's size, rebuild). */
  private touch(key: string): void {
    if (this.sorted === undefined) return;
    this.unsortedKeys.add(key);
    if (this.unsortedKeys.size > this.sorted.length + this.entryByKey.size) {
      this.sorted = undefined;
      this.unsortedKeys.clear();
    }
  }

  private rebuild(): ServicePortEntry[] {
    const list = [...this.entryByKey.values()];
    list.sort((a, b) => byKeyOrder(a.key, b.key));
    return list;
  }

  /** `old` minus the touched keys, merged with the touched keys' current entries: O(N + k log k). */
  private merge(old: readonly ServicePortEntry[]): ServicePortEntry[] {
    const touched = this.unsortedKeys;
    const fresh: ServicePortEntry[] = [];
    for (const key of touched) {
      const e = this.entryByKey.get(key);
      if (e !== undefined) fresh.push(e);
    }
    fresh.sort((a, b) => byKeyOrder(a.key, b.key));
    const out: ServicePortEntry[] = [];
    let j = 0;
    for (const e of old) {
      if (touched.has(e.key)) continue;
      while (j < fresh.length && fresh[j]!.key < e.key) out.push(fresh[j++]!);
      out.push(e);
    }
    while (j < fresh.length) out.push(fresh[j++]!);
    return out;
  }

  private computeService(key: string): readonly ServicePortEntry[] {
    const svc = this.services.get(key);
    if (svc === undefined) return EMPTY;
    const infos = servicePortInfos(svc);
    if (infos.length === 0) return EMPTY;
    const slices = [...(this.slices.get(key)?.values() ?? [])];
    const eps = endpointsFromSlices(
      svc.metadata.namespace ?? 'default',
      svc.metadata.name,
      slices,
      this.nodeName,
    );
    return infos.map((info) => {
      const k = servicePortKey(info.name);
      return { key: k, info, endpoints: eps.get(k) ?? [] };
    });
  }
}
