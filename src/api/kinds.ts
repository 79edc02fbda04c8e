// The kinds svclab loads, the API versions each is served in, and where each is
// stored after conversion — svclab's miniature of the API server's RESTMapper.

import type { Kind } from './types.ts';

export interface KindInfo {
  kind: Kind;
  /** The version objects are converted to and stored in (types.ts describes this shape). */
  storedVersion: string;
  /** Every apiVersion accepted on input, stored version first. */
  versions: readonly string[];
  namespaced: boolean;
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

/** Kind info for (apiVersion, kind), or undefined when the pair is not served. */
export function lookupKind(apiVersion: string, kind: string): KindInfo | undefined {
  const info = KINDS.get(kind);
  return info !== undefined && info.versions.includes(apiVersion) ? info : undefined;
}

/** kubectl's RESTMapper error for an unserved pair. */
export function noMatchMessage(apiVersion: string, kind: string): string {
  return `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`;
}
