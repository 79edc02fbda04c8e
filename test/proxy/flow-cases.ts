// The packet-flow tables every proxy mode runs (kube-proxy's runPacketFlowTests cases,
// v1.28, plus svclab's own): which objects, which first packets, and the DNAT target
// or REJECT/DROP each must get. Where kube-proxy's own nftables tests expect something
// else for the same packet, the case says so in `nftables`, with the reason; where the
// kernel's ipvs mode answers differently, in `ipvs`.
import type { EndpointSlice, Service } from '../../src/api/types.ts';
import { ep, makeService, makeSlice, tcp } from './fixtures.ts';
import {
  TEST_NODE_IP,
  TEST_NODE_NAME,
  loadBalancerObjects,
  overallServices,
  overallSlices,
} from './iptables/kube-fixture.ts';

export const EXTERNAL_CLIENT = '203.0.113.2';
export const EXTERNAL_CLIENT_BLOCKED = '203.0.113.130';
export const NODE_IP_ALT = '192.168.1.2';
export const NODE_EXTERNAL_IP = '192.168.99.11';

/** What one mode expects instead of the shared outcome, and why. */
export interface FlowOverride {
  readonly output: string;
  readonly masq?: boolean;
  readonly why: string;
}

export interface FlowCase {
  readonly name: string;
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto?: 'tcp' | 'udp' | 'sctp';
  /** `ip:port[, ip:port...]` (every target seen), REJECT, DROP, or '' (untouched). */
  readonly output: string;
  readonly masq?: boolean;
  /**
   * ClientIP affinity: every connection from the client reaches the same ONE of the
   * endpoints in `output` (which one is the mode's random or scheduler pick).
   */
  readonly sticky?: boolean;
  /** kube-proxy's nftables mode answers differently (its proxier_test.go says so). */
  readonly nftables?: FlowOverride;
  /** kube-proxy's ipvs mode (IPVS + its few iptables rules) answers differently. */
  readonly ipvs?: FlowOverride;
}

export type FlowMode = 'iptables' | 'nftables' | 'ipvs';

/** Mode-neutral proxier options a scenario changes from the kube-proxy test defaults. */
export interface ScenarioOptions {
  readonly masqueradeAll?: boolean;
  /** No --cluster-cidr: no local-traffic detector. */
  readonly noClusterCIDR?: boolean;
}

export interface FlowScenario {
  readonly title: string;
  readonly objects: () => { services: Service[]; slices: EndpointSlice[] };
  readonly options?: ScenarioOptions;
  readonly flows: readonly FlowCase[];
}

/** The case as a given mode expects it. */
export function expectedFor(f: FlowCase, mode: FlowMode): FlowCase {
  const o = mode === 'iptables' ? undefined : f[mode];
  if (o === undefined) return f;
  const { masq: _m, ...rest } = f;
  return { ...rest, output: o.output, ...(o.masq === undefined ? {} : { masq: o.masq }) };
}

const p80 = { name: 'p80', port: 80, protocol: 'TCP' as const, targetPort: 80 };

/** nftables mode rejects any port of an allocated cluster IP it does not serve. */
const CLUSTER_IPS_CHECK =
  'nftables cluster-ips-check rejects unserved ports of an active ClusterIP (TestClusterIPGeneral)';

/** ipvs mode's filter INPUT rejects new connections to unserved ports of a kube-ipvs0 address. */
const IPVS_FILTER =
  'KUBE-IPVS-FILTER: ctstate NEW to a KUBE-IPVS-IPS address on a port in no service set is REJECTed (kubernetes#72236)';

/** ipvs syncEndpoint(): ExternalPolicyLocal with no local endpoint falls back to all of them. */
const IPVS_LOCAL_FALLBACK =
  'ipvs syncEndpoint() gives a Local-policy virtual service with no local endpoint the cluster endpoints (kubernetes#97081); KUBE-*-LOCAL sets skip the masquerade mark, so the source is kept';

/** ipvs has no short-circuit for in-cluster traffic to a Local LB/external IP. */
const IPVS_NO_SHORT_CIRCUIT =
  'ipvs: the LB IP virtual service holds only the local endpoints (syncEndpoint(ExternalPolicyLocal)), for pods and the node too; no KUBE-XLB-style short-circuit to the cluster policy, and KUBE-LOAD-BALANCER-LOCAL returns before KUBE-MARK-MASQ';

