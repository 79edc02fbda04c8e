// svclab's simulation engine against ns-3, the reference packet-level simulator, on the
// same workload (bench/sim.ts; bench/ns3/svc-workload.cc is its ns-3 twin): simulated
// packets per wall second and per CPU second, and svclab's ratio to each ns-3 build,
// measured in one run with the runs interleaved round by round so the machine's load
// falls on all of them alike. Skipped, with the reason, where ns-3 is not installed.
//
//   node --import=tsx --expose-gc bench/ns3/compare.ts [--quick] [--rounds N]
//        [--clients N] [--requests N] [--svclab DIR]... [--ns3-prefix DIR]...
//
// --ns3-prefix DIR (or SVCLAB_NS3_PREFIX=DIR[:DIR]) adds an ns-3 installed under DIR, e.g.
// an optimized build from source (Debian's is built with logging and asserts compiled in),
// as ns3opt-static and ns3opt-hashed.
// --svclab DIR adds another checkout's bench/sim.ts to the rounds (e.g. a
// `git worktree add /tmp/before <commit>` for a before/after pair), labelled by DIR.
// Packets: svclab counts its node dataplanes' verdicts; ns-3 counts IPv4 packets received
// by the three node routers. Per CPU second counts every thread of the process (Node's
// GC and compiler threads; ns-3 is single-threaded).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, figure, isQuick, printSuiteResult } from '../figures.ts';
import {
  NS3_MODULES,
  type Ns3Probe,
  compilerFlags,
  parseNs3Output,
  parseSimOutput,
  rates,
  skipReason,
} from './parse.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const SOURCE = join(HERE, 'svc-workload.cc');
/** V8 worker threads sized to this machine: cores − 1 (Node's default is 4 on any machine). */
const POOL = Math.max(1, availableParallelism() - 1);

function onPath(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
}

function probe(): Ns3Probe {
  const pkgConfig = onPath('pkg-config');
  const missingModules = pkgConfig
    ? NS3_MODULES.filter((m) => spawnSync('pkg-config', ['--exists', m]).status !== 0)
    : [...NS3_MODULES];
  const compiler = ['g++', 'c++'].find(onPath);
  return { compiler, pkgConfig, missingModules };
}

/**
 * Compile svc-workload.cc once per source + flags (cached under the temp dir): against the
 * ns-3 pkg-config finds, or against the ns-3 installed under `prefix` (an optimized build
 * from source: `./ns3 configure --build-profile=optimized --prefix=DIR`, then install),
 * whose .pc files are in DIR/lib/pkgconfig; the program then gets -O3 -march=native too,
 * as ns-3's optimized profile compiles itself, and an RPATH (not RUNPATH: ns-3's own
 * libraries find each other through it) to DIR/lib.
 */
