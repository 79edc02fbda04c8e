// The service set behind the golden `nft list ruleset` and the real-nft round trip:
// every kind of service kube-proxy's nftables mode writes something different for,
// on k8s-node01 (10.0.100.11) of the seed cluster.
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import type { NftablesProxierOptions } from '../../../src/proxy/nftables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

export const GOLDEN_NODE = 'k8s-node01';

export const GOLDEN_OPTIONS: NftablesProxierOptions = {
  nodeName: GOLDEN_NODE,
  nodeIPs: ['10.0.100.11'],
  clusterCIDR: '10.244.0.0/16',
  serviceCIDRs: ['10.96.0.0/12'],
};

const here = { nodeName: GOLDEN_NODE };
const there = { nodeName: 'k8s-node02' };
const http = (port: number, extra: object = {}) => ({
  name: 'http',
  port,
  protocol: 'TCP' as const,
  targetPort: 8080,
  ...extra,
});

export function goldenServices(): Service[] {
  return [
    // ClusterIP with three endpoints.
    makeService('default', 'myapp', { clusterIP: '10.96.0.100', ports: [http(80)] }),
    // Several ports and protocols on one ClusterIP.
    makeService('kube-system', 'kube-dns', {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    }),
    // NodePort.
    makeService('default', 'web', {
      type: 'NodePort',
      clusterIP: '10.96.0.120',
      ports: [http(80, { nodePort: 30080 })],
    }),
    // No endpoints: REJECT on the ClusterIP and the NodePort.
    makeService('default', 'empty', {
      type: 'NodePort',
      clusterIP: '10.96.0.130',
      ports: [http(80, { nodePort: 30130 })],
    }),
    // ClientIP affinity.
    makeService('default', 'sticky', {
      clusterIP: '10.96.0.140',
      ports: [http(80)],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    }),
    // externalTrafficPolicy Local with one local and one remote endpoint.
    makeService(
      'default',
      'local',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.150',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        ports: [http(443, { nodePort: 30443 })],
      },
      { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    ),
    // LoadBalancer with source ranges.
    makeService(
      'default',
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.160',
        loadBalancerSourceRanges: ['203.0.113.0/25', '198.51.100.0/24'],
        ports: [http(80, { nodePort: 30160 })],
      },
      { loadBalancer: { ingress: [{ ip: '192.0.2.20' }] } },
    ),
    // externalIPs.
    makeService('default', 'ext', {
      clusterIP: '10.96.0.170',
      externalIPs: ['192.0.2.30'],
      ports: [http(80)],
    }),
  ];
}

export function goldenSlices(): EndpointSlice[] {
  return [
    makeSlice(
      'default',
      'myapp',
      'myapp-1',
      [ep('10.244.1.10', here), ep('10.244.2.10', there), ep('10.244.3.10')],
      [tcp('http', 8080)],
    ),
    makeSlice(
      'kube-system',
      'kube-dns',
      'kube-dns-1',
      [ep('10.244.0.2'), ep('10.244.0.3')],
      [{ name: 'dns', port: 53, protocol: 'UDP' }, tcp('dns-tcp', 53), tcp('metrics', 9153)],
    ),
    makeSlice(
      'default',
      'web',
      'web-1',
      [ep('10.244.1.20', here), ep('10.244.2.20')],
      [tcp('http', 8080)],
    ),
    makeSlice(
      'default',
      'sticky',
      'sticky-1',
      [ep('10.244.1.40', here), ep('10.244.2.40', there)],
      [tcp('http', 8080)],
    ),
    makeSlice(
      'default',
      'local',
      'local-1',
      [ep('10.244.1.50', here), ep('10.244.2.50', there)],
      [tcp('http', 8080)],
    ),
    makeSlice('default', 'lb', 'lb-1', [ep('10.244.2.60', there)], [tcp('http', 8080)]),
    makeSlice('default', 'ext', 'ext-1', [ep('10.244.1.70', here)], [tcp('http', 8080)]),
  ];
}
