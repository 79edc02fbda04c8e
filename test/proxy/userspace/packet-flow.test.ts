// The shared packet-flow tables (../flow-cases.ts) through userspace mode. A connection's
// first packet meets the portal rules, which REDIRECT or DNAT it to kube-proxy's own port
// on the node; what reaches a backend is then the relay's choice (LoadBalancerRR), so each
// try here follows the packet to the proxy port and asks the proxier for the backend the
// relay would dial. Where the kernel modes' outcome cannot happen in userspace mode, the
// expectation says why (USERSPACE below).
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { newProxier } from '../../../src/proxy/modes.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import type { UserspaceProxier } from '../../../src/proxy/userspace/proxier.ts';
import { FLOW_SCENARIOS } from '../flow-cases.ts';
import type { FlowCase, FlowScenario } from '../flow-cases.ts';
import { sendFirstPacket } from '../flow.ts';
import { TEST_NODE_IP, TEST_NODE_NAME } from '../iptables/kube-fixture.ts';

function scenarioProxier(s: FlowScenario): UserspaceProxier {
  const { services, slices } = s.objects();
  const px = newProxier(
    'userspace',
    { nodeName: TEST_NODE_NAME, nodeIPs: [TEST_NODE_IP, '192.168.1.2', '192.168.99.11'] },
    { random: seededRandom(1), nowNs: () => 0 },
  ) as UserspaceProxier;
  for (const svc of services) px.onServiceAdd(svc);
  for (const slice of slices) px.onEndpointSliceAdd(slice);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

/**
 * What the client's connection ends up at: the backend the relay dials, CLOSED when
 * kube-proxy accepts and has no endpoint, the first packet's fate otherwise ('' untouched).
 */
function relayed(px: UserspaceProxier, f: FlowCase, tries = 48): string {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const r = sendFirstPacket(px, f, 40000 + i);
    const port = Number(r.output.split(':')[1]);
    const atProxy = r.output !== '' && px.ports().some((p) => p.proxyPort === port);
    if (!atProxy) {
      seen.add(r.output);
      continue;
    }
    noMasquerade(r.masq);
    seen.add(px.nextEndpoint(port, ipToU32(f.src), false)?.endpoint ?? 'CLOSED');
  }
  return [...seen].sort().join(', ');
}

/** userspace mode never masquerades: the relay's own connection carries the node's address. */
function noMasquerade(masq: boolean): void {
  if (masq) throw new Error('userspace mode marked a packet for masquerade');
}

const USERSPACE = {
  closed:
    'no endpoints: the portal still REDIRECTs and kube-proxy accepts, then closes the connection (ProxyLoop: tryConnect fails, inConn.Close())',
  noPolicy:
    'the userspace proxier has no externalTrafficPolicy, loadBalancerSourceRanges or internalTrafficPolicy: every portal relays to all endpoints',
};

/** Cases whose kernel-mode outcome rests on policy the userspace proxier never had. */
const NO_POLICY: Readonly<Record<string, string>> = {
  'load balancer: blocked external to LB1': '10.180.0.1:80',
  'load balancer: blocked external to LB2': '10.180.0.1:80',
  'load balancer: pod to LB1 (blocked by source ranges)': '10.180.0.1:80',
  'externalTrafficPolicy Local: external to external IP: local endpoint, source kept':
    '10.180.0.1:80, 10.180.2.1:80',
  'externalTrafficPolicy Local: external to LB IP: local endpoint, source kept':
    '10.180.0.1:80, 10.180.2.1:80',
  'externalTrafficPolicy Local: external to NodePort: local endpoint, source kept':
    '10.180.0.1:80, 10.180.2.1:80',
  'overall: ns2 Local LB with no local endpoint drops external clients': '10.180.0.2:80',
  'overall: ns2 Local NodePort drops external clients': '10.180.0.2:80',
  'overall: ns5 LB from a blocked range': '10.180.0.3:80',
  'overall: ns5 LB from the node, whose IP is outside the source ranges': '10.180.0.3:80',
  'no cluster CIDR: pod to Local LB has no short-circuit: dropped': '10.180.0.2:80',
};

/** The case as userspace mode answers it (and why, where the kernel modes differ). */
function expected(title: string, f: FlowCase): { output: string; why?: string } {
  const noPolicy = NO_POLICY[`${title}: ${f.name}`];
  if (noPolicy !== undefined) return { output: noPolicy, why: USERSPACE.noPolicy };
  if (f.output === 'REJECT') return { output: 'CLOSED', why: USERSPACE.closed };
  return { output: f.output };
}

for (const s of FLOW_SCENARIOS) {
  for (const flow of s.flows) {
    test(`${s.title}: ${flow.name}`, (t) => {
      const px = scenarioProxier(s);
      const want = expected(s.title, flow);
      const got = relayed(px, flow);
      if (flow.sticky === true && want.why === undefined) {
        t.true(
          flow.output.split(', ').includes(got),
          `sticks to one of ${flow.output}, got ${got}`,
        );
      } else t.is(got, want.output, want.why);
    });
  }
}