function build(compiler: string, prefix?: string): string {
  const env =
    prefix === undefined
      ? process.env
      : { ...process.env, PKG_CONFIG_PATH: join(prefix, 'lib', 'pkgconfig') };
  const pc = execFileSync('pkg-config', ['--cflags', '--libs', ...NS3_MODULES], {
    encoding: 'utf8',
    env,
  });
  const flags = compilerFlags(pc, existsSync);
  const args =
    prefix === undefined
      ? ['-O2', '-std=c++17']
      : [
          '-O3',
          '-march=native',
          '-std=c++17',
          `-Wl,--disable-new-dtags,-rpath,${join(prefix, 'lib')}`,
        ];
  const key = createHash('sha256')
    .update(readFileSync(SOURCE))
    .update(JSON.stringify([compiler, args, flags]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'svclab-ns3');
  const bin = join(dir, `svc-workload-${key}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  console.log(`building ${SOURCE} with ${compiler} (ns-3 ${ns3Version(env)}) ...`);
  const tmp = `${bin}.${process.pid}`;
  execFileSync(compiler, [...args, '-o', tmp, SOURCE, ...flags], { stdio: 'inherit' });
  renameSync(tmp, bin);
  return bin;
}

function ns3Version(env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('pkg-config', ['--modversion', 'ns3-core'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

interface Args {
  rounds: number;
  clients: number;
  requests: number;
  others: string[];
  /** Install prefixes of other ns-3 builds (e.g. an optimized one built from source). */
  ns3Prefixes: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const quick = isQuick(argv);
  const a: Args = {
    rounds: quick ? 1 : 3,
    clients: quick ? 100 : 1000,
    requests: quick ? 5 : 10,
    others: [],
    ns3Prefixes: (process.env.SVCLAB_NS3_PREFIX ?? '').split(':').filter((x) => x !== ''),
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--rounds') a.rounds = Number(v);
    else if (argv[i] === '--clients') a.clients = Number(v);
    else if (argv[i] === '--requests') a.requests = Number(v);
    else if (argv[i] === '--svclab') a.others.push(resolve(v!));
    else if (argv[i] === '--ns3-prefix') a.ns3Prefixes.push(resolve(v!));
    else continue;
    i++;
  }
  return a;
}

interface Run {
  packets: number;
  wallS: number;
  cpuS: number;
  completed: number;
}

function runNs3(bin: string, routing: string, a: Args): Run {
  const r = spawnSync(
    bin,
    [`--clients=${a.clients}`, `--requests=${a.requests}`, `--routing=${routing}`],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const out = parseNs3Output(r.stdout ?? '');
  if (out instanceof Error) throw new Error(`ns-3 (${routing}): ${out.message}\n${r.stderr}`);
  return out;
}

function runSvclab(root: string, a: Args, nodeArgs: readonly string[] = []): Run {
  const r = spawnSync(
    process.execPath,
    [
      ...nodeArgs,
      '--import=tsx',
      '--expose-gc',
      'bench/sim.ts',
      String(a.clients),
      String(a.requests),
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const out = parseSimOutput(r.stdout ?? '');
  if (out instanceof Error) throw new Error(`svclab (${root}): ${out.message}\n${r.stderr}`);
  return out;
}

const main = (): void => {
  const skip = skipReason(probe());
  if (skip !== undefined) {
    console.log(`ns3 suite skipped: ${skip}`);
    printSuiteResult({ suite: 'ns3', figures: [], skipped: skip });
    return;
  }
  const a = parseArgs(process.argv.slice(2));
  const bin = build(probe().compiler!);
  const runners: { label: string; run: () => Run }[] = [
    { label: 'svclab', run: () => runSvclab(REPO, a) },
    ...a.others.map((dir) => ({ label: `svclab@${dir}`, run: () => runSvclab(dir, a) })),
    // For information, not the headline: Node starts 4 V8 worker threads (GC, compiler)
    // whatever the cores; on a small machine they contend with the simulation's thread.
    // With the pool sized to the machine (NODE_OPTIONS=--v8-pool-size=N, docs/sim-speed.md).
    ...(POOL < 4
      ? [
          {
            label: `svclab-pool${POOL}`,
            run: () => runSvclab(REPO, a, [`--v8-pool-size=${POOL}`]),
          },
        ]
      : []),
    { label: 'ns3-static', run: () => runNs3(bin, 'static', a) },
    { label: 'ns3-hashed', run: () => runNs3(bin, 'hashed', a) },
  ];
  // Other ns-3 builds, labelled ns3opt (one) or ns3opt<i>.
  a.ns3Prefixes.forEach((prefix, i) => {
    const optBin = build(probe().compiler!, prefix);
    const tag = a.ns3Prefixes.length === 1 ? 'ns3opt' : `ns3opt${i + 1}`;
    console.log(
      `  ${tag}: ns-3 ${ns3Version({ ...process.env, PKG_CONFIG_PATH: join(prefix, 'lib', 'pkgconfig') })} from ${prefix}`,
    );
    runners.push(
      { label: `${tag}-static`, run: () => runNs3(optBin, 'static', a) },
      { label: `${tag}-hashed`, run: () => runNs3(optBin, 'hashed', a) },
    );
  });
  const runs = new Map<string, Run[]>(runners.map((r) => [r.label, []]));
  console.log(
    `ns3: ${a.clients} clients x ${a.requests} TCP exchanges, ${a.rounds} round(s), ns-3 ${ns3Version()}`,
  );
  for (let round = 0; round < a.rounds; round++)
    for (const r of runners) {
      const x = r.run();
      runs.get(r.label)!.push(x);
      const { perWall, perCpu } = rates(x);
      console.log(
        `  round ${round + 1} ${r.label.padEnd(12)} ${x.packets} packets, ${x.completed} exchanges, wall ${x.wallS.toFixed(2)} s, CPU ${x.cpuS.toFixed(2)} s: ${Math.round(perWall)}/wall s, ${Math.round(perCpu)}/CPU s`,
      );
    }

  const figures: Figure[] = [];
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  console.log('\n  packets per second (median of rounds)   wall        CPU   packets/exchange');
  for (const [label, rs] of runs) {
    const wall = rs.map((x) => rates(x).perWall);
    const cpu = rs.map((x) => rates(x).perCpu);
    figures.push(figure('sim-packets-wall', 'packets/s', wall, { mode: label }));
    figures.push(figure('sim-packets-cpu', 'packets/cpu-s', cpu, { mode: label }));
    figures.push(
      figure(
        'exchanges-cpu',
        'exchanges/cpu-s',
        rs.map((x) => x.completed / x.cpuS),
        { mode: label },
      ),
    );
    const perExchange = rs[0]!.packets / Math.max(1, rs[0]!.completed);
    console.log(
      `  ${label.padEnd(38)} ${Math.round(median(wall)).toLocaleString('en-US').padStart(8)} ${Math.round(median(cpu)).toLocaleString('en-US').padStart(10)} ${perExchange.toFixed(1).padStart(8)}`,
    );
  }
  // Ratios per round (the runs of one round shared the machine's load), then the median.
  console.log('\n  svclab / ns-3 (median of per-round ratios)   wall    CPU   exchanges per CPU s');
  for (const ns of runners.filter((r) => r.label.startsWith('ns3')).map((r) => r.label))
    for (const sv of runners.filter((r) => r.label.startsWith('svclab')).map((r) => r.label)) {
      const s = runs.get(sv)!;
      const n = runs.get(ns)!;
      const ratio = (f: (r: Run) => number) => s.map((x, i) => f(x) / f(n[i]!));
      const wall = ratio((r) => rates(r).perWall);
      const cpu = ratio((r) => rates(r).perCpu);
      const ex = ratio((r) => r.completed / r.cpuS);
      figures.push(figure('ratio-wall', 'x', wall, { mode: `${sv}/${ns}` }));
      figures.push(figure('ratio-cpu', 'x', cpu, { mode: `${sv}/${ns}` }));
      figures.push(figure('ratio-exchanges-cpu', 'x', ex, { mode: `${sv}/${ns}` }));
      console.log(
        `  ${`${sv} / ${ns}`.padEnd(44)} ${median(wall).toFixed(2).padStart(5)}× ${median(cpu).toFixed(2).padStart(5)}× ${median(ex).toFixed(2).padStart(6)}×`,
      );
    }
  printSuiteResult({ suite: 'ns3', figures });
};

main();
