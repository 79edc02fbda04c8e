// The desired service state every proxy mode compiles from: Services and
// EndpointSlices delivered by the Proxier handlers, folded at sync into one
// service-port -> endpoints map, as kube-proxy's ServiceChangeTracker +
// EndpointsChangeTracker + svcPortMap/endpointsMap.Update do. As there, a Service's
// ports are converted and a slice's endpoints parsed and sorted when the object arrives
// (serviceToServiceMap, newEndpointSliceInfo); a sync pairs them up. Only services whose
// objects changed are recomputed; the rest reuse their previous entries. The lookup by
// key is kept and updated in place, and the full sorted list is only built when a
// consumer reads it (iptables/nftables compile the whole table; ipvs never needs it),
// by merging the changed keys into the previous list: one change costs O(its ports).
import type { EndpointSlice, Service } from '../api/types.ts';
import {
  endpointsForPort,
  namespacedName,
  parseSlicePorts,
  sameEndpoint,
  servicePortInfos,
  servicePortKey,
} from './model.ts';
import type { EndpointInfo, ServicePortInfo, SlicePortEndpoints } from './model.ts';

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

/** A Service's ports as kube-proxy's ServiceChangeTracker converts them, on arrival. */
interface ServicePorts {
  readonly key: string;
  readonly info: ServicePortInfo;
}

function sliceServiceName(slice: EndpointSlice): string | undefined {
  return slice.metadata.labels?.[SERVICE_NAME_LABEL];
}

function sameEntries(a: readonly ServicePortEntry[], b: readonly ServicePortEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.key !== y.key) return false;
    // The same object when only the service's slices changed (ports are kept from arrival).
    if (x.info !== y.info && JSON.stringify(x.info) !== JSON.stringify(y.info)) return false;
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

// Shared by states without slices; replaced, never written, by the first one.
const NO_NAMES: string[] = [];
const NO_SLICES: (readonly SlicePortEndpoints[])[] = [];

/** What the map holds for one `ns/name`: its Service's ports, its slices, its current entries. */
class ServiceState {
  /** The Service's ports as converted on arrival; undefined while there is no Service. */
  ports: readonly ServicePorts[] | undefined = undefined;
  /** Slice names and their parsed ports, in arrival order (most services have one slice). */
  sliceNames: string[] = NO_NAMES;
  slicePorts: (readonly SlicePortEndpoints[])[] = NO_SLICES;
  /** The entries of the latest snapshot. */
  entries: readonly ServicePortEntry[] = EMPTY;
  /** Queued for the next snapshot. */
  dirty = false;

  constructor(readonly name: string) {}

  setSlice(name: string, ports: readonly SlicePortEndpoints[]): void {
    const i = this.sliceNames.indexOf(name);
    if (i >= 0) this.slicePorts[i] = ports;
    else if (this.sliceNames.length === 0) {
      // Arrays of one (a push would reserve 17 slots, kept as long as the service).
      this.sliceNames = [name];
      this.slicePorts = [ports];
    } else {
      this.sliceNames.push(name);
      this.slicePorts.push(ports);
    }
  }

  deleteSlice(name: string): void {
    const i = this.sliceNames.indexOf(name);
    if (i < 0) return;
    if (this.sliceNames.length === 1) {
      this.sliceNames = NO_NAMES;
      this.slicePorts = NO_SLICES;
      return;
    }
    this.sliceNames.splice(i, 1);
    this.slicePorts.splice(i, 1);
  }

  /** No Service, no slice, no entry: nothing left to keep. */
  get unused(): boolean {
    return this.ports === undefined && this.sliceNames.length === 0 && this.entries.length === 0;
  }

  /** This state's entries now: each port with the endpoints its slices list for it. */
  compute(): readonly ServicePortEntry[] {
    const ports = this.ports;
    if (ports === undefined || ports.length === 0) return EMPTY;
    const slices = this.slicePorts;
    return ports.map(({ key, info }) => ({
      key,
      info,
      endpoints: endpointsForPort(slices, info.name.port, info.protocol),
    }));
  }
}

export class ServiceMap implements SortedSource {
  /** `ns/service` -> what the map holds for it. */
  private readonly states = new Map<string, ServiceState>();
  /** States with updates since the last snapshot, each once. */
  private dirty: ServiceState[] = [];
  /** Every current entry by key, updated in place (the snapshots' `byKey`). */
  private readonly entryByKey = new Map<string, ServicePortEntry>();
  /**
   * The sorted list as of `sortedGeneration`, or undefined when it must be rebuilt in full
   * (as at first: a full fold sorts once instead of tracking every key).
   */
  private sorted: readonly ServicePortEntry[] | undefined = undefined;
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
    const state = this.state(namespacedName(obj.metadata.namespace, obj.metadata.name));
    state.ports =
      current === undefined
        ? undefined
        : servicePortInfos(current).map((info) => ({ key: servicePortKey(info.name), info }));
    this.markDirty(state);
  }

  /** Record an EndpointSlice add/update, or its deletion. Slices without the service label are ignored. */
  updateEndpointSlice(slice: EndpointSlice, deleted: boolean): void {
    const svcName = sliceServiceName(slice);
    if (svcName === undefined) return;
    const key = namespacedName(slice.metadata.namespace, svcName);
    if (deleted) {
      const state = this.states.get(key);
      if (state === undefined) return;
      state.deleteSlice(slice.metadata.name);
      this.markDirty(state);
    } else {
      const state = this.state(key);
      state.setSlice(slice.metadata.name, parseSlicePorts(slice, this.nodeName));
      this.markDirty(state);
    }
  }

  /** True when updates arrived since the last snapshot. */
  get pending(): boolean {
    return this.dirty.length > 0;
  }

  /** Fold pending updates and return the current state (the same object if nothing changed). */
  snapshot(): ServiceMapSnapshot {
    if (this.dirty.length === 0) {
      if (this.current.changed.size > 0) this.current = this.snapshotOf(NO_CHANGES);
      return this.current;
    }
    const changed = new Set<string>();
    const dirty = this.dirty;
    this.dirty = [];
    for (const state of dirty) {
      state.dirty = false;
      const next = state.compute();
      const prev = state.entries;
      if (!sameEntries(prev, next)) {
        changed.add(state.name);
        state.entries = next;
        for (const e of prev) {
          this.touch(e.key);
          this.entryByKey.delete(e.key);
        }
        for (const e of next) {
          this.touch(e.key);
          this.entryByKey.set(e.key, e);
        }
      }
      if (state.unused) this.states.delete(state.name);
    }
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
    return this.states.get(name)?.entries ?? EMPTY;
  }

  private state(name: string): ServiceState {
    let state = this.states.get(name);
    if (state === undefined) this.states.set(name, (state = new ServiceState(name)));
    return state;
  }

  private markDirty(state: ServiceState): void {
    if (state.dirty) return;
    state.dirty = true;
    this.dirty.push(state);
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
}
