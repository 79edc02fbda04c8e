// The generated cluster every classification, render and kernel benchmark uses: N ClusterIP
// Services (one TCP port 80 → 8080) with E ready endpoints each on another node, fed straight
// into a mode's proxier (no control plane in the way), so the modes see the same state.
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { ipToU32, u32ToIp } from '../src/packet/addr.ts';
import type { DataplaneProxier } from '../src/proxy/hooks.ts';
import { IptablesProxier } from '../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../src/proxy/random.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import { NftablesProxier } from '../src/proxy/nftables/proxier.ts';

export type Mode = 'iptables' | 'ipvs' | 'nftables';
export const MODES: readonly Mode[] = ['iptables', 'ipvs', 'nftables'];

export const ENDPOINTS = 10;
export const NODE_IP = '10.0.100.11';
export const CLUSTER_CIDR = '10.244.0.0/16';
/** A pod on this node: inside the cluster CIDR, so no masquerade mark. */
export const CLIENT_IP = '10.244.1.9';
/** ClusterIP of service i: 10.96.0.16 + i (fits 10.96.0.0/12 for a million services). */
export const SVC_BASE = ipToU32('10.96.0.0') + 16;
/** Endpoints of service i: 10.128.0.0 + 16 i + k, pods on k8s-node02 (10.128.0.0/9). */
export const POD_BASE = ipToU32('10.128.0.0');

export const serviceIp = (i: number): string => u32ToIp(SVC_BASE + i);
export const endpointIp = (i: number, k: number): string => u32ToIp(POD_BASE + i * 16 + k);

export function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${String(i).padStart(6, '0')}`, namespace: 'bench' },
    spec: {
      type: 'ClusterIP',
      clusterIP: serviceIp(i),
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
    },
  };
}

export function slice(i: number, endpoints = ENDPOINTS): EndpointSlice {
  const name = `svc-${String(i).padStart(6, '0')}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-1`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': name },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: endpoints }, (_, k) => ({
      addresses: [endpointIp(i, k)],
      conditions: { ready: true },
      nodeName: 'k8s-node02',
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

const base = { nodeName: 'k8s-node01', nodeIPs: [NODE_IP], clusterCIDR: CLUSTER_CIDR };

export function newIptables(): IptablesProxier {
  return new IptablesProxier({ ...base, random: seededRandom(1), now: () => 0 });
}

export function newNftables(): NftablesProxier {
  return new NftablesProxier({
    ...base,
    serviceCIDRs: ['10.96.0.0/12'],
    random: seededRandom(1),
    now: () => 0,
  });
}

export function newIpvs(): IpvsDataplaneProxier {
  return new IpvsDataplaneProxier(new IpvsProxier({ ...base, now: () => 0 }), () => 0);
}

export function newProxier(mode: Mode): DataplaneProxier {
  return mode === 'iptables' ? newIptables() : mode === 'ipvs' ? newIpvs() : newNftables();
}

/** Feeds n services × endpoints into `px`, not synced yet. */
export function feed<P extends DataplaneProxier>(px: P, n: number, endpoints = ENDPOINTS): P {
  for (let i = 0; i < n; i++) {
    px.onServiceAdd(service(i));
    px.onEndpointSliceAdd(slice(i, endpoints));
  }
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  return px;
}

/** Feeds n services × endpoints into `px` and syncs once (the full sync). */
export function fill<P extends DataplaneProxier>(px: P, n: number, endpoints = ENDPOINTS): P {
  feed(px, n, endpoints).sync();
  return px;
}

/** `count` service indexes spread evenly over 0..n-1 (first, …, last). */
export function spread(n: number, count: number): number[] {
  const c = Math.min(count, n);
  if (c === 1) return [0];
  return Array.from({ length: c }, (_, k) => Math.round((k * (n - 1)) / (c - 1)));
}
