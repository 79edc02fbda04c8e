// The shared packet-flow tables (../flow-cases.ts, the same ones the iptables mode
// runs) through the nftables ruleset, plus cases only nftables mode has.
import test from 'ava';
import { FLOW_SCENARIOS, expectedFor } from '../flow-cases.ts';
import { makeService } from '../fixtures.ts';
import { nftProxier, scenarioProxier } from './fixture.ts';
import { checkFlow, runFlow } from '../flow.ts';

for (const s of FLOW_SCENARIOS) {
  for (const flow of s.flows) {
    const f = expectedFor(flow, 'nftables');
    const note = flow.nftables === undefined ? '' : ' (nftables differs)';
    test(`${s.title}: ${flow.name}${note}`, (t) => {
      const got = runFlow(scenarioProxier(s), f);
      checkFlow(t, got, f, flow.nftables?.why);
    });
  }
}

const svc1 = makeService('ns1', 'svc1', {
  clusterIP: '172.30.0.41',
  ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
});

test('cluster-ips-check drops traffic to an unallocated address of the service CIDR', (t) => {
  const px = nftProxier([svc1], []);
  t.is(runFlow(px, { src: '10.180.0.2', dst: '172.30.0.50', dport: 80 }).output, 'DROP');
  t.is(runFlow(px, { src: '10.180.0.2', dst: '172.31.0.50', dport: 80 }).output, '');
});

test('without known service CIDRs an unallocated address is left alone', (t) => {
  const px = nftProxier([svc1], [], { serviceCIDRs: [] });
  t.is(runFlow(px, { src: '10.180.0.2', dst: '172.30.0.50', dport: 80 }).output, '');
  t.false(px.listRuleset().includes('Drop traffic to unallocated ClusterIPs'));
});

test("nodePortAddresses 'all' takes NodePorts on every local address but loopback", (t) => {
  const np = makeService('ns1', 'np', {
    type: 'NodePort',
    clusterIP: '172.30.0.41',
    ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 3001 }],
  });
  const px = nftProxier([np], [], { nodePortAddresses: 'all' });
  const list = px.listRuleset();
  t.true(
    list.includes(
      'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
    ),
  );
  t.false(list.includes('set nodeport-ips'));
  t.is(runFlow(px, { src: '203.0.113.2', dst: '192.168.1.2', dport: 3001 }).output, 'REJECT');
  t.is(runFlow(px, { src: '127.0.0.1', dst: '127.0.0.1', dport: 3001 }).output, '');
});

test('nodePortAddresses selects which node IPs take NodePorts', (t) => {
  const np = makeService('ns1', 'np', {
    type: 'NodePort',
    clusterIP: '172.30.0.41',
    ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80, nodePort: 3001 }],
  });
  const px = nftProxier([np], [], { nodePortAddresses: ['192.168.0.0/24'] });
  t.is(runFlow(px, { src: '203.0.113.2', dst: '192.168.0.2', dport: 3001 }).output, 'REJECT');
  t.is(runFlow(px, { src: '203.0.113.2', dst: '192.168.1.2', dport: 3001 }).output, '');
});
