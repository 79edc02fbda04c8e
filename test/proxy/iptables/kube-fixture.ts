// The service set of kube-proxy's TestOverallIPTablesRulesWithMultipleServices
// (pkg/proxy/iptables/proxier_test.go, v1.28) and the options of its
// NewFakeProxier, so svclab's compiler can be compared with kube-proxy's own
// expected output line for line.
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import type { IptablesOptions } from '../../../src/proxy/iptables/compile.ts';
import { ServiceMap } from '../../../src/proxy/service-map.ts';
import type { ServicePortEntry } from '../../../src/proxy/service-map.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

export const TEST_NODE_NAME = 'test-node';
export const TEST_NODE_IP = '192.168.0.2';

/**
 * NewFakeProxier (pkg/proxy/iptables/proxier_test.go): pod CIDR 10.0.0.0/8, mark text
 * 0x4000, localhost node ports, no --random-fully (the fake iptables lacks it), and, as
 * kubernetes master has it, both nfacct counters available.
 */
export const FAKE_PROXIER_OPTIONS: IptablesOptions = {
  nodeName: TEST_NODE_NAME,
  nodeIPs: [TEST_NODE_IP, '192.168.1.2', '192.168.99.11'],
  clusterCIDR: '10.0.0.0/8',
  masqueradeMarkText: '0x4000',
  localhostNodePorts: true,
  randomFully: false,
  nfacct: true,
};

/** The same fake as of v1.28 (before the nfacct counters). */
export const FAKE_PROXIER_OPTIONS_V128: IptablesOptions = {
  ...FAKE_PROXIER_OPTIONS,
  version: 'v1.28.0',
};

const p80 = { name: 'p80', port: 80, protocol: 'TCP' as const, targetPort: 80 };

export function overallServices(): Service[] {
  return [
    makeService('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [p80] }),
    makeService(
      'ns2',
      'svc2',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        ports: [{ ...p80, nodePort: 3001 }],
        externalIPs: ['192.168.99.22'],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    makeService('ns3', 'svc3', {
      type: 'NodePort',
      clusterIP: '172.30.0.43',
      ports: [{ ...p80, nodePort: 3003 }],
    }),
    makeService('ns4', 'svc4', {
      type: 'NodePort',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      ports: [p80],
    }),
    makeService(
      'ns5',
      'svc5',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        clusterIP: '172.30.0.45',
        ports: [{ ...p80, nodePort: 3002 }],
        healthCheckNodePort: 30000,
        loadBalancerSourceRanges: [' 203.0.113.0/25'],
      },
      { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
    ),
    makeService('ns6', 'svc6', { clusterIP: '172.30.0.46', ports: [p80] }),
  ];
}

/**
 * TestOverallIPTablesRules / TestOverallNFTablesRules as kubernetes master holds them
 * (iptables commit 2bb4b1042dfd3a7645d1812037074b5eeedfab78, nftables commit
 * 030880a5dc5449403c6d1f0aa146a7dc21d6c6dc): the v1.28 set, with ClientIP affinity
 * (10800 s) on ns5/svc5. The endpoint slices are overallSlices().
 */
export function overallServicesCurrent(): Service[] {
  return overallServices().map((s) =>
    s.metadata.name === 'svc5'
      ? {
          ...s,
          spec: {
            ...s.spec,
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          },
        }
      : s,
  );
}

export function overallSlices(): EndpointSlice[] {
  return [
    makeSlice('ns1', 'svc1', 'svc1-1', [ep('10.180.0.1')], [tcp('p80', 80)]),
    // No nodeName: non-local, so the Local-policy service has no local endpoints.
    makeSlice('ns2', 'svc2', 'svc2-1', [ep('10.180.0.2')], [tcp('p80', 80)]),
    makeSlice('ns3', 'svc3', 'svc3-1', [ep('10.180.0.3')], [tcp('p80', 80)]),
    makeSlice(
      'ns4',
      'svc4',
      'svc4-1',
      [ep('10.180.0.4'), ep('10.180.0.5', { nodeName: TEST_NODE_NAME })],
      [tcp('p80', 80)],
    ),
    makeSlice('ns5', 'svc5', 'svc5-1', [ep('10.180.0.3')], [tcp('p80', 80)]),
  ];
}

/** Feed services and slices through a ServiceMap and return the snapshot entries. */
export function entriesOf(
  services: Service[],
  slices: EndpointSlice[],
  nodeName = TEST_NODE_NAME,
): readonly ServicePortEntry[] {
  const m = new ServiceMap(nodeName);
  for (const s of services) m.updateService(undefined, s);
  for (const s of slices) m.updateEndpointSlice(s, false);
  return m.snapshot().entries;
}

/** TestLoadBalancer (v1.28): two LB IPs, source ranges that include the node IP. */
export function loadBalancerObjects(): { services: Service[]; slices: EndpointSlice[] } {
  const svc = makeService(
    'ns1',
    'svc1',
    {
      type: 'LoadBalancer',
      clusterIP: '172.30.0.41',
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 3001 }],
      loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
    },
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] } },
  );
  const slice = makeSlice(
    'ns1',
    'svc1',
    'svc1-1',
    [ep('10.180.0.1')],
    [{ name: 'p80', port: 80, protocol: 'TCP' }],
  );
  return { services: [svc], slices: [slice] };
}

/** TestTerminatingEndpointsTrafficPolicyLocal "ready endpoints exist" (v1.28). */
export function localAffinityObjects(): { services: Service[]; slices: EndpointSlice[] } {
  const svc = makeService(
    'ns1',
    'svc1',
    {
      type: 'LoadBalancer',
      clusterIP: '172.30.1.1',
      externalTrafficPolicy: 'Local',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      healthCheckNodePort: 30000,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    },
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  );
  const here = { nodeName: TEST_NODE_NAME };
  const slice = makeSlice(
    'ns1',
    'svc1',
    'svc1-1',
    [
      ep('10.0.1.1', { ...here, conditions: { ready: true, serving: true, terminating: false } }),
      ep('10.0.1.2', { ...here, conditions: { ready: true, serving: true, terminating: false } }),
      ep('10.0.1.3', { ...here, conditions: { ready: false, serving: true, terminating: true } }),
      ep('10.0.1.4', { ...here, conditions: { ready: false, serving: false, terminating: true } }),
      ep('10.0.1.5', {
        nodeName: 'host-1',
        conditions: { ready: true, serving: true, terminating: false },
      }),
    ],
    [{ name: '', port: 80, protocol: 'TCP' }],
  );
  return { services: [svc], slices: [slice] };
}

export function loadBalancerFixture(): readonly ServicePortEntry[] {
  const o = loadBalancerObjects();
  return entriesOf(o.services, o.slices);
}

export function localAffinityFixture(): readonly ServicePortEntry[] {
  const o = localAffinityObjects();
  return entriesOf(o.services, o.slices);
}
