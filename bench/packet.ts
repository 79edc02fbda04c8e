// Packet hot-path benchmark: classify (IPv4 + TCP checks, header checksum verified)
// + DNAT of destination address and port with incremental checksum updates, on a
// 60-byte TCP SYN. Target: >= 10 M packets/s on one core (<= 100 ns/packet).
// CPU time (process.cpuUsage), each sample a separately timed group of ops; min/median/max
// over the samples, printed and then reported as one BENCH_JSON line (figures.ts).
// Run: npx tsx bench/packet.ts [--quick]
import { pathToFileURL } from 'node:url';
import { ipToU32 } from '../src/packet/addr.ts';
import { buildTcp } from '../src/packet/build.ts';
import { KEEP, natRewriteDst } from '../src/packet/nat.ts';
import { classify, newPacketInfo } from '../src/packet/parse.ts';
import { TcpFlags } from '../src/packet/tcp.ts';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';

const VIP = ipToU32('10.96.0.10');
const BACKEND = ipToU32('10.244.1.7');
const BATCH = 256;

function synPacket(): Uint8Array {
  const p = buildTcp({
    src: '10.244.2.3',
    dst: VIP,
    sport: 40001,
    dport: 80,
    seq: 0x1d22a95d,
    flags: TcpFlags.SYN,
    id: 0x67a7,
    // MSS, SACK-permitted, timestamps, NOP, window scale: a Linux SYN, 60 bytes in all.
    options: Uint8Array.from([2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]),
  });
  if (p.length !== 60) throw new Error(`expected a 60-byte packet, got ${p.length}`);
  return p;
}

/** Packets per timed sample. */
const PACKETS_PER_SAMPLE = 65536;

/** Figures per case (ns/packet and packets/s); prints one line per case. */
export function packetFigures(quick = false): Figure[] {
  const info = newPacketInfo();
  const one = synPacket();
  // BATCH packets laid out back to back in one buffer, as a TUN read batch would be.
  const batch = new Uint8Array(60 * BATCH);
  for (let i = 0; i < BATCH; i++) batch.set(one, i * 60);
  let flip = 0;
  let sink = 0; // xor keeps it a small integer: a growing double in a closure would allocate

  // Each iteration alternates VIP:80 -> BACKEND:8080 and back, so every op does the
  // same work and the packet stays valid (its checksums are re-verified every time).
  const dnatOne = () => {
    classify(one, 0, 60, info);
    if (info.reason !== 0) throw new Error(`bad packet: ${info.reason}`);
    flip ^= 1;
    sink ^= natRewriteDst(one, 0, flip ? BACKEND : VIP, flip ? 8080 : 80);
  };
  const dnatBatch = () => {
    flip ^= 1;
    const addr = flip ? BACKEND : VIP;
    const port = flip ? 8080 : 80;
    for (let off = 0; off < batch.length; off += 60) {
      classify(batch, off, 60, info);
      if (info.reason !== 0) throw new Error(`bad packet: ${info.reason}`);
      sink ^= natRewriteDst(batch, off, addr, port);
    }
  };
  const classifyOnly = () => {
    sink ^= classify(one, 0, 60, info) + info.dport;
  };
  const natOnly = () => {
    flip ^= 1;
    sink ^= natRewriteDst(one, 0, flip ? BACKEND : VIP, KEEP);
  };

  const cases: [metric: string, label: string, fn: () => void, packetsPerOp: number][] = [
    ['classify-dnat', 'classify + DNAT (1 packet/op)', dnatOne, 1],
    ['classify-dnat-batch', `classify + DNAT (${BATCH} packets/op)`, dnatBatch, BATCH],
    ['classify', 'classify only', classifyOnly, 1],
    ['dnat-address', 'DNAT address only', natOnly, 1],
  ];
  const samples = quick ? 9 : 41;
  const figures: Figure[] = [];
  for (const [metric, label, fn, per] of cases) {
    const ops = PACKETS_PER_SAMPLE / per;
    for (let i = 0; i < ops; i++) fn(); // warm-up
    const ns: number[] = [];
    for (let k = 0; k < samples; k++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < ops; i++) fn();
      const cu = process.cpuUsage(c0);
      ns.push(((cu.user + cu.system) * 1000) / PACKETS_PER_SAMPLE);
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
      `  ${label.padEnd(36)} ${f.median.toFixed(1).padStart(7)} ns/packet ` +
        `${(1e3 / f.median).toFixed(2).padStart(7)} M packets/s (CPU, median of ${samples})`,
    );
  }
  if (sink === -1) console.log(sink); // keep the work observable
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('packet hot path (60-byte TCP SYN), target >= 10 M packets/s (<= 100 ns)');
  printSuiteResult({ suite: 'packet', figures: packetFigures(isQuick()) });
}
