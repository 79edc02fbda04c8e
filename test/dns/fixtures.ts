// A small cluster for DNS tests: the seed's myapp (ClusterIP), myapp-headless, the
// ExternalName my-service-1, and kube-dns.
import type { EndpointSlice, Service } from '../../src/api/types.ts';
import { buildDnsIndex } from '../../src/dns/index.ts';

export function service(
  name: string,
  spec: Partial<Service['spec']>,
  namespace = 'default',
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', ports: [], sessionAffinity: 'None', ipFamilies: ['IPv4'], ...spec },
  };
}

export function slice(
  svc: string,
  endpoints: { ip: string; ready?: boolean; hostname?: string }[],
  namespace = 'default',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abcde`, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true },
      ...(e.hostname ? { hostname: e.hostname } : {}),
    })),
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  };
}

const http = { name: 'http', port: 80, targetPort: 80, protocol: 'TCP' as const };
const pods = [
  { ip: '10.244.1.2' },
  { ip: '10.244.2.2' },
  { ip: '10.244.1.3' },
  { ip: '10.244.2.3', ready: false },
];

export const seedIndex = () =>
  buildDnsIndex({
    zone: 'cluster.local',
    namespaces: ['default', 'kube-system'],
    services: [
      service('myapp', { clusterIP: '10.100.7.45', ports: [http] }),
      service('myapp-headless', { clusterIP: 'None', ports: [{ ...http, name: 'web' }] }),
      service('empty-headless', { clusterIP: 'None', ports: [http] }),
      service('my-service-1', { type: 'ExternalName', externalName: 'hub.atguigu.com' }),
      service(
        'kube-dns',
        {
          clusterIP: '10.96.0.10',
          ports: [
            { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
          ],
        },
        'kube-system',
      ),
    ],
    endpointSlices: [
      slice('myapp', pods),
      slice('myapp-headless', pods),
      slice('empty-headless', [{ ip: '10.244.1.9', ready: false }]),
    ],
  });
