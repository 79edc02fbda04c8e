// Node pipeline benchmark: packets through NodeDataplane.process(), the entry the simulator
// and the lab drive, in iptables, ipvs and nftables modes.
//
// established: one TCP flow to a ClusterIP after a Linux-like handshake (MSS, SACK, timestamps,
// window scale), then alternating client data segments (64 payload bytes, seq advancing) and
// backend ACKs (ack advancing): classify, conntrack hit + TCP window tracking, DNAT / reverse
// NAT with incremental checksums, the filter FORWARD walk, routing, TTL. Every packet is
// distinct and goes through once (NAT rewrites in place); each batch is written outside the
// timed region, and every verdict is checked to be Forward.
// new-connection: first packets (SYNs) of distinct flows from many client addresses: nat
// rules or IPVS scheduling, filter, masquerade decision, conntrack insert.
//
// Figures are CPU time (process.cpuUsage) per packet: each round's sample is the median of
// short, separately timed batches; the figure is the median over rounds. Target (issue 4): established
// >= 3 M packets/s on one core; stretch (issue 8) 5 M.
// Run: npx tsx bench/dataplane.ts [--quick] [--mode iptables|ipvs|nftables]... [--against DIR]
import { pathToFileURL } from 'node:url';
import { Verdict } from '../src/dataplane/counters.ts';
import { NodeDataplane } from '../src/dataplane/node.ts';
import { ipToU32, parseCidr } from '../src/packet/addr.ts';
import { buildTcp } from '../src/packet/build.ts';
import { l4Checksum } from '../src/packet/checksum.ts';
import { TcpFlags } from '../src/packet/tcp.ts';
import type { DataplaneProxier } from '../src/proxy/hooks.ts';
import { IptablesProxier } from '../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../src/proxy/random.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import { NftablesProxier } from '../src/proxy/nftables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../test/proxy/fixtures.ts';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';

export type DataplaneMode = 'iptables' | 'ipvs' | 'nftables';
export const MODES: readonly DataplaneMode[] = ['iptables', 'ipvs', 'nftables'];

const CLIENT = ipToU32('10.244.1.2');
const VIP = ipToU32('10.96.0.100');
const UPLINK_IF = 1;
const PAYLOAD = 64;
/** Linux SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
const SYN_OPTIONS = Uint8Array.from([
  2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
]);
/** NOP NOP timestamps: what every later segment of a Linux flow carries. */
const TS_OPTIONS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1]);

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

function proxier(mode: DataplaneMode, clock: { ms: number }): DataplaneProxier {
  const common = {
    nodeName: 'k8s-node01',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
    random: seededRandom(1),
    now: () => clock.ms / 1000,
  };
  if (mode === 'iptables') return new IptablesProxier(common);
  if (mode === 'nftables')
    return new NftablesProxier({ ...common, serviceCIDRs: ['10.96.0.0/12'] });
  const nowMs = () => clock.ms;
  return new IpvsDataplaneProxier(
    new IpvsProxier({
      nodeName: 'k8s-node01',
      nodeIPs: ['10.0.100.11'],
      clusterCIDR: '10.244.0.0/16',
      now: nowMs,
    }),
    nowMs,
  );
}

