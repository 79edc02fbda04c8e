// The service-port model shared by every proxy mode, after kube-proxy's pkg/proxy
// (serviceport.go, endpoint.go, servicechangetracker.go, endpointslicecache.go,
// topology.go as of v1.28). Addresses are u32 inside; strings are kept beside them
// because every mode prints them (chain comments, ipvsadm, nft).
import type { EndpointSlice, Protocol, Service, ServicePort } from '../api/types.ts';
import { tryIpToU32, tryParseCidr } from '../packet/addr.ts';
import type { Cidr } from '../packet/addr.ts';

/** kube-proxy's ServicePortName: namespace/name, the port's name and its protocol. */
export interface ServicePortName {
  readonly namespace: string;
  readonly name: string;
  /** ServicePort.name; '' for an unnamed port. */
  readonly port: string;
  readonly protocol: Protocol;
}

/** kube-proxy's ServicePortName.String(): `ns/name` plus `:port` when the port is named. */
export function servicePortNameString(spn: ServicePortName): string {
  const base = `${spn.namespace}/${spn.name}`;
  return spn.port === '' ? base : `${base}:${spn.port}`;
}

/** Map key for a service port: String() plus the protocol (kube-proxy keys on both). */
export function servicePortKey(spn: ServicePortName): string {
  return `${servicePortNameString(spn)}/${spn.protocol}`;
}

/** `ns/name` of an object (NamespacedName.String()). */
export function namespacedName(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

/** One port of one Service as kube-proxy's BaseServicePortInfo sees it (IPv4 only). */
export interface ServicePortInfo {
  readonly name: ServicePortName;
  /** servicePortNameString(name), computed once (kube-proxy caches it too). */
  readonly nameString: string;
  readonly type: Service['spec']['type'];
  readonly clusterIP: number;
  readonly clusterIPString: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** 0 when the port has no node port. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress[].ip (kube-proxy's LoadBalancerVIPs). */
  readonly loadBalancerIPs: readonly string[];
  /** Trimmed, valid IPv4 CIDRs from spec.loadBalancerSourceRanges, as written. */
  readonly loadBalancerSourceRanges: readonly string[];
  readonly loadBalancerSourceCidrs: readonly Cidr[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (default 10800) when ClientIP, else 0. */
  readonly stickyMaxAgeSeconds: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** 0 unless type LoadBalancer with externalTrafficPolicy Local. */
  readonly healthCheckNodePort: number;
}

const READY = 1;
const SERVING = 2;
const TERMINATING = 4;
const LOCAL = 8;

/** One endpoint of a service port (kube-proxy's BaseEndpointInfo). */
export class EndpointInfo {
  private text: string | undefined;
  /**
   * The four conditions as bits: a full sync keeps one of these per endpoint of the cluster
   * until the next, so every field is copied by each scavenge it survives.
   */
  private readonly bits: number;

  constructor(
    readonly ip: number,
    readonly ipString: string,
    readonly port: number,
    ready: boolean,
    serving: boolean,
    terminating: boolean,
    /** nodeName equals this proxy's node (node and zone are not kept: no mode reads them). */
    isLocal: boolean,
  ) {
    this.bits =
      (ready ? READY : 0) |
      (serving ? SERVING : 0) |
      (terminating ? TERMINATING : 0) |
      (isLocal ? LOCAL : 0);
  }

  get ready(): boolean {
    return (this.bits & READY) !== 0;
  }

  get serving(): boolean {
    return (this.bits & SERVING) !== 0;
  }

  get terminating(): boolean {
    return (this.bits & TERMINATING) !== 0;
  }

  /** The endpoint's nodeName is this proxy's node. */
  get isLocal(): boolean {
    return (this.bits & LOCAL) !== 0;
  }

  /** Ready, serving, terminating and local all equal (one compare). */
  sameConditions(other: EndpointInfo): boolean {
    return this.bits === other.bits;
  }

  /**
   * `ip:port`, kube-proxy's Endpoint.String() (SEP chain names hash it). Made on first use:
   * a full sync folds every endpoint of the cluster, and ipvs mode never reads it.
   */
  get endpoint(): string {
    return (this.text ??= `${this.ipString}:${this.port}`);
  }

  toJSON(): object {
    const { ip, ipString, port, endpoint, ready, serving, terminating, isLocal } = this;
    return { ip, ipString, port, endpoint, ready, serving, terminating, isLocal };
  }
}

/** Same address, port and conditions. */
export function sameEndpoint(a: EndpointInfo, b: EndpointInfo): boolean {
  return a.ip === b.ip && a.ipString === b.ipString && a.port === b.port && a.sameConditions(b);
}

/**
 * The order of the `ip:port` strings (kube-proxy's byEndpoint sort — a string sort, so
 * 10.0.0.10 precedes 10.0.0.2) without making them.
 */
export function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  const x = a.ipString;
  const y = b.ipString;
  if (x === y) {
    if (a.port === b.port) return 0;
    return String(a.port) < String(b.port) ? -1 : 1;
  }
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x.charCodeAt(i) - y.charCodeAt(i);
    if (d !== 0) return d;
  }
  // One address starts the other: after the shorter comes ':', above every digit and '.'.
  return x.length > n ? -1 : 1;
}

/** Default ClientIP affinity timeout (v1.DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

/**
 * The IPv4 cluster IP kube-proxy would use, or undefined for services it skips:
 * headless (`None`/empty) and ExternalName (proxyutil.ShouldSkipService).
 */
export function serviceClusterIP(svc: Service): string | undefined {
  if (svc.spec.type === 'ExternalName') return undefined;
  const candidates = svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : []);
  for (const ip of candidates) {
    if (ip === 'None' || ip === '') return undefined;
    if (tryIpToU32(ip) !== undefined) return ip;
  }
  return undefined;
}

