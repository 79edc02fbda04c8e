// The kinds svclab loads, the API versions each is served in (and in which Kubernetes
// releases), and where each is stored after conversion — svclab's miniature of the API
// server's RESTMapper.

import type { Kind } from './types.ts';

export interface KindInfo {
  kind: Kind;
  /** The version objects are converted to and stored in (types.ts describes this shape). */
  storedVersion: string;
  /** Every apiVersion accepted on input, stored version first. */
  versions: readonly string[];
  namespaced: boolean;
}

/**
 * The releases that serve an old or young group version: from minor `since` (inclusive)
 * to minor `removed` (the first release without it). Versions not listed here are served
 * by every release svclab models. From the Kubernetes deprecated-API migration guide:
 * apps/v1beta1|2 and extensions/v1beta1 workloads went in 1.16, extensions/v1beta1 and
 * networking.k8s.io/v1beta1 Ingress in 1.22; networking.k8s.io/v1 Ingress and
 * IngressClass came in 1.19, discovery.k8s.io/v1 EndpointSlice in 1.21.
 */
const SERVED: Record<string, Partial<Record<string, { since?: number; removed?: number }>>> = {
  Deployment: {
    'apps/v1': { since: 9 },
    'apps/v1beta2': { since: 8, removed: 16 },
    'apps/v1beta1': { removed: 16 },
    'extensions/v1beta1': { removed: 16 },
  },
  ReplicaSet: {
    'apps/v1': { since: 9 },
    'apps/v1beta2': { since: 8, removed: 16 },
    'extensions/v1beta1': { removed: 16 },
  },
  EndpointSlice: { 'discovery.k8s.io/v1': { since: 21 } },
  Ingress: {
    'networking.k8s.io/v1': { since: 19 },
    'networking.k8s.io/v1beta1': { since: 14, removed: 22 },
    'extensions/v1beta1': { removed: 22 },
  },
  IngressClass: { 'networking.k8s.io/v1': { since: 19 } },
  Event: { 'events.k8s.io/v1': { since: 19 } },
};

/** Whether release 1.`minor` serves `kind` in `apiVersion` (undefined minor: any release). */
export function servedAt(kind: string, apiVersion: string, minor: number | undefined): boolean {
  if (minor === undefined) return true;
  const r = SERVED[kind]?.[apiVersion];
  return r === undefined || (minor >= (r.since ?? 0) && minor < (r.removed ?? Infinity));
}

/** `served up to v1.15` / `served from v1.19`, for the hint after a no-match error. */
export function servedRange(kind: string, apiVersion: string): string | undefined {
  const r = SERVED[kind]?.[apiVersion];
  if (r === undefined) return undefined;
  const parts: string[] = [];
  if (r.since !== undefined) parts.push(`from v1.${r.since}`);
  if (r.removed !== undefined) parts.push(`up to v1.${r.removed - 1}`);
  return `served ${parts.join(' ')}`;
}

const table: KindInfo[] = [
  { kind: 'Namespace', storedVersion: 'v1', versions: ['v1'], namespaced: false },
  { kind: 'Node', storedVersion: 'v1', versions: ['v1'], namespaced: false },
  { kind: 'Pod', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  { kind: 'Service', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  { kind: 'Endpoints', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  { kind: 'Secret', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  { kind: 'ConfigMap', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  {
    kind: 'Deployment',
    storedVersion: 'apps/v1',
    versions: ['apps/v1', 'apps/v1beta2', 'apps/v1beta1', 'extensions/v1beta1'],
    namespaced: true,
  },
  {
    kind: 'ReplicaSet',
    storedVersion: 'apps/v1',
    versions: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
    namespaced: true,
  },
  {
    kind: 'EndpointSlice',
    storedVersion: 'discovery.k8s.io/v1',
    versions: ['discovery.k8s.io/v1'],
    namespaced: true,
  },
  {
    kind: 'Ingress',
    storedVersion: 'networking.k8s.io/v1',
    versions: ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1', 'extensions/v1beta1'],
    namespaced: true,
  },
  { kind: 'Event', storedVersion: 'v1', versions: ['v1'], namespaced: true },
  {
    kind: 'IngressClass',
    storedVersion: 'networking.k8s.io/v1',
    versions: ['networking.k8s.io/v1'],
    namespaced: false,
  },
];

export const KINDS: ReadonlyMap<string, KindInfo> = new Map(table.map((k) => [k.kind, k]));

/**
 * Kind info for (apiVersion, kind), or undefined when the pair is not served (by release
 * 1.`minor`, when given).
 */
export function lookupKind(apiVersion: string, kind: string, minor?: number): KindInfo | undefined {
  const info = KINDS.get(kind);
  return info !== undefined &&
    info.versions.includes(apiVersion) &&
    servedAt(kind, apiVersion, minor)
    ? info
    : undefined;
}

/** `v1.32.0` → 32; undefined for anything that is not a 1.x version. */
export function kubeMinor(version: string | undefined): number | undefined {
  const m = version === undefined ? null : /^v?1\.(\d+)(?:\.|$)/.exec(version);
  return m === null ? undefined : Number(m[1]);
}

/** kubectl's RESTMapper error for an unserved pair. */
export function noMatchMessage(apiVersion: string, kind: string): string {
  return `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`;
}