/** A node as the simulator sets one up: a client pod's veth, the backends' node via the uplink. */
export function benchNode(mode: DataplaneMode) {
  const clock = { ms: 1000 };
  const px = proxier(mode, clock);
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

const readU32 = (p: Uint8Array, i: number) =>
  ((p[i]! << 24) | (p[i + 1]! << 16) | (p[i + 2]! << 8) | p[i + 3]!) >>> 0;

function writeU32(p: Uint8Array, i: number, v: number): void {
  p[i] = v >>> 24;
  p[i + 1] = (v >>> 16) & 0xff;
  p[i + 2] = (v >>> 8) & 0xff;
  p[i + 3] = v & 0xff;
}

/** Set seq, ack and TSval of a built TCP segment (20-byte IP header) and redo its checksum. */
function setSegment(p: Uint8Array, seq: number, ack: number, tsval: number): void {
  writeU32(p, 24, seq >>> 0);
  writeU32(p, 28, ack >>> 0);
  writeU32(p, 44, tsval >>> 0);
  const c = l4Checksum(p, 20, p.length - 20, readU32(p, 12), readU32(p, 16), 6, 16);
  p[36] = c >>> 8;
  p[37] = c & 0xff;
}

/**
 * An established flow through a fresh node, and a stream of its next packets: batch k holds
 * `pairs` client segments and as many backend ACKs, interleaved, in one buffer the way a TUN
 * batch read would hand them over.
 */
export function establishedFlow(mode: DataplaneMode, pairs = 2048) {
  const n = benchNode(mode);
  const cisn = 0x1d22a95d;
  const sisn = 0x6b8b4567;
  const syn = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 80,
    flags: TcpFlags.SYN,
    seq: cisn,
    window: 64240,
    options: SYN_OPTIONS,
  });
  if (n.dp.process(syn, n.clientIf) !== Verdict.Forward) throw new Error(`${mode}: SYN dropped`);
  const backend = readU32(syn, 16);
  const synAck = buildTcp({
    src: backend,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.SYN | TcpFlags.ACK,
    seq: sisn,
    ack: cisn + 1,
    window: 65160,
    options: SYN_OPTIONS,
  });
  if (n.dp.process(synAck, UPLINK_IF) !== Verdict.Forward) {
    throw new Error(`${mode}: SYN-ACK dropped`);
  }
  const out = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40000,
    dport: 80,
    flags: TcpFlags.ACK | TcpFlags.PSH,
    seq: cisn + 1,
    ack: sisn + 1,
    window: 502,
    options: TS_OPTIONS,
    payload: new Uint8Array(PAYLOAD).fill(0x61),
  });
  const back = buildTcp({
    src: backend,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.ACK,
    seq: sisn + 1,
    ack: cisn + 1,
    window: 509,
    options: TS_OPTIONS,
  });
  const buf = new Uint8Array(pairs * (out.length + back.length));
  const packets: Uint8Array[] = [];
  const ifs = new Int32Array(pairs * 2);
  let at = 0;
  for (let i = 0; i < pairs; i++) {
    packets.push(buf.subarray(at, at + out.length));
    at += out.length;
    packets.push(buf.subarray(at, at + back.length));
    at += back.length;
    ifs[2 * i] = n.clientIf;
    ifs[2 * i + 1] = UPLINK_IF;
  }
  let sent = 0; // client bytes sent so far
  let ts = 2;
  /** Write the next batch (not timed): segment i carries bytes sent..sent+64, the ACK follows. */
  const fill = () => {
    for (let i = 0; i < pairs; i++) {
      const p = packets[2 * i]!;
      p.set(out);
      setSegment(p, cisn + 1 + sent, sisn + 1, ts);
      sent += PAYLOAD;
      const q = packets[2 * i + 1]!;
      q.set(back);
      setSegment(q, sisn + 1, cisn + 1 + sent, ts);
      ts++;
    }
  };
  return { ...n, packets, ifs, fill, out, back };
}

/** Kept for bench/profile-established.ts and older callers: the flow and its two templates. */
export function established(mode: DataplaneMode) {
  return establishedFlow(mode);
}

/** Push one filled batch through process(); returns the CPU ns it took. */
function runBatch(f: ReturnType<typeof establishedFlow>): number {
  const { dp, packets, ifs } = f;
  let bad = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < packets.length; i++) {
    if (dp.process(packets[i]!, ifs[i]!) !== Verdict.Forward) bad++;
  }
  const cu = process.cpuUsage(c0);
  if (bad !== 0) throw new Error(`${bad} established packets not forwarded`);
  return (cu.user + cu.system) * 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * CPU ns per established packet, one sample per round: the median over `batches` batches
 * (each timed alone, ~1-2 ms, so a sample is not the cost of the other processes that
 * preempted this one on a shared machine).
 */
export function establishedSamples(mode: DataplaneMode, rounds: number, batches: number): number[] {
  const f = establishedFlow(mode);
  const out: number[] = [];
  for (let w = 0; w < 5; w++) {
    f.fill();
    runBatch(f); // warm-up: let the JIT settle
  }
  for (let r = 0; r < rounds; r++) {
    const per: number[] = [];
    for (let k = 0; k < batches; k++) {
      f.fill();
      per.push(runBatch(f) / f.packets.length);
    }
    out.push(median(per));
  }
  return out;
}

