// Packet-flow tables run through the compiled rules (kube-proxy's runPacketFlowTests
// cases, v1.28, plus svclab's own): DNAT target or REJECT/DROP, masqueraded or not.
import test from 'ava';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import type { IptablesProxierOptions } from '../../../src/proxy/iptables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { runFlow } from './flow.ts';
import type { Flow } from './flow.ts';
import {
  FAKE_PROXIER_OPTIONS,
  TEST_NODE_IP,
  TEST_NODE_NAME,
  loadBalancerObjects,
  overallServices,
  overallSlices,
} from './kube-fixture.ts';

const EXTERNAL_CLIENT = '203.0.113.2';
const EXTERNAL_CLIENT_BLOCKED = '203.0.113.130';
const NODE_IP_ALT = '192.168.1.2';
const NODE_EXTERNAL_IP = '192.168.99.11';

function proxier(
  services: Service[],
  slices: EndpointSlice[],
  opts: Partial<IptablesProxierOptions> = {},
): IptablesProxier {
  const px = new IptablesProxier({ ...FAKE_PROXIER_OPTIONS, ...opts });
  for (const s of services) px.onServiceAdd(s);
  for (const s of slices) px.onEndpointSliceAdd(s);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

function table(title: string, make: () => IptablesProxier, flows: Flow[]): void {
  for (const f of flows) {
    test(`${title}: ${f.name}`, (t) => {
      const got = runFlow(make(), f);
      t.is(got.output, f.output);
      if (f.masq !== undefined) t.is(got.masq, f.masq);
    });
  }
}

const p80 = { name: 'p80', port: 80, protocol: 'TCP' as const, targetPort: 80 };

// TestNoEndpointsReject.
table(
  'no endpoints',
  () =>
    proxier(
      [
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
      [],
    ),
  [
    { name: 'pod to cluster IP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, output: 'REJECT' },
    {
      name: 'external to external IP',
      src: EXTERNAL_CLIENT,
      dst: NODE_EXTERNAL_IP,
      dport: 80,
      output: 'REJECT',
    },
    { name: 'pod to NodePort', src: '10.0.0.2', dst: TEST_NODE_IP, dport: 3001, output: 'REJECT' },
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
);

// TestClusterIPGeneral.
table(
  'cluster IP',
  () =>
    proxier(
      [
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
      [
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
    ),
  [
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
    },
    {
      name: "svc1 does not accept svc2's ports",
      src: '10.180.0.2',
      dst: '172.30.0.41',
      dport: 443,
      output: '',
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
);

// TestLoadBalancer.
const lb = () => {
  const o = loadBalancerObjects();
  return proxier(o.services, o.slices);
};
table('load balancer', lb, [
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
]);

// TestNodePort, plus every node IP and loopback.
const nodePort = () =>
  proxier(
    [
      makeService('ns1', 'svc1', {
        type: 'NodePort',
        clusterIP: '172.30.0.41',
        ports: [{ ...p80, nodePort: 3001 }],
      }),
    ],
    [makeSlice('ns1', 'svc1', 'svc1-1', [ep('10.180.0.1')], [tcp('p80', 80)])],
  );
table('node port', nodePort, [
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
]);

// TestExternalTrafficPolicyLocal.
const etpLocal = () =>
  proxier(
    [
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
    [
      makeSlice(
        'ns1',
        'svc1',
        'svc1-1',
        [ep('10.180.0.1'), ep('10.180.2.1', { nodeName: TEST_NODE_NAME })],
        [tcp('p80', 80)],
      ),
    ],
  );
table('externalTrafficPolicy Local', etpLocal, [
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
  },
  {
    name: 'node to LB IP is masqueraded and uses the cluster policy',
    src: TEST_NODE_IP,
    dst: '1.2.3.4',
    dport: 80,
    output: '10.180.0.1:80, 10.180.2.1:80',
    masq: true,
  },
]);

// The overall service set: every service type at once.
const overall = () => proxier(overallServices(), overallSlices());
table('overall', overall, [
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
    name: 'ns6 without endpoints rejects',
    src: '10.0.0.2',
    dst: '172.30.0.46',
    dport: 80,
    output: 'REJECT',
  },
]);

table('masqueradeAll', () => proxier(overallServices(), overallSlices(), { masqueradeAll: true }), [
  {
    name: 'pod to cluster IP is masqueraded',
    src: '10.0.0.2',
    dst: '172.30.0.41',
    dport: 80,
    output: '10.180.0.1:80',
    masq: true,
  },
]);

table(
  'no cluster CIDR',
  () => {
    const { clusterCIDR: _unused, ...rest } = FAKE_PROXIER_OPTIONS;
    const px = new IptablesProxier(rest);
    for (const s of overallServices()) px.onServiceAdd(s);
    for (const s of overallSlices()) px.onEndpointSliceAdd(s);
    px.sync();
    return px;
  },
  [
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
    },
  ],
);
