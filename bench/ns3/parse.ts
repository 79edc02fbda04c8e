// The pure parts of bench/ns3/compare.ts, kept apart so test/bench/ns3.test.ts can check
// them without ns-3: why the suite is skipped, the compiler flags pkg-config gives, and
// the two result lines (ns-3's NS3_JSON, bench/sim.ts's BENCH_JSON).
import { BENCH_JSON_PREFIX, type SuiteResult } from '../figures.ts';

/** The ns-3 modules svc-workload.cc links against (pkg-config names). */
export const NS3_MODULES = [
  'ns3-core',
  'ns3-network',
  'ns3-internet',
  'ns3-point-to-point',
  'ns3-applications',
  'ns3-traffic-control',
] as const;

/** What the machine offers, probed by compare.ts. */
export interface Ns3Probe {
  /** A C++ compiler on PATH (g++ or c++), or undefined. */
  compiler: string | undefined;
  /** `pkg-config` is on PATH. */
  pkgConfig: boolean;
  /** The NS3_MODULES pkg-config does not know. */
  missingModules: readonly string[];
}

/** Why the suite cannot run here, or undefined when it can. */
export function skipReason(p: Ns3Probe): string | undefined {
  if (!p.pkgConfig) return 'pkg-config not found (apt-get install pkg-config)';
  if (p.missingModules.length > 0)
    return `ns-3 not installed: pkg-config knows no ${p.missingModules.join(', ')} (apt-get install ns3 libns3-dev)`;
  if (p.compiler === undefined) return 'no C++ compiler (g++ or c++) on PATH';
  return undefined;
}

/**
 * `pkg-config --cflags --libs` output as compiler arguments. Debian's ns-3 .pc files name
 * libraries by absolute path that only their -dev packages install (libgsl.so without
 * libgsl-dev); those are dropped when absent, since ns-3's shared libraries already
 * depend on them. Duplicates are kept once.
 */
export function compilerFlags(pkgConfigOut: string, exists: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const t of pkgConfigOut.split(/\s+/)) {
    if (t === '' || out.includes(t)) continue;
    if (t.startsWith('/') && !exists(t)) continue;
    // `-I/usr\;` (a CMake list separator escaped into the .pc file) names no directory.
    if (t.includes('\\')) continue;
    out.push(t);
  }
  return out;
}

/** One ns-3 run's result line. */
export interface Ns3Result {
  routing: string;
  clients: number;
  requests: number;
  packets: number;
  completed: number;
  failed: number;
  wallS: number;
  cpuS: number;
  virtualS: number;
}

const NS3_PREFIX = 'NS3_JSON ';

/** The NS3_JSON line of svc-workload's stdout, or an Error saying what is wrong. */
export function parseNs3Output(stdout: string): Ns3Result | Error {
  const line = stdout.split('\n').find((l) => l.startsWith(NS3_PREFIX));
  if (line === undefined) return new Error('no NS3_JSON line in ns-3 output');
  let v: unknown;
  try {
    v = JSON.parse(line.slice(NS3_PREFIX.length));
  } catch (e) {
    return new Error(`bad NS3_JSON line: ${(e as Error).message}`);
  }
  const o = v as Record<string, unknown>;
  const keys = ['clients', 'requests', 'packets', 'completed', 'failed', 'wallS', 'cpuS'];
  for (const k of keys)
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]))
      return new Error(`NS3_JSON: ${k} is not a number`);
  if (typeof o.routing !== 'string') return new Error('NS3_JSON: routing is not a string');
  return v as Ns3Result;
}

/** What compare.ts needs from one bench/sim.ts run. */
export interface SimResult {
  packets: number;
  completed: number;
  wallS: number;
  cpuS: number;
}

/** bench/sim.ts's BENCH_JSON line → packets, requests, wall and CPU seconds. */
export function parseSimOutput(stdout: string): SimResult | Error {
  const line = stdout.split('\n').find((l) => l.startsWith(BENCH_JSON_PREFIX));
  if (line === undefined) return new Error('no BENCH_JSON line in bench/sim.ts output');
  let r: SuiteResult;
  try {
    r = JSON.parse(line.slice(BENCH_JSON_PREFIX.length)) as SuiteResult;
  } catch (e) {
    return new Error(`bad BENCH_JSON line: ${(e as Error).message}`);
  }
  const get = (metric: string): number | undefined =>
    r.figures?.find((f) => f.metric === metric)?.median;
  // Older bench/sim.ts (before the packet count was reported): rate × wall time.
  const rate = get('sim-packets');
  const wall = get('http-requests-wall');
  const packets =
    get('dataplane-packets') ??
    (rate !== undefined && wall !== undefined ? Math.round(rate * wall) : undefined);
  const completed = get('requests-completed');
  const wallS = get('http-requests-wall');
  const cpuS = get('http-requests-cpu');
  if (packets === undefined || completed === undefined || wallS === undefined || cpuS === undefined)
    return new Error(
      'bench/sim.ts BENCH_JSON lacks dataplane-packets (or sim-packets), requests-completed, http-requests-wall or http-requests-cpu',
    );
  return { packets, completed, wallS, cpuS };
}

/** Packets per wall second and per CPU second of one run. */
export function rates(r: { packets: number; wallS: number; cpuS: number }): {
  perWall: number;
  perCpu: number;
} {
  return { perWall: r.packets / r.wallS, perCpu: r.packets / r.cpuS };
}