/** SYNs per timed chunk of a new-connection round. */
const CONN_CHUNK = 1000;

/**
 * CPU ns per new connection (its SYN): each round a fresh node and `conns` distinct flows,
 * the sample the median over chunks of CONN_CHUNK SYNs.
 */
export function newConnSamples(mode: DataplaneMode, rounds: number, conns: number): number[] {
  const template = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 1024,
    dport: 80,
    flags: TcpFlags.SYN,
    seq: 0x1d22a95d,
    window: 64240,
    options: SYN_OPTIONS,
  });
  const len = template.length;
  const buf = new Uint8Array(conns * len);
  const packets = Array.from({ length: conns }, (_, k) => buf.subarray(k * len, (k + 1) * len));
  const out: number[] = [];
  for (let r = -1; r < rounds; r++) {
    // Client 10.244.1.x (x from 2) port 1024 + k: distinct tuples, checksums fixed by hand.
    for (let k = 0; k < conns; k++) {
      const p = packets[k]!;
      p.set(template);
      const src = CLIENT + (k >>> 14);
      const port = 1024 + (k & 0x3fff);
      writeU32(p, 12, src);
      p[20] = port >>> 8;
      p[21] = port & 0xff;
      let s = 0;
      p[10] = 0;
      p[11] = 0;
      for (let i = 0; i < 20; i += 2) s += (p[i]! << 8) | p[i + 1]!;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      s = ~s & 0xffff;
      p[10] = s >>> 8;
      p[11] = s & 0xff;
      const c = l4Checksum(p, 20, len - 20, src, VIP, 6, 16);
      p[36] = c >>> 8;
      p[37] = c & 0xff;
    }
    const n = benchNode(mode);
    for (let k = 0; k < conns >>> 14; k++) n.dp.addPod(`veth-c${k}`, CLIENT + k + 1);
    let bad = 0;
    const per: number[] = [];
    for (let at = 0; at < conns; at += CONN_CHUNK) {
      const end = Math.min(conns, at + CONN_CHUNK);
      const c0 = process.cpuUsage();
      for (let k = at; k < end; k++) {
        n.clock.ms += 0.001;
        if (n.dp.process(packets[k]!, n.clientIf) !== Verdict.Forward) bad++;
      }
      const cu = process.cpuUsage(c0);
      per.push(((cu.user + cu.system) * 1000) / (end - at));
    }
    if (bad !== 0) throw new Error(`${mode}: ${bad} SYNs not forwarded`);
    if (r >= 0) out.push(median(per));
  }
  return out;
}

export interface DataplaneRow {
  mode: DataplaneMode;
  /** Median over rounds (the headline figure). */
  establishedNsPerPacket: number;
  pps: number;
  /** The least disturbed round: on a shared machine the closest to this code's own cost. */
  establishedBestNsPerPacket: number;
  newConnNsPerConn: number;
  connsPerSecond: number;
}

export interface DataplaneOptions {
  quick?: boolean;
  modes?: readonly DataplaneMode[];
}

