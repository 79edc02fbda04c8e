// Shared pieces of the Endpoints and EndpointSlice controllers
// (k8s.io/endpointslice/utils.go, pkg/api/v1/pod FindPort, endpoints/util).
import type { Endpoint, EndpointPort, Pod, Service, ServicePort } from '../api/types.ts';
import { isPodReady } from './pod-util.ts';

/**
 * podutil.FindPort: a numeric targetPort is used as is; a named one is looked up in the
 * pod's containers by name AND protocol, so two pods may resolve it differently.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const tp = port.targetPort;
  if (typeof tp === 'number') return tp;
  if (isDigits(tp)) return Number(tp);
  // Indexed loops: stored arrays are frozen, and for-of over them allocates per step.
  const containers = pod.spec.containers;
  for (let i = 0; i < containers.length; i++) {
    const ports = containers[i]!.ports;
    if (ports === undefined) continue;
    for (let j = 0; j < ports.length; j++) {
      const cp = ports[j]!;
      if (cp.name === tp && cp.protocol === port.protocol) return cp.containerPort;
    }
  }
  return undefined;
}

/** /^\d+$/ without the regex machinery. */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The endpoint ports of `pod` for `svc` (service ports it cannot resolve are skipped). */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  const ports = svc.spec.ports;
  for (let i = 0; i < ports.length; i++) {
    const sp = ports[i]!;
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol };
    if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/**
 * Would endpointPorts(svc, pod) equal `ports` (name, port, protocol, appProtocol, in
 * order)? Answers without building the list: pods of one Service mostly resolve alike.
 */
export function sameEndpointPorts(svc: Service, pod: Pod, ports: readonly EndpointPort[]): boolean {
  const sps = svc.spec.ports;
  let j = 0;
  for (let i = 0; i < sps.length; i++) {
    const sp = sps[i]!;
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep = ports[j++];
    if (
      ep === undefined ||
      ep.port !== port ||
      ep.protocol !== sp.protocol ||
      ep.name !== (sp.name ?? '') ||
      ep.appProtocol !== sp.appProtocol
    ) {
      return false;
    }
  }
  return j === ports.length;
}

/** Indexes 0..n-1 ordered by `keys[i]`, ties by index (a stable sort by key). */
export function orderByKey(keys: readonly number[]): number[] {
  const n = keys.length;
  const order: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n > 32) return order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  // A Service's few endpoints: an insertion sort (stable), without sort()'s scratch arrays.
  for (let i = 1; i < n; i++) {
    const o = order[i]!;
    const k = keys[o]!;
    let j = i - 1;
    while (j >= 0 && keys[order[j]!]! > k) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = o;
  }
  return order;
}

/** ShouldPodBeInEndpoints: has an IP, is not finished, and (unless included) not terminating. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status.podIP) return false;
  if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp !== undefined) return false;
  return true;
}

/** ShouldSetHostname: the pod's hostname when its subdomain names this service. */
export function hostnameFor(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec.hostname;
  return h &&
    pod.spec.subdomain === svc.metadata.name &&
    pod.metadata.namespace === svc.metadata.namespace
    ? h
    : undefined;
}

/**
 * podToEndpoint: serving mirrors readiness, terminating is deletionTimestamp != nil, and
 * ready is never true for a terminating pod unless publishNotReadyAddresses is set.
 */
/** The 8 possible endpoint conditions, frozen and shared (stored slices are frozen anyway). */
const CONDITIONS: readonly Endpoint['conditions'][] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ ready: (i & 4) !== 0, serving: (i & 2) !== 0, terminating: (i & 1) !== 0 }),
);

export function podToEndpoint(pod: Pod, svc: Service, zone?: string): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = svc.spec.publishNotReadyAddresses === true || (serving && !terminating);
  const addresses = [pod.status.podIP!];
  const conditions = CONDITIONS[(ready ? 4 : 0) | (serving ? 2 : 0) | (terminating ? 1 : 0)]!;
  const targetRef = podRef(pod);
  const hostname = hostnameFor(pod, svc);
  const nodeName = pod.spec.nodeName;
  // The usual endpoint as one literal (fields added one by one spill into a PropertyArray).
  if (hostname === undefined && nodeName && zone === undefined) {
    return { addresses, conditions, nodeName, targetRef };
  }
  const ep: Endpoint = { addresses, conditions };
  if (hostname !== undefined) ep.hostname = hostname;
  if (nodeName) ep.nodeName = nodeName;
  if (zone !== undefined) ep.zone = zone;
  ep.targetRef = targetRef;
  return ep;
}

/** An endpoint's reference to its pod. */
export function podRef(pod: Pod): NonNullable<Endpoint['targetRef']> {
  const m = pod.metadata;
  return { kind: 'Pod', namespace: m.namespace!, name: m.name, uid: m.uid! };
}

/** Does a pod change matter to endpoints (podEndpointsChanged)? */
export function podEndpointsChanged(old: Pod, cur: Pod): boolean {
  // A pod without an address is in no endpoints, before or after.
  if (!old.status.podIP && !cur.status.podIP) return false;
  return (
    old.status.podIP !== cur.status.podIP ||
    isPodReady(old) !== isPodReady(cur) ||
    old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp ||
    old.status.phase !== cur.status.phase ||
    old.spec.nodeName !== cur.spec.nodeName ||
    old.spec.hostname !== cur.spec.hostname ||
    old.spec.subdomain !== cur.spec.subdomain ||
    old.spec.containers !== cur.spec.containers ||
    old.metadata.labels !== cur.metadata.labels
  );
}