export const FLOW_SCENARIOS: readonly FlowScenario[] = [
  // TestNoEndpointsReject.
  {
    title: 'no endpoints',
    objects: () => ({
      services: [
        makeService(
          'ns1',
          'svc1',
          {
            type: 'LoadBalancer',
            clusterIP: '172.30.0.41',
            externalIPs: [NODE_EXTERNAL_IP],
            ports: [{ ...p80, nodePort: 3001 }],
          },
          { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
        ),
      ],
      slices: [],
    }),
    flows: [
      {
        name: 'pod to cluster IP',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: 'REJECT',
      },
      {
        name: 'external to external IP',
        src: EXTERNAL_CLIENT,
        dst: NODE_EXTERNAL_IP,
        dport: 80,
        output: 'REJECT',
      },
      {
        name: 'pod to NodePort',
        src: '10.0.0.2',
        dst: TEST_NODE_IP,
        dport: 3001,
        output: 'REJECT',
      },
      {
        name: 'external to NodePort',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: 'REJECT',
      },
      {
        name: 'pod to LoadBalancer IP',
        src: '10.0.0.2',
        dst: '1.2.3.4',
        dport: 80,
        output: 'REJECT',
      },
      {
        name: 'external to LoadBalancer IP',
        src: EXTERNAL_CLIENT,
        dst: '1.2.3.4',
        dport: 80,
        output: 'REJECT',
      },
      {
        name: 'node to cluster IP',
        src: TEST_NODE_IP,
        dst: '172.30.0.41',
        dport: 80,
        output: 'REJECT',
      },
    ],
  },

  // TestClusterIPGeneral.
  {
    title: 'cluster IP',
    objects: () => ({
      services: [
        makeService('ns1', 'svc1', {
          clusterIP: '172.30.0.41',
          ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
        }),
        makeService('ns2', 'svc2', {
          clusterIP: '172.30.0.42',
          ports: [
            { name: 'http', port: 80, protocol: 'TCP', targetPort: 80 },
            { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
            { name: 'dns-sctp', port: 53, protocol: 'SCTP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
          ],
        }),
      ],
      slices: [
        makeSlice(
          'ns1',
          'svc1',
          'svc1-1',
          [ep('10.180.0.1', { nodeName: TEST_NODE_NAME })],
          [tcp('http', 80)],
        ),
        makeSlice(
          'ns2',
          'svc2',
          'svc2-1',
          [ep('10.180.0.1', { nodeName: TEST_NODE_NAME }), ep('10.180.2.1', { nodeName: 'host2' })],
          [
            tcp('http', 80),
            tcp('https', 8443),
            { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
            tcp('dns-tcp', 5353),
          ],
        ),
      ],
    }),
    flows: [
      {
        name: 'simple clusterIP',
        src: '10.180.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: false,
      },
      {
        name: 'hairpin to cluster IP',
        src: '10.180.0.1',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'multiple endpoints',
        src: '10.180.0.2',
        dst: '172.30.0.42',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80',
        masq: false,
      },
      {
        name: 'TargetPort',
        src: '10.180.0.2',
        dst: '172.30.0.42',
        dport: 443,
        output: '10.180.0.1:8443, 10.180.2.1:8443',
        masq: false,
      },
      {
        name: 'TCP on a port shared with SCTP',
        src: '10.180.0.2',
        dst: '172.30.0.42',
        dport: 53,
        proto: 'tcp',
        output: '10.180.0.1:5353, 10.180.2.1:5353',
        masq: false,
      },
      {
        name: 'SCTP on a port shared with TCP',
        src: '10.180.0.2',
        dst: '172.30.0.42',
        dport: 53,
        proto: 'sctp',
        output: '10.180.0.1:53, 10.180.2.1:53',
        masq: false,
      },
      {
        name: 'TCP-only port does not match UDP',
        src: '10.180.0.2',
        dst: '172.30.0.42',
        dport: 80,
        proto: 'udp',
        output: '',
        nftables: { output: 'REJECT', why: CLUSTER_IPS_CHECK },
        ipvs: { output: 'REJECT', why: IPVS_FILTER },
      },
      {
        name: "svc1 does not accept svc2's ports",
        src: '10.180.0.2',
        dst: '172.30.0.41',
        dport: 443,
        output: '',
        nftables: { output: 'REJECT', why: CLUSTER_IPS_CHECK },
        ipvs: { output: 'REJECT', why: IPVS_FILTER },
      },
      {
        name: 'off-cluster source is masqueraded',
        src: EXTERNAL_CLIENT,
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
    ],
  },

  // TestLoadBalancer.
  {
    title: 'load balancer',
    objects: loadBalancerObjects,
    flows: [
      {
        name: 'pod to cluster IP',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: false,
      },
      {
        name: 'external to nodePort',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'nodePort bypasses source ranges',
        src: EXTERNAL_CLIENT_BLOCKED,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'accepted external to LB1',
        src: EXTERNAL_CLIENT,
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'accepted external to LB2',
        src: EXTERNAL_CLIENT,
        dst: '5.6.7.8',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'blocked external to LB1',
        src: EXTERNAL_CLIENT_BLOCKED,
        dst: '1.2.3.4',
        dport: 80,
        output: 'DROP',
      },
      {
        name: 'blocked external to LB2',
        src: EXTERNAL_CLIENT_BLOCKED,
        dst: '5.6.7.8',
        dport: 80,
        output: 'DROP',
      },
      {
        name: 'pod to LB1 (blocked by source ranges)',
        src: '10.0.0.2',
        dst: '1.2.3.4',
        dport: 80,
        output: 'DROP',
      },
      {
        name: 'node to LB1 (allowed by source ranges)',
        src: TEST_NODE_IP,
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'same node to LB1, SNATted to LB1',
        src: '1.2.3.4',
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
    ],
  },

  // TestNodePort, plus every node IP and loopback.
  {
    title: 'node port',
    objects: () => ({
      services: [
        makeService('ns1', 'svc1', {
          type: 'NodePort',
          clusterIP: '172.30.0.41',
          ports: [{ ...p80, nodePort: 3001 }],
        }),
      ],
      slices: [makeSlice('ns1', 'svc1', 'svc1-1', [ep('10.180.0.1')], [tcp('p80', 80)])],
    }),
    flows: [
      {
        name: 'pod to cluster IP',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: false,
      },
      {
        name: 'external to nodePort',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'external to nodePort on the second node IP',
        src: EXTERNAL_CLIENT,
        dst: NODE_IP_ALT,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'external to nodePort on the third node IP',
        src: EXTERNAL_CLIENT,
        dst: NODE_EXTERNAL_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'pod to nodePort',
        src: '10.0.0.2',
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'node to nodePort',
        src: TEST_NODE_IP,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
      },
      {
        name: 'localhost to nodePort gets masqueraded',
        src: '127.0.0.1',
        dst: '127.0.0.1',
        dport: 3001,
        output: '10.180.0.1:80',
        masq: true,
        nftables: {
          output: '',
          masq: false,
          why: 'nftables mode never serves NodePorts on 127.0.0.0/8 (no route_localnet; KEP-3866)',
        },
        ipvs: {
          output: '',
          masq: false,
          why: 'ipvs syncProxyRules skips loopback node addresses (a.IsLoopback()): no virtual service on 127.0.0.1:nodePort; localhostNodePorts is iptables-only',
        },
      },
      {
        name: 'nodePort on an address that is not the node',
        src: EXTERNAL_CLIENT,
        dst: '192.168.0.99',
        dport: 3001,
        output: '',
      },
      {
        name: 'wrong port on the node',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3002,
        output: '',
      },
    ],
  },

  // TestExternalTrafficPolicyLocal.
  {
    title: 'externalTrafficPolicy Local',
    objects: () => ({
      services: [
        makeService(
          'ns1',
          'svc1',
          {
            type: 'LoadBalancer',
            clusterIP: '172.30.0.41',
            ports: [{ ...p80, nodePort: 3001 }],
            healthCheckNodePort: 30000,
            externalIPs: [NODE_EXTERNAL_IP],
            externalTrafficPolicy: 'Local',
          },
          { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
        ),
      ],
      slices: [
        makeSlice(
          'ns1',
          'svc1',
          'svc1-1',
          [ep('10.180.0.1'), ep('10.180.2.1', { nodeName: TEST_NODE_NAME })],
          [tcp('p80', 80)],
        ),
      ],
    }),
    flows: [
      {
        name: 'pod to cluster IP hits both endpoints',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80',
        masq: false,
      },
      {
        name: 'external to external IP: local endpoint, source kept',
        src: EXTERNAL_CLIENT,
        dst: NODE_EXTERNAL_IP,
        dport: 80,
        output: '10.180.2.1:80',
        masq: false,
      },
      {
        name: 'external to LB IP: local endpoint, source kept',
        src: EXTERNAL_CLIENT,
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.2.1:80',
        masq: false,
      },
      {
        name: 'external to NodePort: local endpoint, source kept',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.2.1:80',
        masq: false,
      },
      {
        name: 'pod to LB IP short-circuits to the cluster policy',
        src: '10.0.0.2',
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80',
        masq: false,
        ipvs: { output: '10.180.2.1:80', masq: false, why: IPVS_NO_SHORT_CIRCUIT },
      },
      {
        name: 'node to LB IP is masqueraded and uses the cluster policy',
        src: TEST_NODE_IP,
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80',
        masq: true,
        ipvs: { output: '10.180.2.1:80', masq: false, why: IPVS_NO_SHORT_CIRCUIT },
      },
    ],
  },

  // The overall service set: every service type at once.
  {
    title: 'overall',
    objects: () => ({ services: overallServices(), slices: overallSlices() }),
    flows: [
      {
        name: 'ns1 cluster IP',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: false,
      },
      {
        name: 'ns2 Local LB with no local endpoint drops external clients',
        src: EXTERNAL_CLIENT,
        dst: '1.2.3.4',
        dport: 80,
        output: 'DROP',
        ipvs: { output: '10.180.0.2:80', masq: false, why: IPVS_LOCAL_FALLBACK },
      },
      {
        name: 'ns2 Local LB still serves pods',
        src: '10.0.0.2',
        dst: '1.2.3.4',
        dport: 80,
        output: '10.180.0.2:80',
        masq: false,
      },
      {
        name: 'ns2 Local NodePort drops external clients',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: 'DROP',
        ipvs: { output: '10.180.0.2:80', masq: false, why: IPVS_LOCAL_FALLBACK },
      },
      {
        name: 'ns3 NodePort',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3003,
        output: '10.180.0.3:80',
        masq: true,
      },
      {
        name: 'ns4 external IP',
        src: EXTERNAL_CLIENT,
        dst: '192.168.99.33',
        dport: 80,
        output: '10.180.0.4:80, 10.180.0.5:80',
        masq: true,
      },
      {
        name: 'ns5 LB from an allowed range',
        src: EXTERNAL_CLIENT,
        dst: '5.6.7.8',
        dport: 80,
        output: '10.180.0.3:80',
        masq: true,
      },
      {
        name: 'ns5 LB from a blocked range',
        src: EXTERNAL_CLIENT_BLOCKED,
        dst: '5.6.7.8',
        dport: 80,
        output: 'DROP',
      },
      {
        // The node reaching its own LB IP picks that IP as source (local route, src = dst).
        name: 'ns5 LB from the node, whose IP is outside the source ranges',
        src: '5.6.7.8',
        dst: '5.6.7.8',
        dport: 80,
        output: 'DROP',
      },
      {
        name: 'ns6 without endpoints rejects',
        src: '10.0.0.2',
        dst: '172.30.0.46',
        dport: 80,
        output: 'REJECT',
      },
    ],
  },

  // ClientIP session affinity (iptables `recent`, nftables affinity sets, ipvs
  // `persistent TIMEOUT`): one client's connections all reach one endpoint.
  {
    title: 'session affinity',
    objects: () => ({
      services: [
        makeService('ns1', 'svc1', {
          type: 'NodePort',
          clusterIP: '172.30.0.41',
          externalIPs: ['192.168.99.44'],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          ports: [{ ...p80, nodePort: 3001 }],
        }),
      ],
      slices: [
        makeSlice(
          'ns1',
          'svc1',
          'svc1-1',
          [ep('10.180.0.1'), ep('10.180.2.1'), ep('10.180.3.1')],
          [tcp('p80', 80)],
        ),
      ],
    }),
    flows: [
      {
        name: 'pod to cluster IP sticks to one endpoint',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80, 10.180.3.1:80',
        sticky: true,
        masq: false,
      },
      {
        name: 'external to NodePort sticks to one endpoint',
        src: EXTERNAL_CLIENT,
        dst: TEST_NODE_IP,
        dport: 3001,
        output: '10.180.0.1:80, 10.180.2.1:80, 10.180.3.1:80',
        sticky: true,
        masq: true,
      },
      {
        name: 'external to external IP sticks to one endpoint',
        src: EXTERNAL_CLIENT,
        dst: '192.168.99.44',
        dport: 80,
        output: '10.180.0.1:80, 10.180.2.1:80, 10.180.3.1:80',
        sticky: true,
        masq: true,
      },
    ],
  },

  {
    title: 'masqueradeAll',
    objects: () => ({ services: overallServices(), slices: overallSlices() }),
    options: { masqueradeAll: true },
    flows: [
      {
        name: 'pod to cluster IP is masqueraded',
        src: '10.0.0.2',
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
    ],
  },

  {
    title: 'no cluster CIDR',
    objects: () => ({ services: overallServices(), slices: overallSlices() }),
    options: { noClusterCIDR: true },
    flows: [
      {
        name: 'external to cluster IP keeps its source (no local detector)',
        src: EXTERNAL_CLIENT,
        dst: '172.30.0.41',
        dport: 80,
        output: '10.180.0.1:80',
        masq: false,
      },
      {
        name: 'pod to Local LB has no short-circuit: dropped',
        src: '10.0.0.2',
        dst: '1.2.3.4',
        dport: 80,
        output: 'DROP',
        ipvs: { output: '10.180.0.2:80', masq: false, why: IPVS_LOCAL_FALLBACK },
      },
    ],
  },
];