/** apiservice.ExternallyAccessible / ExternalPolicyLocal / InternalPolicyLocal. */
function externallyAccessibleSpec(svc: Service): boolean {
  const t = svc.spec.type;
  return (
    t === 'LoadBalancer' ||
    t === 'NodePort' ||
    (t === 'ClusterIP' && (svc.spec.externalIPs?.length ?? 0) > 0)
  );
}

const NONE: readonly never[] = Object.freeze([]);

function ipv4Only(list: readonly string[] | undefined): readonly string[] {
  if (list === undefined || list.length === 0) return NONE; // most services: shared, no array each
  return list.filter((s) => tryIpToU32(s) !== undefined);
}

/** Build the ServicePortInfo of every port of a service; [] for skipped services. */
export function servicePortInfos(svc: Service): ServicePortInfo[] {
  const clusterIPString = serviceClusterIP(svc);
  if (clusterIPString === undefined) return [];
  const clusterIP = tryIpToU32(clusterIPString) ?? 0;
  const ns = svc.metadata.namespace ?? 'default';
  const externalPolicyLocal =
    externallyAccessibleSpec(svc) && svc.spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = svc.spec.internalTrafficPolicy === 'Local';
  const affinity = svc.spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None';
  const sticky =
    affinity === 'ClientIP'
      ? (svc.spec.sessionAffinityConfig?.clientIP.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS)
      : 0;
  // kube-proxy trims whitespace, then MapCIDRsByIPFamily drops what does not parse.
  let ranges: readonly string[] = NONE;
  let cidrs: readonly Cidr[] = NONE;
  for (const raw of svc.spec.loadBalancerSourceRanges ?? NONE) {
    const s = raw.trim();
    const c = tryParseCidr(s, true);
    if (c !== undefined) {
      ranges = [...ranges, s];
      cidrs = [...cidrs, c];
    }
  }
  const ingress = svc.status?.loadBalancer.ingress;
  const lbIPs =
    ingress === undefined || ingress.length === 0
      ? NONE
      : ipv4Only(ingress.map((i) => i.ip ?? '').filter((ip) => ip !== ''));
  const externalIPs = ipv4Only(svc.spec.externalIPs);
  const healthCheckNodePort =
    svc.spec.type === 'LoadBalancer' && externalPolicyLocal
      ? (svc.spec.healthCheckNodePort ?? 0)
      : 0;
  return svc.spec.ports.map((p: ServicePort): ServicePortInfo => {
    const name: ServicePortName = {
      namespace: ns,
      name: svc.metadata.name,
      port: p.name ?? '',
      protocol: p.protocol ?? 'TCP',
    };
    return {
      name,
      nameString: servicePortNameString(name),
      type: svc.spec.type,
      clusterIP,
      clusterIPString,
      port: p.port,
      protocol: name.protocol,
      nodePort: p.nodePort ?? 0,
      externalIPs,
      loadBalancerIPs: lbIPs,
      loadBalancerSourceRanges: ranges,
      loadBalancerSourceCidrs: cidrs,
      sessionAffinity: affinity,
      stickyMaxAgeSeconds: sticky,
      externalPolicyLocal,
      internalPolicyLocal,
      healthCheckNodePort,
    };
  });
}

