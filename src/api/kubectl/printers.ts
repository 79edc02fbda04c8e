// kubectl's table printers (k8s.io/kubernetes/pkg/printers/internalversion/printers.go),
// column for column: each returns the headers and one row per object.
import type {
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  Ingress,
  IngressClass,
  KubeObject,
  LabelSelector,
  Node,
  Pod,
  ReplicaSet,
  Service,
} from '../types.ts';
import { humanDuration } from './age.ts';

export interface PrintContext {
  /** Virtual-clock now, nanoseconds. */
  now: number;
  wide: boolean;
  /** The server's minor release, where a table's columns changed (unset: the current). */
  minor?: number | undefined;
}

export interface Printer<T extends KubeObject> {
  headers(wide: boolean, minor?: number): string[];
  row(obj: T, ctx: PrintContext): string[];
}

const age = (obj: KubeObject, ctx: PrintContext): string =>
  obj.metadata.creationTimestamp === undefined
    ? '<unknown>'
    : humanDuration(ctx.now - obj.metadata.creationTimestamp);

/** labels.Set.String(): keys sorted, `k=v` joined by commas. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/** metav1.FormatLabelSelector: `k=v` for matchLabels, `k in (a,b)` for expressions. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (sel === undefined) return '<none>';
  const parts: string[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort()) {
    parts.push(`${k}=${sel.matchLabels?.[k] ?? ''}`);
  }
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

// ---- Service -------------------------------------------------------------------------

function loadBalancerIps(svc: Service, wide: boolean): string {
  const ips = (svc.status?.loadBalancer.ingress ?? [])
    .map((i) => i.ip ?? i.hostname ?? '')
    .filter((s) => s !== '')
    .join(',');
  // kubectl shortens long LoadBalancer lists unless -o wide.
  return !wide && ips.length > 16 ? `${ips.slice(0, 13)}...` : ips;
}

function serviceExternalIp(svc: Service, wide: boolean): string {
  const externalIPs = svc.spec.externalIPs ?? [];
  switch (svc.spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIps(svc, wide);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName ?? '';
  }
}

function servicePorts(svc: Service): string {
  if (svc.spec.ports.length === 0) return '<none>';
  return svc.spec.ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
    .join(',');
}

export const servicePrinter: Printer<Service> = {
  headers: (wide) => [
    'NAME',
    'TYPE',
    'CLUSTER-IP',
    'EXTERNAL-IP',
    'PORT(S)',
    'AGE',
    ...(wide ? ['SELECTOR'] : []),
  ],
  row: (svc, ctx) => [
    svc.metadata.name,
    svc.spec.type,
    svc.spec.clusterIP || '<none>',
    serviceExternalIp(svc, ctx.wide),
    servicePorts(svc),
    age(svc, ctx),
    ...(ctx.wide ? [formatLabels(svc.spec.selector)] : []),
  ],
};

// ---- Pod -----------------------------------------------------------------------------

function podReady(pod: Pod): boolean {
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function podStatus(pod: Pod): string {
  if (pod.metadata.deletionTimestamp !== undefined) return 'Terminating';
  // A scheduled pod whose containers are not up yet shows its container's waiting reason.
  if (pod.status.phase === 'Pending' && pod.spec.nodeName) return 'ContainerCreating';
  return pod.status.phase;
}

export const podPrinter: Printer<Pod> = {
  headers: (wide) => [
    'NAME',
    'READY',
    'STATUS',
    'RESTARTS',
    'AGE',
    ...(wide ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : []),
  ],
  row: (pod, ctx) => {
    const total = pod.spec.containers.length;
    const ready = podReady(pod) ? total : 0;
    return [
      pod.metadata.name,
      `${ready}/${total}`,
      podStatus(pod),
      String(pod.status.restartCount ?? 0),
      age(pod, ctx),
      ...(ctx.wide
        ? [pod.status.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>']
        : []),
    ];
  },
};

// ---- Endpoints, EndpointSlice ----------------------------------------------------------

/** formatEndpoints: at most three `ip:port`, then ` + N more...`. */
export function formatEndpoints(ep: Endpoints): string {
  if (ep.subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  for (const ss of ep.subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    // Headless services may have no ports: list bare addresses.
    const targets = ports.length === 0 ? [undefined] : ports.map((p) => p.port);
    for (const port of targets) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) break;
        list.push(port === undefined ? a.ip : `${a.ip}:${port}`);
      }
    }
  }
  const joined = list.join(',');
  return count > max ? `${joined} + ${count - max} more...` : joined;
}

