// Defaulting as the API server applies it on create (pkg/apis/*/v1/defaults.go
// plus the Service REST strategy's IP-family and clusterIPs logic), so a loaded
// object reads like `kubectl get -o yaml` of the created one. Runs on an object
// already converted and type-checked; mutates it in place.

import { isPlainObject } from './shape.ts';
import type { PathAlias } from './positions.ts';
import type { Kind } from './types.ts';
import { KINDS } from './kinds.ts';
import { DEFAULT_EPOCH_MS } from './wire.ts';

type Obj = Record<string, unknown>;

export interface DefaultOptions {
  /** Namespace for namespaced objects that name none (kubectl -n). Default `default`. */
  defaultNamespace?: string;
  /**
   * The wall-clock instant (ms) virtual time zero stands for: RFC 3339 times written in
   * a manifest (an Event's firstTimestamp ...) become virtual nanoseconds against it.
   * Default DEFAULT_EPOCH_MS (wire.ts).
   */
  epochMs?: number;
}

function sub(o: Obj, key: string): Obj {
  const v = o[key];
  if (isPlainObject(v)) return v;
  const fresh: Obj = {};
  o[key] = fresh;
  return fresh;
}

function list(o: Obj, key: string): unknown[] {
  const v = o[key];
  if (Array.isArray(v)) return v;
  const fresh: unknown[] = [];
  o[key] = fresh;
  return fresh;
}