/** BaseServicePortInfo.ExternallyAccessible: any node port, LB IP or external IP. */
export function externallyAccessible(s: ServicePortInfo): boolean {
  return s.nodePort !== 0 || s.loadBalancerIPs.length > 0 || s.externalIPs.length > 0;
}

/**
 * UsesClusterEndpoints: the internal policy is Cluster, or the port takes external
 * traffic at all — even with externalTrafficPolicy Local, pod → external-IP traffic is
 * short-circuited to the Cluster endpoints (kube-proxy's serviceport.go).
 */
export function usesClusterEndpoints(s: ServicePortInfo): boolean {
  return !s.internalPolicyLocal || externallyAccessible(s);
}

/** UsesLocalEndpoints: some traffic class uses the Local policy. */
export function usesLocalEndpoints(s: ServicePortInfo): boolean {
  return s.internalPolicyLocal || (s.externalPolicyLocal && externallyAccessible(s));
}

/** The port name an EndpointSlice port contributes to ('' when unnamed). */
function slicePortName(p: EndpointSlice['ports'][number]): string {
  return p.name ?? '';
}

/**
 * One port of one EndpointSlice with its endpoints, parsed when the slice arrives, as
 * kube-proxy's EndpointSliceCache does (newEndpointSliceInfo): a sync then only picks the
 * lists its service ports match.
 */
export interface SlicePortEndpoints {
  /** EndpointPort.name ('' when unnamed). */
  readonly portName: string;
  readonly protocol: Protocol;
  /** Sorted by `ip:port`, one per `ip:port` (see sortUniqueEndpoints). */
  readonly endpoints: readonly EndpointInfo[];
}

const NO_PORTS: readonly SlicePortEndpoints[] = Object.freeze([]);

/** The ports of an IPv4 slice with their endpoints (kube-proxy ignores nil/zero ports). */
export function parseSlicePorts(
  slice: EndpointSlice,
  nodeName: string,
): readonly SlicePortEndpoints[] {
  if (slice.addressType !== 'IPv4') return NO_PORTS;
  const out = new Array<SlicePortEndpoints>(slice.ports.length); // exact: kept until the next change
  let n = 0;
  for (const p of slice.ports) {
    if (!p.port) continue;
    const list = sliceEndpoints(slice, p.port, nodeName);
    if (list.length > 1) sortUniqueEndpoints(list);
    out[n++] = { portName: slicePortName(p), protocol: p.protocol ?? 'TCP', endpoints: list };
  }
  out.length = n;
  return out;
}

/**
 * The endpoints of one service port (named `portName`, '' when unnamed) from its slices'
 * parsed ports, sorted by `ip:port` and de-duplicated. One matching slice port (the common
 * case) gives its own list, shared, not copied.
 */
export function endpointsForPort(
  slices: Iterable<readonly SlicePortEndpoints[]>,
  portName: string,
  protocol: Protocol,
): readonly EndpointInfo[] {
  let only: readonly EndpointInfo[] | undefined;
  let merged: EndpointInfo[] | undefined;
  for (const ports of slices) {
    for (const p of ports) {
      if (p.portName !== portName || p.protocol !== protocol || p.endpoints.length === 0) continue;
      if (only === undefined) only = p.endpoints;
      else (merged ??= [...only]).push(...p.endpoints);
    }
  }
  if (merged === undefined) return only ?? NO_ENDPOINTS;
  // In slice order, so a duplicate keeps its first listing (or a later local one).
  sortUniqueEndpoints(merged);
  return merged;
}

const NO_ENDPOINTS: readonly EndpointInfo[] = Object.freeze([]);

