// Mutation fuzzing of NodeDataplane.process: real packets of the seed cluster (TCP to a
// ClusterIP, a NodePort from outside, UDP DNS, ICMP echo, an ICMP error quoting a flow,
// IP options, fragments) mutated byte by byte — bit flips, interesting values, cut,
// extended, header lengths and protocols changed — and pushed through one node's
// dataplane in each proxy mode, with conntrack state carried over and time advancing.
// The dataplane must never throw. Deterministic for a seed.
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import type { Cluster } from '../../src/control/cluster.ts';
import { type SimNode, setUpNode } from '../../src/control/node-setup.ts';
import { ipToU32 } from '../../src/packet/addr.ts';
import { internetChecksum } from '../../src/packet/checksum.ts';
import { buildIcmp, buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { Verdict } from '../../src/dataplane/counters.ts';
import { PROXY_MODES, type ProxyMode } from '../../src/proxy/modes.ts';

const SEED = 'scenarios/seed/manifests';
export const FUZZ_MANIFESTS = [
  `${SEED}/svc-deployment.yaml`,
  `${SEED}/svc.yaml`,
  `${SEED}/nodeport.yaml`,
  `${SEED}/svc-none.yaml`,
  `${SEED}/ex.yaml`,
];

/** xorshift32: fast, seeded, good enough to pick mutations. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export interface PacketFuzzResult {
  mode: ProxyMode;
  packets: number;
  exceptions: number;
  /** The first few failures: the mode, the message, the packet as hex. */
  samples: string[];
  verdicts: Record<string, number>;
  /** Forwarded packets whose IPv4 header checksum does not hold (reported, not failed). */
  badChecksumForwarded: number;
}

interface Target {
  cluster: Cluster;
  sim: SimNode;
  seeds: Array<{ pkt: Uint8Array; inIf: number }>;
  ifaces: number[];
}

function target(mode: ProxyMode): Target {
  const cluster = clusterFromFiles({ files: FUZZ_MANIFESTS });
  const sim = setUpNode(cluster, 'k8s-node01', { mode });
  sim.dataplane.emit = () => undefined;
  const pods = [...sim.podIfaces.entries()].sort((a, b) => a[0] - b[0]);
  const [client, clientIf] = pods[0]!;
  const svc = (name: string) => cluster.get('Service', 'default', name);
  const vip = ipToU32(svc('myapp')?.spec.clusterIP ?? '10.96.0.1');
  const np = (svc('myapp-nodeport') ?? svc('myapp'))?.spec.ports?.[0]?.nodePort ?? 30080;
  const dns = ipToU32('10.96.0.10');
  const ext = ipToU32('192.168.1.100');
  const node = sim.ip;
  const other = pods[1]?.[0] ?? client;
  const syn = buildTcp({ src: client, dst: vip, sport: 40000, dport: 80, flags: TcpFlags.SYN });
  const seeds = [
    { pkt: syn, inIf: clientIf },
    {
      pkt: buildTcp({
        src: client,
        dst: vip,
        sport: 40000,
        dport: 80,
        flags: TcpFlags.ACK,
        seq: 1,
        ack: 1,
        payload: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'),
      }),
      inIf: clientIf,
    },
    {
      pkt: buildTcp({
        src: client,
        dst: vip,
        sport: 40000,
        dport: 80,
        flags: TcpFlags.FIN | TcpFlags.ACK,
      }),
      inIf: clientIf,
    },
    {
      pkt: buildTcp({ src: client, dst: vip, sport: 40000, dport: 80, flags: TcpFlags.RST }),
      inIf: clientIf,
    },
    {
      pkt: buildTcp({ src: ext, dst: node, sport: 50000, dport: np, flags: TcpFlags.SYN }),
      inIf: 1,
    },
    {
      pkt: buildTcp({
        src: other,
        dst: client,
        sport: 80,
        dport: 40000,
        flags: TcpFlags.SYN | TcpFlags.ACK,
      }),
      inIf: pods[1]?.[1] ?? clientIf,
    },
    {
      pkt: buildUdp({ src: client, dst: dns, sport: 5353, dport: 53, payload: new Uint8Array(30) }),
      inIf: clientIf,
    },
    {
      pkt: buildIcmpEcho({ src: client, dst: vip, echoId: 7, seq: 1 }),
      inIf: clientIf,
    },
    {
      pkt: buildIcmp({
        src: other,
        dst: client,
        message: { kind: 'destUnreachable', code: 3, nextHopMtu: 0, data: syn.slice(0, 28) },
      }),
      inIf: pods[1]?.[1] ?? clientIf,
    },
  ];
  // IP options and a fragment: the rarer header shapes.
  const opts = new Uint8Array(syn.length + 4);
  opts.set(syn.subarray(0, 20));
  opts.set([1, 1, 1, 0], 20);
  opts.set(syn.subarray(20), 24);
  opts[0] = 0x46;
  opts[3] = opts.length;
  seeds.push({ pkt: opts, inIf: clientIf });
  const frag = syn.slice();
  frag[6] = 0x20; // MF
  seeds.push({ pkt: frag, inIf: clientIf });
  return { cluster, sim, seeds, ifaces: [0, 1, 2, clientIf, ...sim.podIfaces.values(), 999] };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x4f, 0x05, 0x06, 0x11, 0x01, 0x02];