export const endpointsPrinter: Printer<Endpoints> = {
  headers: () => ['NAME', 'ENDPOINTS', 'AGE'],
  row: (ep, ctx) => [ep.metadata.name, formatEndpoints(ep), age(ep, ctx)],
};

function sliceEndpoints(slice: EndpointSlice): string {
  const addrs = slice.endpoints.flatMap((e) => e.addresses);
  if (addrs.length === 0) return '<unset>';
  const shown = addrs.slice(0, 3).join(',');
  return addrs.length > 3 ? `${shown} + ${addrs.length - 3} more...` : shown;
}

export const endpointSlicePrinter: Printer<EndpointSlice> = {
  headers: () => ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
  row: (s, ctx) => [
    s.metadata.name,
    s.addressType,
    s.ports.length === 0 ? '<unset>' : s.ports.map((p) => String(p.port)).join(','),
    sliceEndpoints(s),
    age(s, ctx),
  ],
};

// ---- Ingress ---------------------------------------------------------------------------

function ingressHosts(ing: Ingress): string {
  const hosts = (ing.spec.rules ?? []).map((r) => r.host).filter((h): h is string => !!h);
  if (hosts.length === 0) return '*';
  const shown = hosts.slice(0, 4).join(',');
  return hosts.length > 4 ? `${shown} + ${hosts.length - 4} more...` : shown;
}

/** The CLASS column came with networking.k8s.io/v1 Ingress and IngressClass (v1.19). */
const ingressHasClass = (minor: number | undefined): boolean => minor === undefined || minor >= 19;

