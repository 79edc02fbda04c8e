// A node (k8s-node01), in iptables mode unless asked otherwise, with two local pods and a route to node02's pods.
import type { Service, EndpointSlice } from '../../src/api/types.ts';
import { NodeDataplane } from '../../src/dataplane/node.ts';
import { ipToU32, parseCidr } from '../../src/packet/addr.ts';
import { newProxier } from '../../src/proxy/modes.ts';
import type { ProxyMode } from '../../src/proxy/modes.ts';
import { seededRandom } from '../../src/proxy/random.ts';
import { ep, makeService, makeSlice, tcp } from '../proxy/fixtures.ts';

export const NODE_IP = ipToU32('10.0.100.11');
export const NODE2_IP = ipToU32('10.0.100.12');
export const GW = ipToU32('10.244.1.1');
export const CLIENT = ipToU32('10.244.1.2');
export const BACKEND_LOCAL = ipToU32('10.244.1.3');
export const BACKEND_REMOTE = ipToU32('10.244.2.2');
export const VIP = ipToU32('10.96.0.100');
export const EMPTY_VIP = ipToU32('10.96.0.200');
export const DNS_VIP = ipToU32('10.96.0.10');
export const EXTERNAL = ipToU32('192.168.1.50');

export interface Harness {
  dp: NodeDataplane;
  emitted: { packet: Uint8Array; ifIndex: number }[];
  clientIf: number;
  backendIf: number;
  clock: { ms: number };
}

export function udp(name: string, port: number) {
  return { name, port, protocol: 'UDP' as const };
}

export function makeNode(
  services: Service[] = defaultServices(),
  slices: EndpointSlice[] = defaultSlices(),
  conntrack: { max?: number } = {},
  mode: ProxyMode = 'iptables',
): Harness {
  const clock = { ms: 1_000_000 };
  const emitted: Harness['emitted'] = [];
  const proxier = newProxier(
    mode,
    { nodeName: 'k8s-node01', nodeIPs: ['10.0.100.11'], clusterCIDR: '10.244.0.0/16' },
    { random: seededRandom(7), nowNs: () => clock.ms * 1e6 },
  );
  for (const s of services) proxier.onServiceAdd(s);
  for (const s of slices) proxier.onEndpointSliceAdd(s);
  proxier.onServiceSynced();
  proxier.onEndpointSlicesSynced();
  proxier.sync();
  const dp = new NodeDataplane({
    name: 'k8s-node01',
    nodeIP: NODE_IP,
    podGateway: GW,
    proxier,
    nowMs: () => clock.ms,
    emit: (packet, ifIndex) => emitted.push({ packet, ifIndex }),
    random: seededRandom(3),
    conntrack,
  });
  const clientIf = dp.addPod('veth-client', CLIENT);
  const backendIf = dp.addPod('veth-backend', BACKEND_LOCAL);
  dp.addUplinkRoute(parseCidr('10.244.2.0/24'), NODE2_IP);
  dp.addUplinkRoute(parseCidr('0.0.0.0/0'), ipToU32('10.0.100.1'));
  return { dp, emitted, clientIf, backendIf, clock };
}

export function defaultServices(): Service[] {
  return [
    makeService('default', 'myapp', {
      clusterIP: '10.96.0.100',
      type: 'NodePort',
      externalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30080 }],
    }),
    makeService('default', 'dns', {
      clusterIP: '10.96.0.10',
      ports: [{ name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }],
    }),
    makeService('default', 'empty', {
      clusterIP: '10.96.0.200',
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    }),
  ];
}

export function defaultSlices(): EndpointSlice[] {
  return [
    makeSlice(
      'default',
      'myapp',
      'myapp-abcde',
      [ep('10.244.1.3', { nodeName: 'k8s-node01' }), ep('10.244.2.2', { nodeName: 'k8s-node02' })],
      [tcp('http', 80)],
    ),
    makeSlice(
      'default',
      'dns',
      'dns-abcde',
      [ep('10.244.2.2', { nodeName: 'k8s-node02' })],
      [udp('dns', 53)],
    ),
  ];
}
