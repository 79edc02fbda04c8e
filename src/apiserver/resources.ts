// The resources the API server serves: each group/version's REST resources with the
// names, short names, verbs and subresources kube-apiserver's discovery gives them, and
// the stored kind behind each. Old group versions (extensions/v1beta1) are served as
// the seed's cluster served them, converted to and from the stored version.
import { servedAt } from '../api/kinds.ts';
import type { Kind } from '../api/types.ts';

export type Subresource = 'status' | 'scale' | 'log' | 'exec';

export interface ServedResource {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The plural, as in URLs: `deployments`. */
  resource: string;
  singular: string;
  /** The kind in this group version (may differ from the stored kind's version). */
  kind: string;
  stored: Kind;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: Subresource[];
}

const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];
const NO_COLLECTION_DELETE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string,
  version: string,
  resource: string,
  kind: string,
  stored: Kind,
  extra: Partial<ServedResource> = {},
): ServedResource {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    stored,
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    ...extra,
  };
}

/**
 * The old group has no `all` category and no short names: `kubectl get all` lists each
 * object once, and `deploy`/`ing` resolve to apps and networking.k8s.io without
 * kubectl's "could also match lower priority resource" warning.
 */
const current = (group: string): boolean => group !== 'extensions';

const workloads = (group: string, version: string): ServedResource[] => [
  r(group, version, 'deployments', 'Deployment', 'Deployment', {
    shortNames: current(group) ? ['deploy'] : [],
    categories: current(group) ? ['all'] : [],
    subresources: ['scale', 'status'],
  }),
  r(group, version, 'replicasets', 'ReplicaSet', 'ReplicaSet', {
    shortNames: current(group) ? ['rs'] : [],
    categories: current(group) ? ['all'] : [],
    subresources: ['scale', 'status'],
  }),
];

const ingresses = (group: string, version: string): ServedResource =>
  r(group, version, 'ingresses', 'Ingress', 'Ingress', {
    shortNames: current(group) ? ['ing'] : [],
    subresources: ['status'],
  });

/** Every served resource, groups in discovery order (the RESTMapper prefers earlier ones). */
export const RESOURCES: readonly ServedResource[] = [
  r('', 'v1', 'configmaps', 'ConfigMap', 'ConfigMap', { shortNames: ['cm'] }),
  r('', 'v1', 'endpoints', 'Endpoints', 'Endpoints', { shortNames: ['ep'], singular: 'endpoints' }),
  r('', 'v1', 'events', 'Event', 'Event', { shortNames: ['ev'] }),
  r('', 'v1', 'namespaces', 'Namespace', 'Namespace', {
    namespaced: false,
    shortNames: ['ns'],
    verbs: NO_COLLECTION_DELETE,
    subresources: ['status'],
  }),
  r('', 'v1', 'nodes', 'Node', 'Node', {
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
  }),
  r('', 'v1', 'pods', 'Pod', 'Pod', {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log', 'exec'],
  }),
  r('', 'v1', 'secrets', 'Secret', 'Secret'),
  r('', 'v1', 'services', 'Service', 'Service', {
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
  }),
  ...workloads('apps', 'v1'),
  r('events.k8s.io', 'v1', 'events', 'Event', 'Event', { shortNames: ['ev'] }),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', 'EndpointSlice'),
  ingresses('networking.k8s.io', 'v1'),
  r('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', 'IngressClass', {
    namespaced: false,
  }),
  ...workloads('extensions', 'v1beta1'),
  ingresses('extensions', 'v1beta1'),
];

/** `apps/v1`, or `v1` for the core group. */
export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

const byMinor = new Map<number | undefined, readonly ServedResource[]>();

/**
 * The resources release 1.`minor` serves (undefined: all of them): a v1.15 server has
 * extensions/v1beta1 workloads but no networking.k8s.io/v1, a v1.22 one the reverse
 * (api/kinds.ts SERVED holds the releases).
 */
export function servedResources(minor?: number): readonly ServedResource[] {
  let list = byMinor.get(minor);
  if (list === undefined) {
    const served = RESOURCES.filter((res) =>
      servedAt(res.stored, groupVersion(res.group, res.version), minor),
    );
    // Short names and the `all` category belong to the preferred group version; where a
    // release lacks it (v1.15: no networking.k8s.io/v1), the first one served has them.
    list = served.map((res) => {
      const first = RESOURCES.find((r) => r.resource === res.resource && r.stored === res.stored)!;
      const firstServed = served.find(
        (r) => r.resource === res.resource && r.stored === res.stored,
      );
      return first !== res && firstServed === res
        ? { ...res, shortNames: first.shortNames, categories: first.categories }
        : res;
    });
    byMinor.set(minor, list);
  }
  return list;
}

/** The served groups, in discovery order, each with its versions (preferred first). */
export function servedGroups(minor?: number): { group: string; versions: string[] }[] {
  const out: { group: string; versions: string[] }[] = [];
  for (const res of servedResources(minor)) {
    let g = out.find((x) => x.group === res.group);
    if (g === undefined) out.push((g = { group: res.group, versions: [] }));
    if (!g.versions.includes(res.version)) g.versions.push(res.version);
  }
  return out;
}

const byPath = new Map<string, ServedResource>(
  RESOURCES.map((res) => [`${groupVersion(res.group, res.version)}/${res.resource}`, res]),
);

/** The resource at `group/version/plural`, if served (by release 1.`minor`, when given). */
export function findResource(
  group: string,
  version: string,
  resource: string,
  minor?: number,
): ServedResource | undefined {
  const res = byPath.get(`${groupVersion(group, version)}/${resource}`);
  return res !== undefined && servedAt(res.stored, groupVersion(group, version), minor)
    ? res
    : undefined;
}

/** The resource serving `apiVersion` + `kind`, if served (kubectl sends the kind it read). */
export function resourceForKind(apiVersion: string, kind: string): ServedResource | undefined {
  return RESOURCES.find(
    (res) => groupVersion(res.group, res.version) === apiVersion && res.kind === kind,
  );
}

/** The preferred (first) resource storing `kind`: what owner references and events name. */
export function preferredResource(kind: Kind): ServedResource | undefined {
  return RESOURCES.find((res) => res.stored === kind);
}
