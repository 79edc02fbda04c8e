// Classification: the cost of a new connection's first packet at nat PREROUTING vs the
// number of services (each 10 endpoints), in iptables (linear KUBE-SERVICES walk), ipvs
// (ipset tests + virtual-service hash + rr scheduler; the new connection entry is expired
// again, timed) and nftables (verdict-map probes) modes, plus the rules or lookups visited
// per packet. Packets go to services spread over the whole table in shuffled order, so
// iptables walks half the list on average and the hashed modes pay this machine's cache
// misses once the tables outgrow the caches.
// Figures: `first-packet` (ns/packet, min/median/max over rounds of CPU time), `visited`
// (rules, mean over the sampled services), `sync` (CPU ms of the proxier's first, full sync
// after every object was fed in), and the memory the filled proxier holds after a
// full GC: `heap` (V8 heapUsed) and `array-buffers` (typed-array storage, outside that
// heap), MiB, per mode and size. The heap includes the bench's own Service and
// EndpointSlice objects, which every mode's ServiceMap keeps.
// Run: node --import=tsx --expose-gc bench/classify.ts [--quick] [--mode M] [--iptables-max N] [N...]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BENCH_JSON_PREFIX,
  type Figure,
  type SuiteResult,
  figure,
  isQuick,
  printSuiteResult,
} from './figures.ts';
import { shuffled } from './measure.ts';
import {
  ADDR_DST_LOCAL,
  CtState,
  type DataplaneProxier,
  Hook,
  type PacketMeta,
  TABLE_NAT,
  newPacketMeta,
} from '../src/proxy/hooks.ts';
import { ipToU32 } from '../src/packet/addr.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { CLIENT_IP, MODES, type Mode, SVC_BASE, feed, newProxier, spread } from './workload.ts';

export const FULL_SIZES = [10, 100, 1_000, 10_000, 30_000, 100_000];
export const QUICK_SIZES = [10, 100, 1_000];
/**
 * Largest iptables size in a default full run: every size since the columns rewrite (issue
 * #18: 100k × 10 compiles in ~10 s and holds ~940 MiB; it took ~6 min and ~7 GB before).
 */
export const IPTABLES_MAX = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;

export interface ClassifyRow {
  mode: Mode;
  services: number;
  buildMs: number;
  /** CPU ms of the first sync() after feeding every Service and EndpointSlice (the full sync). */
  syncMs: number;
  /** CPU ms of the handlers before it (Services converted and slices parsed on arrival). */
  feedMs: number;
  /** CPU ns per first packet, one entry per round. */
  ns: number[];
  meanVisited: number;
  /** After the build and a full GC: V8's heapUsed and the typed arrays' buffers, MiB. */
  heapMiB: number;
  arrayBuffersMiB: number;
}

/** Target services' ClusterIPs in visiting order: every service shuffled, or a spread sample. */
function targets(n: number, count: number): Uint32Array {
  if (count >= n) return Uint32Array.from(shuffled(n), (i) => SVC_BASE + i);
  const idx = spread(n, count);
  return Uint32Array.from(shuffled(idx.length), (j) => SVC_BASE + idx[j]!);
}

/** ipvs keeps a connection entry per first packet: drop them between rounds, untimed. */
function forget(px: DataplaneProxier): void {
  if (!(px instanceof IpvsDataplaneProxier)) return;
  const ipvs = px.ipvs.ipvs;
  for (const id of ipvs.conns.ids()) ipvs.expireNow(id, 0);
}

export function classifyBench(mode: Mode, n: number, quick: boolean): ClassifyRow {
  gc?.();
  const t0 = performance.now();
  const f0 = process.cpuUsage();
  const px = feed(newProxier(mode), n);
  const f = process.cpuUsage(f0);
  const feedMs = (f.user + f.system) / 1000;
  const c0 = process.cpuUsage();
  px.sync();
  const c = process.cpuUsage(c0);
  const syncMs = (c.user + c.system) / 1000;
  const buildMs = performance.now() - t0;
  gc?.();
  const mem = process.memoryUsage();
  const heapMiB = mem.heapUsed / 2 ** 20;
  const arrayBuffersMiB = mem.arrayBuffers / 2 ** 20;
  return {
    mode,
    services: n,
    buildMs,
    syncMs,
    feedMs,
    heapMiB,
    arrayBuffersMiB,
    ...firstPacket(px, n, quick),
  };
}