function mutate(p: Uint8Array, r: () => number): Uint8Array {
  let b = p.slice();
  const n = 1 + (r() % 3);
  for (let k = 0; k < n; k++) {
    const op = r() % 10;
    const at = b.length === 0 ? 0 : r() % b.length;
    switch (op) {
      case 0:
      case 1:
        if (b.length > 0) b[at] = b[at]! ^ (1 << (r() % 8));
        break;
      case 2:
        if (b.length > 0) b[at] = INTERESTING[r() % INTERESTING.length]!;
        break;
      case 3:
        if (b.length > 0) b[at] = r() & 0xff;
        break;
      case 4:
        b = b.slice(0, r() % (b.length + 1)); // cut
        break;
      case 5: {
        const more = new Uint8Array(b.length + 1 + (r() % 64));
        more.set(b);
        for (let i = b.length; i < more.length; i++) more[i] = r() & 0xff;
        b = more;
        break;
      }
      case 6: // total length
        if (b.length >= 4) {
          const v = r() & 0xffff;
          b[2] = v >> 8;
          b[3] = v & 0xff;
        }
        break;
      case 7: // version/IHL
        if (b.length >= 1) b[0] = (r() % 3 === 0 ? 0x40 : b[0]! & 0xf0) | (r() & 0x0f);
        break;
      case 8: // protocol
        if (b.length >= 10) b[9] = [1, 6, 17, 0, 2, 47, 255][r() % 7]!;
        break;
      case 9: // L4 bytes right after the header (ports, TCP data offset, ICMP type)
        if (b.length > 20) b[20 + (r() % Math.min(20, b.length - 20))] = r() & 0xff;
        break;
    }
  }
  // Half the time the IPv4 header checksum is made right again, so the mutation reaches
  // past the header check into conntrack, NAT and the tables.
  if (r() & 1 && b.length >= 20) {
    const ihl = (b[0]! & 0x0f) * 4;
    if (ihl >= 20 && ihl <= b.length) {
      b[10] = 0;
      b[11] = 0;
      const c = internetChecksum(b, 0, ihl);
      b[10] = c >> 8;
      b[11] = c & 0xff;
    }
  }
  return b;
}

const VERDICTS = ['forward', 'local', 'drop'];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Push `count` mutated packets through one node of `mode`. */
export function fuzzPackets(mode: ProxyMode, count: number, seed = 1): PacketFuzzResult {
  const t = target(mode);
  const r = rng(seed);
  const res: PacketFuzzResult = {
    mode,
    packets: 0,
    exceptions: 0,
    samples: [],
    verdicts: {},
    badChecksumForwarded: 0,
  };
  for (let i = 0; i < count; i++) {
    const s = t.seeds[r() % t.seeds.length]!;
    const raw = r() % 50 === 0;
    let pkt: Uint8Array;
    if (raw) {
      pkt = new Uint8Array(r() % 100);
      for (let j = 0; j < pkt.length; j++) pkt[j] = r() & 0xff;
    } else pkt = r() % 8 === 0 ? s.pkt.slice() : mutate(s.pkt, r);
    const inIf = r() % 10 === 0 ? t.ifaces[r() % t.ifaces.length]! : s.inIf;
    const copy = pkt.slice();
    res.packets++;
    try {
      const v = t.sim.dataplane.process(pkt, inIf);
      const name = VERDICTS[v] ?? String(v);
      res.verdicts[name] = (res.verdicts[name] ?? 0) + 1;
      if (v === Verdict.Forward && pkt.length >= 20) {
        const ihl = (pkt[0]! & 0x0f) * 4;
        if (ihl >= 20 && ihl <= pkt.length && internetChecksum(pkt, 0, ihl) !== 0)
          res.badChecksumForwarded++;
      }
    } catch (e) {
      res.exceptions++;
      if (res.samples.length < 5)
        res.samples.push(`${mode} in=${inIf} ${hex(copy)}: ${(e as Error).stack ?? String(e)}`);
    }
    // Time moves: conntrack entries expire, kube-proxy syncs, flows time out.
    if (i % 5000 === 4999) t.cluster.advance((r() % 120) * 1e9);
  }
  return res;
}

export const FUZZ_MODES: readonly ProxyMode[] = PROXY_MODES;
