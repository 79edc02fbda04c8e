// Conntrack benchmark: lookups (hit and miss) in a table holding 100k flows, inserts at a
// steady 100k (insert one, remove the oldest), and lookup + UDP / TCP tracking per packet.
// Each op is a batch of BATCH packets over precomputed keys, so figures are per packet:
// CPU time (process.cpuUsage), each sample a separately timed group of ops, min/median/max
// over the samples, printed and then reported as one BENCH_JSON line (figures.ts).
// Run: npx tsx bench/conntrack.ts [--quick]
import { pathToFileURL } from 'node:url';
import { Conntrack } from '../src/conntrack/conntrack.ts';
import { IPPROTO_TCP, IPPROTO_UDP } from '../src/conntrack/constants.ts';
import { TcpFlags } from '../src/packet/tcp.ts';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';

const FLOWS = 100_000;
const BATCH = 1024;
const VIP = 0x0a600064; // 10.96.0.100
const BACKEND = 0x0af40207; // 10.244.2.7

/** Client address and port of flow i: 10.244.x.y, ports 1024.. */
const client = (i: number) => (0x0af40000 + (i >>> 6)) >>> 0;
const cport = (i: number) => 1024 + (i & 63) * 512 + ((i >>> 6) & 511);

function filled(buckets: number | undefined, proto: number): Conntrack {
  const ct = new Conntrack({ max: 131072, ...(buckets === undefined ? {} : { buckets }) });
  for (let i = 0; i < FLOWS; i++) {
    const e = ct.insert(proto, client(i), VIP, cport(i), 80, BACKEND, client(i), 8080, cport(i), 0);
    if (e < 0) throw new Error(`insert ${i} failed: ${e}`);
    if (proto === IPPROTO_UDP) ct.udpPacket(e * 2, 0, 60);
    else ct.tcpPacket(e * 2, 0, 60, TcpFlags.SYN, i, 0, 64240, 0);
  }
  return ct;
}

/** Ops (of BATCH packets) per timed sample. */
const OPS_PER_SAMPLE = 16;

/** Figures per case: ns/packet and packets/s, metric = the case's key. */
export function conntrackFigures(quick = false): Figure[] {
  const udp = filled(undefined, IPPROTO_UDP); // buckets = max, the kernel's default ratio
  const quarter = filled(131072 / 4, IPPROTO_UDP); // buckets = max/4, kube-proxy's hashsize
  const tcp = filled(undefined, IPPROTO_TCP);
  // Finish the TCP handshakes so the tracked packets are plain in-window ACKs.
  for (let i = 0; i < FLOWS; i++) {
    const ref = tcp.lookup(IPPROTO_TCP, client(i), VIP, cport(i), 80, 1);
    tcp.tcpPacket(ref | 1, 1, 60, TcpFlags.SYN | TcpFlags.ACK, 7000, i + 1, 65160, 0);
    tcp.tcpPacket(ref, 2, 52, TcpFlags.ACK, i + 1, 7001, 502, 0);
  }
  const order = Uint32Array.from({ length: FLOWS }, (_, i) => (i * 7919) % FLOWS);
  let at = 0;
  let sink = 0;
  let now = 10;

  const hit = (ct: Conntrack) => () => {
    for (let k = 0; k < BATCH; k++) {
      const i = order[at]!;
      at = at + 1 === FLOWS ? 0 : at + 1;
      sink += ct.lookup(IPPROTO_UDP, BACKEND, client(i), 8080, cport(i), now);
    }
  };
  const miss = () => {
    for (let k = 0; k < BATCH; k++) {
      const i = order[at]!;
      at = at + 1 === FLOWS ? 0 : at + 1;
      sink += udp.lookup(IPPROTO_UDP, client(i), VIP, cport(i), 81, now);
    }
  };
  // Steady state: the table holds 100k flows plus up to RING fresh ones; each insert of a
  // fresh flow removes the oldest fresh one once the ring is full.
  const RING = 16384;
  const ring = new Int32Array(RING);
  let fresh = 0;
  const insert = () => {
    for (let k = 0; k < BATCH; k++) {
      const i = FLOWS + (fresh % (8 * RING));
      if (fresh >= RING) udp.table.remove(ring[fresh % RING]!);
      const e = udp.insert(
        IPPROTO_UDP,
        client(i),
        VIP,
        cport(i),
        443,
        BACKEND,
        client(i),
        8443,
        cport(i),
        now,
      );
      ring[fresh % RING] = e;
      fresh++;
      sink += e;
    }
  };
  const udpTrack = () => {
    now += 1;
    for (let k = 0; k < BATCH; k++) {
      const i = order[at]!;
      at = at + 1 === FLOWS ? 0 : at + 1;
      const ref = udp.lookup(IPPROTO_UDP, client(i), VIP, cport(i), 80, now);
      sink += udp.udpPacket(ref, now, 60);
    }
  };
  const seqs = new Uint32Array(FLOWS).map((_, i) => i + 1);
  const tcpTrack = () => {
    now += 1;
    for (let k = 0; k < BATCH; k++) {
      const i = order[at]!;
      at = at + 1 === FLOWS ? 0 : at + 1;
      const ref = tcp.lookup(IPPROTO_TCP, client(i), VIP, cport(i), 80, now);
      const seq = seqs[i]!;
      seqs[i] = seq + 100;
      sink += tcp.tcpPacket(ref, now, 152, TcpFlags.ACK | TcpFlags.PSH, seq, 7001, 502, 100);
    }
  };

  const cases: [metric: string, label: string, fn: () => void][] = [
    ['lookup-hit', 'lookup hit (buckets = max)', hit(udp)],
    ['lookup-hit-quarter-buckets', 'lookup hit (buckets = max/4)', hit(quarter)],
    ['lookup-miss', 'lookup miss', miss],
    ['insert-remove', 'insert + remove oldest', insert],
    ['udp-track', 'lookup + UDP track', udpTrack],
    ['tcp-track', 'lookup + TCP track (in-window data)', tcpTrack],
  ];
  const samples = quick ? 9 : 41;
  const figures: Figure[] = [];
  for (const [metric, label, fn] of cases) {
    for (let i = 0; i < 20; i++) fn(); // warm-up
    const ns: number[] = [];
    for (let k = 0; k < samples; k++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < OPS_PER_SAMPLE; i++) fn();
      const cu = process.cpuUsage(c0);
      ns.push(((cu.user + cu.system) * 1000) / (OPS_PER_SAMPLE * BATCH));
    }
    const f = figure(metric, 'ns/packet', ns);
    figures.push(
      f,
      figure(
        metric,
        'packets/s',
        ns.map((x) => 1e9 / x),
      ),
    );
    console.log(
      `  ${label.padEnd(38)} ${f.median.toFixed(1).padStart(6)} ns/packet ` +
        `${(1e3 / f.median).toFixed(2).padStart(6)} M packets/s (CPU, median of ${samples})`,
    );
  }
  if (sink === 0.5) console.log(sink); // keep the work observable
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`conntrack, ${FLOWS.toLocaleString('en-US')} flows, ${BATCH} packets/op`);
  printSuiteResult({ suite: 'conntrack', figures: conntrackFigures(isQuick()) });
}