/**
 * One EndpointInfo per parseable address of `slice` for target port `port`, in an array of
 * exactly that length (kept until the next change; pushing would leave it half empty).
 */
function sliceEndpoints(slice: EndpointSlice, port: number, nodeName: string): EndpointInfo[] {
  const eps = slice.endpoints;
  const list = new Array<EndpointInfo>(eps.length);
  let n = 0;
  for (const ep of eps) {
    const ipString = ep.addresses[0];
    if (ipString === undefined) continue;
    const ip = tryIpToU32(ipString);
    if (ip === undefined) continue;
    const c = ep.conditions;
    list[n++] = new EndpointInfo(
      ip,
      ipString,
      port,
      // Conditions default as in endpointslicecache.go: nil ready/serving mean true.
      c.ready ?? true,
      c.serving ?? true,
      c.terminating ?? false,
      ep.nodeName !== undefined && ep.nodeName === nodeName,
    );
  }
  list.length = n;
  return list;
}

/**
 * Sort by `ip:port` in place and keep one endpoint per `ip:port`: the first one listed,
 * unless a later duplicate is local (endpointslicecache.go lets a local one win).
 */
function sortUniqueEndpoints(list: EndpointInfo[]): void {
  let sorted = true;
  for (let i = 1; i < list.length && sorted; i++)
    sorted = compareEndpoints(list[i - 1]!, list[i]!) < 0;
  if (sorted) return; // strictly ascending: also free of duplicates
  list.sort(compareEndpoints); // stable: duplicates keep their slice order
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    const e = list[r]!;
    if (w > 0 && compareEndpoints(list[w - 1]!, e) === 0) {
      if (e.isLocal) list[w - 1] = e;
      continue;
    }
    list[w++] = e;
  }
  list.length = w;
}

/** The endpoint lists one service port uses, from proxy.CategorizeEndpoints (no topology hints). */
export interface CategorizedEndpoints {
  /** Endpoints for Cluster traffic policy (ready, else serving+terminating fallback). */
  readonly clusterEndpoints: readonly EndpointInfo[];
  /** Endpoints for Local traffic policy (local ready, else local serving+terminating). */
  readonly localEndpoints: readonly EndpointInfo[];
  /** Union of the two: every endpoint this node may route to, sorted by `ip:port`. */
  readonly allReachableEndpoints: readonly EndpointInfo[];
  /** Some usable endpoint exists anywhere in the cluster. */
  readonly hasAnyEndpoints: boolean;
}

const isReady = (e: EndpointInfo): boolean => e.ready;

/** proxy.CategorizeEndpoints (topology.go) without topology-aware hints. */
export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  svc: ServicePortInfo,
): CategorizedEndpoints {
  let clusterEndpoints: readonly EndpointInfo[] = [];
  let localEndpoints: EndpointInfo[] = [];
  let hasAny = false;
  const useCluster = usesClusterEndpoints(svc);
  if (useCluster) {
    clusterEndpoints = endpoints.every(isReady) ? endpoints : endpoints.filter(isReady);
    // No ready endpoints anywhere: fall back to serving-and-terminating ones.
    if (clusterEndpoints.length === 0) {
      clusterEndpoints = endpoints.filter((e) => e.serving && e.terminating);
    }
    hasAny = clusterEndpoints.length > 0;
  }
  if (!usesLocalEndpoints(svc)) {
    return {
      clusterEndpoints,
      localEndpoints,
      allReachableEndpoints: clusterEndpoints,
      hasAnyEndpoints: hasAny,
    };
  }
  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAny = true;
      if (e.isLocal) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) localEndpoints = endpoints.filter((e) => e.isLocal && e.ready);
  else if (localServingTerminating) {
    localEndpoints = endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
  }
  if (!useCluster) {
    return {
      clusterEndpoints,
      localEndpoints,
      allReachableEndpoints: localEndpoints,
      hasAnyEndpoints: hasAny,
    };
  }
  // Both lists are picked from `endpoints` (sorted, one per ip:port): their union is a pick too.
  const picked = new Set<EndpointInfo>([...clusterEndpoints, ...localEndpoints]);
  const all = endpoints.filter((e) => picked.has(e));
  return { clusterEndpoints, localEndpoints, allReachableEndpoints: all, hasAnyEndpoints: hasAny };
}
