// The node dataplane runs the nftables proxier unchanged (it only knows
// DataplaneProxier): real packets DNATed by a verdict-map lookup, REJECTed by
// reject-chain, masqueraded by the masquerading chain, replies un-NATed by conntrack.
import test from 'ava';
import { Drop, Verdict } from '../../../src/dataplane/counters.ts';
import { NodeDataplane } from '../../../src/dataplane/node.ts';
import { ipToU32, parseCidr } from '../../../src/packet/addr.ts';
import { buildTcp } from '../../../src/packet/build.ts';
import { parsePacket } from '../../../src/packet/parse.ts';
import { TcpFlags } from '../../../src/packet/tcp.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { NftablesProxier } from '../../../src/proxy/nftables/proxier.ts';
import {
  BACKEND_LOCAL,
  BACKEND_REMOTE,
  CLIENT,
  EMPTY_VIP,
  EXTERNAL,
  GW,
  NODE2_IP,
  NODE_IP,
  VIP,
  defaultServices,
  defaultSlices,
} from '../../dataplane/harness.ts';

const { SYN, ACK } = TcpFlags;

function makeNode() {
  const clock = { ms: 1_000_000 };
  const emitted: { packet: Uint8Array; ifIndex: number }[] = [];
  const proxier = new NftablesProxier({
    nodeName: 'k8s-node01',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
    random: seededRandom(7),
    now: () => clock.ms / 1000,
  });
  for (const s of defaultServices()) proxier.onServiceAdd(s);
  for (const s of defaultSlices()) proxier.onEndpointSliceAdd(s);
  proxier.sync();
  const dp = new NodeDataplane({
    name: 'k8s-node01',
    nodeIP: NODE_IP,
    podGateway: GW,
    proxier,
    nowMs: () => clock.ms,
    emit: (packet, ifIndex) => emitted.push({ packet, ifIndex }),
    random: seededRandom(3),
  });
  const clientIf = dp.addPod('veth-client', CLIENT);
  const backendIf = dp.addPod('veth-backend', BACKEND_LOCAL);
  dp.addUplinkRoute(parseCidr('10.244.2.0/24'), NODE2_IP);
  dp.addUplinkRoute(parseCidr('0.0.0.0/0'), ipToU32('10.0.100.1'));
  return { dp, emitted, clientIf, backendIf };
}

test('ClusterIP: the SYN is DNATed and the SYN-ACK un-NATed back to the VIP', (t) => {
  const h = makeNode();
  const syn = buildTcp({ src: CLIENT, dst: VIP, sport: 40000, dport: 80, flags: SYN, seq: 1 });
  t.is(h.dp.process(syn, h.clientIf), Verdict.Forward);
  const out = parsePacket(syn);
  t.true([BACKEND_LOCAL, BACKEND_REMOTE].includes(out.dst));
  t.is(out.src, CLIENT);
  const reply = buildTcp({
    src: out.dst,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: SYN | ACK,
    seq: 9,
    ack: 2,
  });
  const from = out.dst === BACKEND_LOCAL ? h.backendIf : 1;
  t.is(h.dp.process(reply, from), Verdict.Forward);
  t.is(parsePacket(reply).src, VIP);
});

test('no endpoints: reject-chain answers with ICMP port unreachable', (t) => {
  const h = makeNode();
  const syn = buildTcp({
    src: CLIENT,
    dst: EMPTY_VIP,
    sport: 40001,
    dport: 80,
    flags: SYN,
    seq: 1,
  });
  t.is(h.dp.process(syn, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.RuleReject], 1);
  const icmp = parsePacket(h.emitted[0]!.packet);
  t.is(icmp.icmpType, 3);
  t.is(icmp.icmpCode, 3);
});

test('NodePort from outside: DNAT plus masquerade to the node', (t) => {
  const h = makeNode();
  for (let sport = 50000; sport < 50020; sport++) {
    const p = buildTcp({ src: EXTERNAL, dst: NODE_IP, sport, dport: 30080, flags: SYN, seq: 1 });
    t.is(h.dp.process(p, 1), Verdict.Forward);
    const o = parsePacket(p);
    t.true([BACKEND_LOCAL, BACKEND_REMOTE].includes(o.dst));
    t.not(o.src, EXTERNAL, 'masqueraded');
  }
});
