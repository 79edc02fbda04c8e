// A node's own packets, on the kernel's path (ip_output → OUTPUT → routing → POSTROUTING,
// and back in through lo to filter INPUT), and route_localnet as each mode's kube-proxy
// leaves it. Each case is one the kernel differential test (test/kernel/) checks against
// the real kernel; here they run without root.
import test from 'ava';
import { Drop, Verdict } from '../../src/dataplane/counters.ts';
import { LOCAL_IF } from '../../src/dataplane/node.ts';
import { buildTcp } from '../../src/packet/build.ts';
import { parsePacket } from '../../src/packet/parse.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { ipToU32 } from '../../src/packet/addr.ts';
import { IptablesProxier } from '../../src/proxy/iptables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../proxy/fixtures.ts';
import { BACKEND_LOCAL, GW, NODE_IP, defaultServices, defaultSlices, makeNode } from './harness.ts';

const SYN = TcpFlags.SYN;
const LOOPBACK = ipToU32('127.0.0.1');
const API_VIP = ipToU32('10.96.0.1');

function services() {
  return [
    ...defaultServices(),
    makeService('default', 'nothing', {
      clusterIP: '10.96.0.201',
      type: 'NodePort',
      externalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30201 }],
    }),
    makeService('default', 'kubernetes', {
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }],
    }),
    makeService('default', 'local-only', {
      clusterIP: '10.96.0.150',
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    }),
  ];
}

function slices() {
  return [
    ...defaultSlices(),
    makeSlice('default', 'kubernetes', 'kubernetes', [ep('10.0.100.11')], [tcp('https', 6443)]),
    makeSlice('default', 'local-only', 'local-only-1', [ep('10.244.1.3')], [tcp('http', 80)]),
  ];
}

const syn = (src: number, dst: number, dport: number, sport = 41000) =>
  buildTcp({ src, dst, sport, dport, flags: SYN, seq: 1 });

for (const mode of ['iptables', 'nftables'] as const) {
  test(`${mode}: node → ClusterIP of a local pod: masqueraded to the pod side's address in POSTROUTING`, (t) => {
    const h = makeNode(services(), slices(), {}, mode);
    const p = syn(NODE_IP, ipToU32('10.96.0.150'), 80);
    t.is(h.dp.process(p, LOCAL_IF), Verdict.Forward);
    const o = parsePacket(p);
    t.is(o.dst, BACKEND_LOCAL);
    t.is(o.src, GW, 'KUBE-MARK-MASQ (not from the cluster CIDR), MASQUERADE out of the pod side');
  });

  test(`${mode}: node → ClusterIP whose endpoint is the node: delivered through POSTROUTING`, (t) => {
    const h = makeNode(services(), slices(), {}, mode);
    const lines: string[] = [];
    h.dp.tracer = (hook, e) => lines.push(`${hook} ${e.chain} ${e.text}`);
    const p = syn(NODE_IP, API_VIP, 443);
    t.is(h.dp.process(p, LOCAL_IF), Verdict.Local);
    t.is(parsePacket(p).dport, 6443);
    t.true(
      lines.some((l) => l.startsWith('4 ') && /masquerade|MASQUERADE/.test(l)),
      `POSTROUTING masquerades it:\n${lines.join('\n')}`,
    );
  });

  test(`${mode}: node → its own IP:NodePort without endpoints: REJECTed in filter INPUT`, (t) => {
    const h = makeNode(services(), slices(), {}, mode);
    const p = syn(NODE_IP, NODE_IP, 30201);
    t.is(h.dp.process(p, LOCAL_IF), Verdict.Drop);
    t.is(h.dp.counters.drops[Drop.RuleReject], 1);
    t.is(h.dp.ct.count, 1, 'the entry was confirmed in POSTROUTING, before INPUT');
    const icmp = parsePacket(h.emitted[0]!.packet);
    t.is(icmp.icmpType, 3);
    t.is(icmp.src, NODE_IP);
    t.is(icmp.dst, NODE_IP);
  });
}

test('iptables mode (route_localnet=1): 127.0.0.1 → NodePort is DNATed and masqueraded', (t) => {
  const h = makeNode(services(), slices(), {}, 'iptables');
  const p = syn(LOOPBACK, LOOPBACK, 30080);
  t.is(h.dp.process(p, LOCAL_IF), Verdict.Forward);
  const o = parsePacket(p);
  t.is(o.dport, 80);
  t.not(o.src >>> 24, 127, 'masqueraded off 127/8');
});

test('route_localnet: iptables mode sets it for localhost NodePorts only, nftables mode never', (t) => {
  const base = { nodeName: 'n', nodeIPs: ['10.0.100.11'], random: () => 0, now: () => 0 };
  t.true(new IptablesProxier(base).routeLocalnet);
  t.false(new IptablesProxier({ ...base, localhostNodePorts: false }).routeLocalnet);
  t.not(makeNode(services(), slices(), {}, 'nftables').dp.proxier.routeLocalnet, true);
});

test('nftables mode (route_localnet=0): 127.0.0.1 → ClusterIP is dropped by routing', (t) => {
  const h = makeNode(services(), slices(), {}, 'nftables');
  const p = syn(LOOPBACK, ipToU32('10.96.0.100'), 80);
  t.is(h.dp.process(p, LOCAL_IF), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.Localnet], 1);
  t.is(h.dp.ct.count, 0);
});

test('nftables mode: 127.0.0.1 → NodePort is not a NodePort (loopback is not in nodeport-addresses)', (t) => {
  const h = makeNode(services(), slices(), {}, 'nftables');
  const p = syn(LOOPBACK, LOOPBACK, 30080);
  t.is(h.dp.process(p, LOCAL_IF), Verdict.Local);
  t.is(parsePacket(p).dport, 30080, 'not DNATed');
});

test('from outside, a loopback source is a martian without route_localnet', (t) => {
  const h = makeNode(services(), slices(), {}, 'nftables');
  const p = syn(LOOPBACK, ipToU32('10.96.0.100'), 80);
  t.is(h.dp.process(p, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.Localnet], 1);
});