function objects(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

/** Default a string field; Go decodes "" the same as absent. */
function setStr(o: Obj, key: string, value: string): void {
  if (o[key] === undefined || o[key] === '') o[key] = value;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === '' || v === 0;
}

/** `nginx` and `nginx:latest` pull Always; any other tag, or a digest, IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
  if (tag === '' && at >= 0) return 'IfNotPresent';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj, hostNetwork: boolean): void {
  if (c['imagePullPolicy'] === undefined && typeof c['image'] === 'string') {
    c['imagePullPolicy'] = defaultPullPolicy(c['image']);
  }
  for (const p of objects(c['ports'])) {
    setStr(p, 'protocol', 'TCP');
    // With hostNetwork the container port is the host port (SetDefaults_Pod).
    if (hostNetwork && p['hostPort'] === undefined) p['hostPort'] = p['containerPort'];
  }
}

function defaultPodSpec(spec: Obj): void {
  setStr(spec, 'restartPolicy', 'Always');
  setStr(spec, 'dnsPolicy', 'ClusterFirst');
  spec['terminationGracePeriodSeconds'] ??= 30;
  const hostNetwork = spec['hostNetwork'] === true;
  for (const c of objects(spec['containers'])) defaultContainer(c, hostNetwork);
  for (const c of objects(spec['initContainers'])) defaultContainer(c, hostNetwork);
}

function defaultWorkload(o: Obj, kind: Kind): void {
  const spec = sub(o, 'spec');
  spec['replicas'] ??= 1;
  const template = sub(spec, 'template');
  sub(template, 'metadata');
  defaultPodSpec(sub(template, 'spec'));
  if (kind !== 'Deployment') return;
  spec['revisionHistoryLimit'] ??= 10;
  spec['progressDeadlineSeconds'] ??= 600;
  const strategy = sub(spec, 'strategy');
  setStr(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const ru = sub(strategy, 'rollingUpdate');
    ru['maxUnavailable'] ??= '25%';
    ru['maxSurge'] ??= '25%';
  }
}

function defaultService(o: Obj, aliases: PathAlias[]): void {
  const spec = sub(o, 'spec');
  setStr(spec, 'type', 'ClusterIP');
  setStr(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'ClientIP') {
    const clientIP = sub(sub(spec, 'sessionAffinityConfig'), 'clientIP');
    clientIP['timeoutSeconds'] ??= 10800;
  }
  const ports = list(spec, 'ports');
  ports.forEach((p, i) => {
    if (!isPlainObject(p)) return;
    setStr(p, 'protocol', 'TCP');
    if (isEmpty(p['targetPort'])) {
      p['targetPort'] = p['port'] ?? 0;
      aliases.push({ from: ['spec', 'ports', i, 'targetPort'], to: ['spec', 'ports', i, 'port'] });
    }
  });
  // clusterIP and clusterIPs are kept in sync by the REST strategy.
  if (typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== '') {
    if (spec['clusterIPs'] === undefined) {
      spec['clusterIPs'] = [spec['clusterIP']];
      aliases.push({ from: ['spec', 'clusterIPs'], to: ['spec', 'clusterIP'] });
    }
  } else if (Array.isArray(spec['clusterIPs']) && typeof spec['clusterIPs'][0] === 'string') {
    spec['clusterIP'] = spec['clusterIPs'][0];
  } else {
    delete spec['clusterIP'];
  }
  const type = spec['type'];
  if (type === 'ExternalName') {
    // ExternalName has no IPs, families or internal policy; types.ts keeps the list.
    spec['ipFamilies'] ??= [];
    return;
  }
  const headless = spec['clusterIP'] === 'None';
  const selector = spec['selector'];
  const hasSelector = isPlainObject(selector) && Object.keys(selector).length > 0;
  // Headless Services without a selector ask for every family the cluster has.
  setStr(spec, 'ipFamilyPolicy', headless && !hasSelector ? 'RequireDualStack' : 'SingleStack');
  spec['ipFamilies'] ??= ['IPv4'];
  setStr(spec, 'internalTrafficPolicy', 'Cluster');
  const externallyAccessible =
    type === 'NodePort' ||
    type === 'LoadBalancer' ||
    (Array.isArray(spec['externalIPs']) && spec['externalIPs'].length > 0);
  if (externallyAccessible) setStr(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') spec['allocateLoadBalancerNodePorts'] ??= true;
}

function defaultEndpointPorts(ports: unknown): void {
  for (const p of objects(ports)) setStr(p, 'protocol', 'TCP');
}

/** An RFC 3339 time as virtual nanoseconds; anything else is left for validation to report. */
function virtualTime(o: Obj, key: string, epochMs: number): void {
  const v = o[key];
  if (typeof v !== 'string') return;
  const ms = Date.parse(v);
  if (!Number.isNaN(ms)) o[key] = Math.round((ms - epochMs) * 1e6);
}

function defaultEvent(o: Obj, epochMs: number): void {
  sub(o, 'involvedObject');
  for (const k of ['firstTimestamp', 'lastTimestamp', 'eventTime']) virtualTime(o, k, epochMs);
  const series = o['series'];
  if (isPlainObject(series)) virtualTime(series, 'lastObservedTime', epochMs);
}

/**
 * Apply the API server's defaults to `o` (of `kind`, already in its stored
 * version). Returns path aliases for values copied from another field
 * (targetPort from port, clusterIPs from clusterIP) so errors point at the source.
 */
export function applyDefaults(o: Obj, kind: Kind, opts: DefaultOptions = {}): PathAlias[] {
  const aliases: PathAlias[] = [];
  const meta = sub(o, 'metadata');
  if (KINDS.get(kind)?.namespaced === true) {
    if (isEmpty(meta['namespace'])) meta['namespace'] = opts.defaultNamespace ?? 'default';
  } else {
    // Cluster-scoped: the API server ignores a namespace here.
    delete meta['namespace'];
  }
  switch (kind) {
    case 'Namespace':
      setStr(sub(o, 'status'), 'phase', 'Active');
      break;
    case 'Node':
      sub(o, 'spec');
      list(sub(o, 'status'), 'addresses');
      break;
    case 'Pod':
      defaultPodSpec(sub(o, 'spec'));
      setStr(sub(o, 'status'), 'phase', 'Pending');
      break;
    case 'Deployment':
    case 'ReplicaSet':
      defaultWorkload(o, kind);
      break;
    case 'Service':
      defaultService(o, aliases);
      break;
    case 'Endpoints':
      for (const s of objects(list(o, 'subsets'))) defaultEndpointPorts(s['ports']);
      break;
    case 'EndpointSlice':
      for (const p of objects(list(o, 'ports'))) p['name'] ??= '';
      defaultEndpointPorts(o['ports']);
      for (const e of objects(list(o, 'endpoints'))) sub(e, 'conditions');
      break;
    case 'Secret':
      setStr(o, 'type', 'Opaque');
      sub(o, 'data');
      break;
    case 'ConfigMap':
      sub(o, 'data');
      break;
    case 'Ingress':
      sub(o, 'spec');
      break;
    case 'IngressClass': {
      // SetDefaults_IngressClass: parameters without a scope are cluster-scoped.
      const params = sub(o, 'spec')['parameters'];
      if (isPlainObject(params)) setStr(params, 'scope', 'Cluster');
      break;
    }
    case 'Event':
      defaultEvent(o, opts.epochMs ?? DEFAULT_EPOCH_MS);
      break;
  }
  return aliases;
}
