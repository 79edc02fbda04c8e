// Node pipeline benchmark: established-flow packets through NodeDataplane.process()
// (classify, conntrack hit + TCP state, reverse/forward NAT with incremental checksums,
// the filter FORWARD walk, routing, TTL) in iptables and ipvs modes, and new connections
// (first packets: nat rules or IPVS scheduling + conntrack insert) per second.
// Target (issue 4): established forwarding >= 3 M packets/s on one core.
// Run: npx tsx bench/dataplane.ts
import b from 'benny';
import { NodeDataplane } from '../src/dataplane/node.ts';
import { ipToU32, parseCidr } from '../src/packet/addr.ts';
import { buildTcp } from '../src/packet/build.ts';
import { TcpFlags } from '../src/packet/tcp.ts';
import type { DataplaneProxier } from '../src/proxy/hooks.ts';
import { IptablesProxier, seededRandom } from '../src/proxy/iptables/proxier.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../test/proxy/fixtures.ts';

const CLIENT = ipToU32('10.244.1.2');
const VIP = ipToU32('10.96.0.100');

function feed(px: DataplaneProxier): void {
  px.onServiceAdd(
    makeService('default', 'web', {
      clusterIP: '10.96.0.100',
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    }),
  );
  px.onEndpointSliceAdd(
    makeSlice(
      'default',
      'web',
      'web-1',
      [ep('10.244.2.2', { nodeName: 'k8s-node02' }), ep('10.244.2.3', { nodeName: 'k8s-node02' })],
      [tcp('http', 80)],
    ),
  );
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
}

function node(mode: 'iptables' | 'ipvs') {
  const clock = { ms: 1000 };
  const px: DataplaneProxier =
    mode === 'iptables'
      ? new IptablesProxier({
          nodeName: 'k8s-node01',
          nodeIPs: ['10.0.100.11'],
          clusterCIDR: '10.244.0.0/16',
          random: seededRandom(1),
          now: () => clock.ms / 1000,
        })
      : new IpvsDataplaneProxier(
          new IpvsProxier({
            nodeName: 'k8s-node01',
            nodeIPs: ['10.0.100.11'],
            clusterCIDR: '10.244.0.0/16',
            now: () => clock.ms,
          }),
          () => clock.ms,
        );
  feed(px);
  const dp = new NodeDataplane({
    name: 'k8s-node01',
    nodeIP: ipToU32('10.0.100.11'),
    podGateway: ipToU32('10.244.1.1'),
    proxier: px,
    nowMs: () => clock.ms,
    emit: () => undefined,
    random: seededRandom(2),
  });
  const clientIf = dp.addPod('veth-client', CLIENT);
  dp.addUplinkRoute(parseCidr('10.244.2.0/24'), ipToU32('10.0.100.12'));
  return { dp, clientIf, clock };
}

/** An established flow: handshake done; returns the two packet templates (both directions). */
export function established(mode: 'iptables' | 'ipvs') {
  const n = node(mode);
  const syn = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 80,
    flags: TcpFlags.SYN,
    seq: 1,
  });
  n.dp.process(syn, n.clientIf);
  const backend = (syn[16]! << 24) | (syn[17]! << 16) | (syn[18]! << 8) | syn[19]!;
  n.dp.process(
    buildTcp({
      src: backend,
      dst: CLIENT,
      sport: 80,
      dport: 40000,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      seq: 100,
      ack: 2,
    }),
    1,
  );
  const out = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 80,
    flags: TcpFlags.ACK,
    seq: 2,
    ack: 101,
    window: 65535,
  });
  const back = buildTcp({
    src: backend >>> 0,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.ACK,
    seq: 101,
    ack: 2,
    window: 65535,
  });
  n.dp.process(out.slice(), n.clientIf);
  return { ...n, out, back };
}

export async function dataplaneSuite() {
  const cases = (['iptables', 'ipvs'] as const).flatMap((mode) => {
    const e = established(mode);
    const work = new Uint8Array(e.out.length);
    let flip = 0;
    const fresh = node(mode);
    let port = 1024;
    const syn = buildTcp({
      src: CLIENT,
      dst: VIP,
      sport: 1024,
      dport: 80,
      flags: TcpFlags.SYN,
      seq: 1,
    });
    const synWork = new Uint8Array(syn.length);
    return [
      b.add(`${mode}: established packet (both directions)`, () => {
        // A fresh copy each time: NAT rewrites the packet in place.
        if ((flip ^= 1)) {
          work.set(e.out);
          e.dp.process(work, e.clientIf);
        } else {
          work.set(e.back);
          e.dp.process(work, 1);
        }
      }),
      b.add(`${mode}: new connection (first packet)`, () => {
        // A new source port each time: a new flow (conntrack entries expire by table reuse).
        synWork.set(syn);
        port = port === 65535 ? 1024 : port + 1;
        synWork[20] = port >> 8;
        synWork[21] = port & 0xff;
        fresh.clock.ms += 0.001;
        fresh.dp.process(synWork, fresh.clientIf);
      }),
    ];
  });
  return b.suite(
    'dataplane',
    ...cases,
    b.add('copy of a 60-byte template (the harness cost included above)', () => {
      copyWork.set(copyTemplate);
    }),
    b.cycle((r: { name: string; ops: number }) => {
      console.log(
        `  ${r.name}: ${(1e9 / r.ops).toFixed(0)} ns/packet, ${(r.ops / 1e6).toFixed(2)} M packets/s`,
      );
    }),
    b.complete(),
  );
}

const copyTemplate = new Uint8Array(60);
const copyWork = new Uint8Array(60);

if (import.meta.url === `file://${process.argv[1]}`) await dataplaneSuite();