/** A full collection when node runs with --expose-gc (bench/run.ts passes it), else nothing. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Measure every mode; returns the suite's figures and one summary row per mode. */
export function dataplaneFigures(opts: DataplaneOptions = {}): {
  figures: Figure[];
  rows: DataplaneRow[];
} {
  const quick = opts.quick ?? false;
  const modes = opts.modes ?? MODES;
  // Established flows first, for every mode, then the allocation-heavy new-connection rounds
  // (a fresh node each): process.cpuUsage() counts the GC threads too, and garbage left by
  // one measurement must not be collected on the next one's time.
  const est = new Map<DataplaneMode, number[]>();
  for (const mode of modes) {
    collectGarbage();
    est.set(mode, establishedSamples(mode, quick ? 3 : 9, quick ? 15 : 41));
  }
  const conn = new Map<DataplaneMode, number[]>();
  for (const mode of modes) {
    collectGarbage();
    conn.set(mode, newConnSamples(mode, quick ? 3 : 7, quick ? 10_000 : 40_000));
  }
  const figures: Figure[] = [];
  const rows: DataplaneRow[] = [];
  for (const mode of modes) {
    const es = est.get(mode)!;
    const cs = conn.get(mode)!;
    const e = figure('established', 'ns/packet', es, { mode });
    const c = figure('new-connection', 'ns/connection', cs, { mode });
    figures.push(
      e,
      figure(
        'established',
        'packets/s',
        es.map((ns) => 1e9 / ns),
        { mode },
      ),
      c,
      figure(
        'new-connection',
        'connections/s',
        cs.map((ns) => 1e9 / ns),
        { mode },
      ),
    );
    rows.push({
      mode,
      establishedNsPerPacket: e.median,
      pps: 1e9 / e.median,
      establishedBestNsPerPacket: e.min,
      newConnNsPerConn: c.median,
      connsPerSecond: 1e9 / c.median,
    });
  }
  return { figures, rows };
}

/** For `svclab bench`: the summary rows per mode. */
export async function dataplaneBench(opts: DataplaneOptions = {}): Promise<DataplaneRow[]> {
  return dataplaneFigures(opts).rows;
}

/**
 * A paired before/after in one process: this checkout's established flow and another
 * checkout's (`dir`, e.g. a `git worktree` of an older commit), alternating round by round
 * (A B, B A, ...), so both see the same machine. Per mode: the median ns/packet of each
 * and the median of the per-round ratios (this / other).
 */
export async function pairedEstablished(
  dir: string,
  modes: readonly DataplaneMode[],
  rounds: number,
): Promise<void> {
  const other = (await import(pathToFileURL(`${dir}/bench/dataplane.ts`).href)) as {
    establishedSamples: typeof establishedSamples;
  };
  for (const mode of modes) {
    const mine: number[] = [];
    const theirs: number[] = [];
    const ratio: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let a: number;
      let b: number;
      if (r % 2 === 0) {
        b = other.establishedSamples(mode, 1, 15)[0]!;
        a = establishedSamples(mode, 1, 15)[0]!;
      } else {
        a = establishedSamples(mode, 1, 15)[0]!;
        b = other.establishedSamples(mode, 1, 15)[0]!;
      }
      mine.push(a);
      theirs.push(b);
      ratio.push(a / b);
    }
    const m = median(mine);
    const t = median(theirs);
    console.log(
      `  ${mode}: this ${m.toFixed(0)} ns/packet (${(1e3 / m).toFixed(2)} M/s), ` +
        `${dir} ${t.toFixed(0)} ns/packet (${(1e3 / t).toFixed(2)} M/s), ` +
        `this/other ${median(ratio).toFixed(3)} (median of ${rounds} paired rounds)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // --mode M (repeatable): only those modes, e.g. for a paired before/after of one mode.
  // --against DIR: a paired before/after against another checkout, in this process.
  const argv = process.argv.slice(2);
  const picked = argv.flatMap((a, i) => (a === '--mode' ? [argv[i + 1] as DataplaneMode] : []));
  const against = argv.flatMap((a, i) => (a === '--against' ? [argv[i + 1]!] : []))[0];
  if (against !== undefined) {
    const modes = picked.length > 0 ? picked.filter((m) => MODES.includes(m)) : MODES;
    await pairedEstablished(against, modes, isQuick() ? 8 : 16);
    process.exit(0);
  }
  const { figures, rows } = dataplaneFigures({
    quick: isQuick(),
    ...(picked.length > 0 ? { modes: picked.filter((m) => MODES.includes(m)) } : {}),
  });
  for (const r of rows) {
    console.log(
      `  ${r.mode}: established ${r.establishedNsPerPacket.toFixed(0)} ns/packet ` +
        `(${(r.pps / 1e6).toFixed(2)} M packets/s; best round ` +
        `${r.establishedBestNsPerPacket.toFixed(0)} ns), new connection ` +
        `${r.newConnNsPerConn.toFixed(0)} ns (${(r.connsPerSecond / 1e3).toFixed(0)} k/s)`,
    );
  }
  printSuiteResult({ suite: 'dataplane', figures });
}
