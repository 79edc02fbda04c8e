// Discovery documents: /version, /api, /apis, /api/v1, /apis/GROUP[/VERSION], in the
// shapes kube-apiserver serves (the legacy APIVersions/APIGroupList/APIResourceList,
// and the aggregated APIGroupDiscoveryList kubectl asks for first).
import { type ServedResource, groupVersion, servedGroups, servedResources } from './resources.ts';

/** /version for a cluster of `gitVersion` (the cluster's kubernetesVersion, v1.32.0 by default). */
export function versionInfo(gitVersion: string): Record<string, string> {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  return {
    major: m?.[1] ?? '1',
    minor: m?.[2] ?? '0',
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

function groupEntry(group: string, versions: string[]): Record<string, unknown> {
  const gvs = versions.map((v) => ({ groupVersion: groupVersion(group, v), version: v }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

export function apiGroupList(minor?: number): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: servedGroups(minor)
      .filter((g) => g.group !== '')
      .map((g) => groupEntry(g.group, g.versions)),
  };
}

/** /apis/GROUP, or undefined when the group is not served. */
export function apiGroup(group: string, minor?: number): Record<string, unknown> | undefined {
  const g = servedGroups(minor).find((x) => x.group === group && group !== '');
  return g === undefined
    ? undefined
    : { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.group, g.versions) };
}

const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
};

function subKind(
  res: ServedResource,
  sub: string,
): { kind: string; group?: string; version?: string } {
  if (sub === 'scale') return { kind: 'Scale', group: 'autoscaling', version: 'v1' };
  if (sub === 'exec') return { kind: 'PodExecOptions' };
  return { kind: res.kind };
}

/** /api/v1 or /apis/GROUP/VERSION, or undefined when not served. */
export function apiResourceList(
  group: string,
  version: string,
  minor?: number,
): Record<string, unknown> | undefined {
  const served = servedResources(minor).filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const res of served) {
    const entry: Record<string, unknown> = {
      name: res.resource,
      singularName: res.singular,
      namespaced: res.namespaced,
      kind: res.kind,
      verbs: res.verbs,
    };
    if (res.shortNames.length > 0) entry['shortNames'] = res.shortNames;
    if (res.categories.length > 0) entry['categories'] = res.categories;
    resources.push(entry);
    for (const sub of res.subresources) {
      resources.push({
        name: `${res.resource}/${sub}`,
        singularName: '',
        namespaced: res.namespaced,
        ...subKind(res, sub),
        verbs: SUB_VERBS[sub],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources,
  };
}

/** The aggregated discovery document (apidiscovery.k8s.io/v2) for /api (core) or /apis. */
export function aggregatedDiscovery(core: boolean, minor?: number): Record<string, unknown> {
  const items = servedGroups(minor)
    .filter((g) => (g.group === '') === core)
    .map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: servedResources(minor)
          .filter((r) => r.group === g.group && r.version === v)
          .map((res) => {
            const entry: Record<string, unknown> = {
              resource: res.resource,
              responseKind: { group: res.group, version: res.version, kind: res.kind },
              scope: res.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: res.singular,
              verbs: res.verbs,
            };
            if (res.shortNames.length > 0) entry['shortNames'] = res.shortNames;
            if (res.categories.length > 0) entry['categories'] = res.categories;
            if (res.subresources.length > 0) {
              entry['subresources'] = res.subresources.map((sub) => {
                const k = subKind(res, sub);
                return {
                  subresource: sub,
                  responseKind: {
                    group: k.group ?? res.group,
                    version: k.version ?? res.version,
                    kind: k.kind,
                  },
                  verbs: SUB_VERBS[sub],
                };
              });
            }
            return entry;
          }),
        freshness: 'Current',
      })),
    }));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items,
  };
}

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
