// The shared packet-flow tables (../flow-cases.ts, the ones iptables and nftables modes
// run) through ipvs mode as the node dataplane sees it: IpvsDataplaneProxier over an
// IpvsProxier (kube-proxy's few iptables rules read through ipsets, then IPVS itself).
// Where the kernel's ipvs mode truly answers differently, the case says so in `ipvs`.
import test from 'ava';
import { IpvsDataplaneProxier } from '../../../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import type { IpvsProxierOptions } from '../../../src/proxy/ipvs/proxier.ts';
import { FLOW_SCENARIOS, expectedFor } from '../flow-cases.ts';
import type { FlowScenario } from '../flow-cases.ts';
import { checkFlow, runFlow } from '../flow.ts';
import { TEST_NODE_IP, TEST_NODE_NAME } from '../iptables/kube-fixture.ts';

/** kube-proxy's test node (three node IPs, pod CIDR 10.0.0.0/8), as the other modes use. */
const IPVS_FAKE_OPTIONS: IpvsProxierOptions = {
  nodeName: TEST_NODE_NAME,
  nodeIPs: [TEST_NODE_IP, '192.168.1.2', '192.168.99.11'],
  clusterCIDR: '10.0.0.0/8',
};

function scenarioProxier(s: FlowScenario): IpvsDataplaneProxier {
  const { clusterCIDR, ...base } = IPVS_FAKE_OPTIONS;
  const ipvs = new IpvsProxier({
    ...base,
    ...(s.options?.noClusterCIDR === true || clusterCIDR === undefined ? {} : { clusterCIDR }),
    ...(s.options?.masqueradeAll === true ? { masqueradeAll: true } : {}),
  });
  const px = new IpvsDataplaneProxier(ipvs, () => 0);
  const { services, slices } = s.objects();
  for (const svc of services) px.onServiceAdd(svc);
  for (const slice of slices) px.onEndpointSliceAdd(slice);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

for (const s of FLOW_SCENARIOS) {
  for (const flow of s.flows) {
    const f = expectedFor(flow, 'ipvs');
    const note = flow.ipvs === undefined ? '' : ' (ipvs differs)';
    test(`${s.title}: ${flow.name}${note}`, (t) => {
      const got = runFlow(scenarioProxier(s), f);
      checkFlow(t, got, f, flow.ipvs?.why);
    });
  }
}

test('ClientIP affinity is `persistent TIMEOUT`: each client sticks, clients spread', (t) => {
  const s = FLOW_SCENARIOS.find((x) => x.title === 'session affinity');
  if (s === undefined) return t.fail('no session affinity scenario');
  const px = scenarioProxier(s);
  t.regex(px.ipvs.ipvsadm(), /TCP {2}172\.30\.0\.41:80 rr persistent 10800/);
  const seen = new Set<string>();
  for (let i = 1; i <= 12; i++) {
    const got = runFlow(px, { src: `10.0.1.${i}`, dst: '172.30.0.41', dport: 80 }, 8);
    t.false(got.output.includes(','), `client ${i} sticks: ${got.output}`);
    seen.add(got.output);
  }
  t.is(seen.size, 3, 'rr spreads the clients over every real server');
});
