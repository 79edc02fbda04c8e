// The desired service state every proxy mode compiles from: Services and
// EndpointSlices delivered by the Proxier handlers, folded at sync into one
// service-port -> endpoints map, as kube-proxy's ServiceChangeTracker +
// EndpointsChangeTracker + svcPortMap/endpointsMap.Update do. Only services whose
// objects changed are recomputed; the rest reuse their previous entries.
import type { EndpointSlice, Service } from '../api/types.ts';
import { endpointsFromSlices, namespacedName, servicePortInfos, servicePortKey } from './model.ts';
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

/** The state at one sync. */
export interface ServiceMapSnapshot {
  /** Every service port, sorted by key (kube-proxy iterates a Go map; we fix the order). */
  readonly entries: readonly ServicePortEntry[];
  readonly byKey: ReadonlyMap<string, ServicePortEntry>;
  /** `ns/name` of services whose ports or endpoints changed since the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Increments on every snapshot that saw a change. */
  readonly generation: number;
}

const EMPTY: readonly ServicePortEntry[] = [];

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
    if (JSON.stringify(x.endpoints) !== JSON.stringify(y.endpoints)) return false;
  }
  return true;
}

export class ServiceMap {
  private readonly services = new Map<string, Service>();
  /** `ns/service` -> slice name -> slice. */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly perService = new Map<string, readonly ServicePortEntry[]>();
  private readonly dirty = new Set<string>();
  private current: ServiceMapSnapshot = {
    entries: EMPTY,
    byKey: new Map(),
    changed: new Set(),
    generation: 0,
  };

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
      if (this.current.changed.size > 0) this.current = { ...this.current, changed: new Set() };
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
    }
    this.dirty.clear();
    if (changed.size === 0) {
      this.current = { ...this.current, changed };
      return this.current;
    }
    const entries: ServicePortEntry[] = [];
    for (const list of this.perService.values()) entries.push(...list);
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.current = {
      entries,
      byKey: new Map(entries.map((e) => [e.key, e])),
      changed,
      generation: this.current.generation + 1,
    };
    return this.current;
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