export const ingressPrinter: Printer<Ingress> = {
  headers: (_wide, minor) =>
    ingressHasClass(minor)
      ? ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']
      : ['NAME', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
  row: (ing, ctx) => [
    ing.metadata.name,
    ...(ingressHasClass(ctx.minor) ? [ing.spec.ingressClassName ?? '<none>'] : []),
    ingressHosts(ing),
    (ing.status?.loadBalancer.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').join(','),
    (ing.spec.tls ?? []).length > 0 ? '80, 443' : '80',
    age(ing, ctx),
  ],
};

export const ingressClassPrinter: Printer<IngressClass> = {
  headers: () => ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'],
  row: (ic, ctx) => {
    const p = ic.spec.parameters;
    let parameters = '<none>';
    if (p !== undefined) {
      parameters = p.apiGroup === undefined ? p.kind : `${p.kind}.${p.apiGroup}`;
      parameters += `/${p.name}`;
    }
    return [ic.metadata.name, ic.spec.controller ?? '', parameters, age(ic, ctx)];
  },
};

// ---- Event -----------------------------------------------------------------------------

/** translateTimestampSince: `<unknown>` for a zero (absent or null) time. */
const since = (t: number | null | undefined, ctx: PrintContext): string =>
  t === undefined || t === null ? '<unknown>' : humanDuration(ctx.now - t);

/** formatEventSource: component (or reporting controller), `, host` when there is one. */
export function formatEventSource(e: Event): string {
  const component = e.source?.component || e.reportingComponent || '';
  const host = e.source?.host || e.reportingInstance || '';
  return host === '' ? component : `${component}, ${host}`;
}

/**
 * printEvent: events written through events.k8s.io/v1 have no first/last timestamps
 * (eventTime instead) and count through their series; a singleton counts 1.
 */
export const eventPrinter: Printer<Event> = {
  headers: (wide) =>
    wide
      ? [
          'LAST SEEN',
          'TYPE',
          'REASON',
          'OBJECT',
          'SUBOBJECT',
          'SOURCE',
          'MESSAGE',
          'FIRST SEEN',
          'COUNT',
          'NAME',
        ]
      : ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  row: (e, ctx) => {
    const first =
      e.firstTimestamp === undefined || e.firstTimestamp === null
        ? since(e.eventTime, ctx)
        : since(e.firstTimestamp, ctx);
    let last =
      e.lastTimestamp === undefined || e.lastTimestamp === null
        ? first
        : since(e.lastTimestamp, ctx);
    let count = e.count ?? 0;
    if (e.series !== undefined) {
      last = since(e.series.lastObservedTime, ctx);
      count = e.series.count;
    } else if (count === 0) {
      count = 1;
    }
    const kind = (e.involvedObject.kind ?? '').toLowerCase();
    const name = e.involvedObject.name ?? '';
    const target = name === '' ? kind : `${kind}/${name}`;
    const message = (e.message ?? '').trim();
    if (!ctx.wide) return [last, e.type ?? '', e.reason ?? '', target, message];
    return [
      last,
      e.type ?? '',
      e.reason ?? '',
      target,
      e.involvedObject.fieldPath ?? '',
      formatEventSource(e),
      message,
      first,
      String(count),
      e.metadata.name,
    ];
  },
};

// ---- Deployment, ReplicaSet --------------------------------------------------------------

const containers = (o: Deployment | ReplicaSet): string =>
  o.spec.template.spec.containers.map((c) => c.name).join(',');
const images = (o: Deployment | ReplicaSet): string =>
  o.spec.template.spec.containers.map((c) => c.image).join(',');

export const deploymentPrinter: Printer<Deployment> = {
  headers: (wide) => [
    'NAME',
    'READY',
    'UP-TO-DATE',
    'AVAILABLE',
    'AGE',
    ...(wide ? ['CONTAINERS', 'IMAGES', 'SELECTOR'] : []),
  ],
  row: (d, ctx) => [
    d.metadata.name,
    `${d.status?.readyReplicas ?? 0}/${d.spec.replicas}`,
    String(d.status?.updatedReplicas ?? 0),
    String(d.status?.availableReplicas ?? 0),
    age(d, ctx),
    ...(ctx.wide ? [containers(d), images(d), formatLabelSelector(d.spec.selector)] : []),
  ],
};

export const replicaSetPrinter: Printer<ReplicaSet> = {
  headers: (wide) => [
    'NAME',
    'DESIRED',
    'CURRENT',
    'READY',
    'AGE',
    ...(wide ? ['CONTAINERS', 'IMAGES', 'SELECTOR'] : []),
  ],
  row: (rs, ctx) => [
    rs.metadata.name,
    String(rs.spec.replicas),
    String(rs.status?.replicas ?? 0),
    String(rs.status?.readyReplicas ?? 0),
    age(rs, ctx),
    ...(ctx.wide ? [containers(rs), images(rs), formatLabelSelector(rs.spec.selector)] : []),
  ],
};

// ---- Node ------------------------------------------------------------------------------

function nodeRoles(node: Node): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort();
  return roles.length === 0 ? '<none>' : roles.join(',');
}

function nodeStatus(node: Node): string {
  const ready = node.status.conditions?.find((c) => c.type === 'Ready');
  const status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return node.spec.unschedulable ? `${status},SchedulingDisabled` : status;
}

const address = (node: Node, type: 'InternalIP' | 'ExternalIP'): string =>
  node.status.addresses.find((a) => a.type === type)?.address ?? '<none>';

export const nodePrinter: Printer<Node> = {
  headers: (wide) => [
    'NAME',
    'STATUS',
    'ROLES',
    'AGE',
    'VERSION',
    ...(wide
      ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']
      : []),
  ],
  row: (node, ctx) => {
    const info = node.status.nodeInfo;
    return [
      node.metadata.name,
      nodeStatus(node),
      nodeRoles(node),
      age(node, ctx),
      info?.kubeletVersion ?? '<unknown>',
      ...(ctx.wide
        ? [
            address(node, 'InternalIP'),
            address(node, 'ExternalIP'),
            info?.osImage ?? '<unknown>',
            info?.kernelVersion ?? '<unknown>',
            info?.containerRuntimeVersion ?? '<unknown>',
          ]
        : []),
    ];
  },
};