/** CPU ns per first packet (one entry per round) and mean rules visited, on a filled proxier. */
export function firstPacket(
  px: DataplaneProxier,
  n: number,
  quick: boolean,
): { ns: number[]; meanVisited: number } {
  const mode = px.constructor.name;
  const vips = targets(n, 1024);
  // addrtype LOCAL as the dataplane decides it (ipvs: the VIP sits on kube-ipvs0).
  const flags = Uint8Array.from(vips, (ip) => (px.isLocalAddress(ip) ? ADDR_DST_LOCAL : 0));
  const meta: PacketMeta = newPacketMeta({
    src: ipToU32(CLIENT_IP),
    sport: 40000,
    dport: 80,
    ctstate: CtState.NEW,
    tcpFlags: 0x02,
    len: 60,
  });
  const hook = Hook.Prerouting;
  const nat = TABLE_NAT;
  // Rules visited, and a check that every sampled service really DNATs.
  let visited = 0;
  for (let j = 0; j < vips.length; j++) {
    meta.dst = vips[j]!;
    meta.addrFlags = flags[j]!;
    const r = px.classify(meta, hook, nat);
    if (!r.dnat) throw new Error(`${mode}: service ${meta.dst} not DNATed`);
    visited += r.rulesVisited;
  }
  forget(px);
  let sink = 0;
  let sport = 1024;
  // ipvs makes a connection entry per first packet: end it straight away (the slot classify
  // reports, expired, timed: a connection's whole life in the table), so it dies young instead
  // of piling up and being promoted into a heap of ~GB, whose collection would then be what
  // we measure.
  const ipvsPx = px instanceof IpvsDataplaneProxier ? px : undefined;
  const ipvs = ipvsPx?.ipvs.ipvs;
  const run = (count: number): number => {
    const c0 = process.cpuUsage();
    for (let k = 0; k < count; k++) {
      const j = k % vips.length;
      const dst = vips[j]!;
      meta.dst = dst;
      meta.addrFlags = flags[j]!;
      meta.sport = sport;
      sink += px.classify(meta, hook, nat).dnatPort;
      if (ipvs !== undefined) {
        const id = ipvsPx!.lastConn;
        if (id >= 0) ipvs.expireNow(id, 0);
      }
      sport = sport === 65535 ? 1024 : sport + 1;
    }
    const cu = process.cpuUsage(c0);
    return ((cu.user + cu.system) * 1000) / count;
  };
  // Warm up and calibrate on wall time, doubling the batch until it lasts 20 ms, so one
  // round costs about roundMs of CPU (CPU time is accounted in ticks: rounds must be long).
  // iptables at 100k services spends ~ms per packet, the hashed modes ~100s of ns.
  const roundNs = (quick ? 40 : 60) * 1e6;
  let est = 0;
  for (let count = 8; ; count *= 2) {
    const w0 = performance.now();
    run(count);
    const dt = performance.now() - w0;
    if (dt >= 20 || count >= 1 << 16) {
      est = (dt * 1e6) / count;
      break;
    }
  }
  const perRound = Math.min(1 << 18, Math.max(16, Math.floor(roundNs / est)));
  const rounds = quick ? 5 : 15;
  const ns: number[] = [];
  for (let r = 0; r < rounds; r++) ns.push(run(perRound));
  if (sink === -1) console.log(sink);
  return { ns, meanVisited: visited / vips.length };
}

export function classifyFigures(rows: readonly ClassifyRow[]): Figure[] {
  const out: Figure[] = [];
  for (const r of rows) {
    out.push(figure('first-packet', 'ns/packet', r.ns, { mode: r.mode, services: r.services }));
    out.push(figure('visited', 'rules', [r.meanVisited], { mode: r.mode, services: r.services }));
    const at = { mode: r.mode, services: r.services };
    out.push(figure('sync', 'ms', [r.syncMs], at));
    out.push(figure('feed', 'ms', [r.feedMs], at));
    out.push(figure('heap', 'MiB', [r.heapMiB], at));
    out.push(figure('array-buffers', 'MiB', [r.arrayBuffersMiB], at));
  }
  return out;
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/**
 * Each mode in its own process: a fresh heap (iptables at 100k services holds ~1 GB), and
 * call sites in this file that see only one proxier class, as in a real node.
 */
async function eachModeInChild(argv: readonly string[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const mode of MODES) {
    const child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), ...argv, '--mode', mode],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // Pass the child's lines on as they come (svclab bench shows the latest), keep its result.
    let line: string | undefined;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => {
      if (l.startsWith(BENCH_JSON_PREFIX)) line = l;
      else console.log(l);
    });
    const [code] = (await once(child, 'close')) as [number | null];
    if (code !== 0 || line === undefined)
      throw new Error(`classify --mode ${mode} failed (exit ${code})`);
    figures.push(...(JSON.parse(line.slice(BENCH_JSON_PREFIX.length)) as SuiteResult).figures);
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const quick = isQuick(argv);
  const only = argValue(argv, '--mode') as Mode | undefined;
  if (only === undefined) {
    printSuiteResult({ suite: 'classify', figures: await eachModeInChild(argv) });
  } else {
    if (!MODES.includes(only)) throw new Error(`unknown mode ${only}`);
    const given = argv.filter((a) => /^\d+$/.test(a)).map(Number);
    const iptMax = Number(argValue(argv, '--iptables-max') ?? IPTABLES_MAX);
    const sizes = (given.length > 0 ? given : quick ? QUICK_SIZES : FULL_SIZES).filter(
      (n) => only !== 'iptables' || given.length > 0 || n <= iptMax,
    );
    const rows: ClassifyRow[] = [];
    for (const n of sizes) {
      console.log(`${only} ${n} services: building and measuring…`);
      const r = classifyBench(only, n, quick);
      rows.push(r);
      const med = [...r.ns].sort((a, b) => a - b)[r.ns.length >> 1]!;
      console.log(
        `${only.padEnd(8)} ${String(n).padStart(7)} services: build+sync ${r.buildMs.toFixed(0).padStart(6)} ms (feed ${r.feedMs.toFixed(0)} + sync ${r.syncMs.toFixed(0)} ms CPU) | ` +
          `first packet ${med.toFixed(0).padStart(9)} ns | ${r.meanVisited.toFixed(1).padStart(9)} rules visited | ` +
          `heap ${r.heapMiB.toFixed(0)} MiB + ${r.arrayBuffersMiB.toFixed(0)} MiB typed arrays`,
      );
      gc?.();
    }
    if (only === 'iptables' && given.length === 0 && !quick && iptMax < 100_000)
      console.log(`iptables at 100,000 services not run (--iptables-max ${iptMax})`);
    printSuiteResult({ suite: 'classify', figures: classifyFigures(rows) });
  }
}
