// The engine behind `svclab bench` and `npm run bench`: runs each suite as its own process
// (so one suite's heap and JIT state do not colour the next), shows progress on stderr,
// parses each suite's BENCH_JSON line, and writes results.json, one SVG chart per suite and
// summary.md into the output directory.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { repoRoot } from '../src/lab/repo.ts';
import { chartSpec, renderSvg } from './chart.ts';
import { BENCH_JSON_PREFIX, type SuiteResult } from './figures.ts';
import { gitCommit, machine } from './machine.ts';
import { Progress } from './progress.ts';
import { headlineRatios } from './ratios.ts';
import type { BenchResults, SuiteRun } from './results.ts';
import { SUITES, type SuiteSpec, suiteByName } from './suites.ts';
import { summaryMarkdown } from './summary.ts';

// From the repository root, not this module's URL: the CLI may run from a bundle in dist/.
export const REPO_DIR = repoRoot();
export const BENCH_DIR = join(REPO_DIR, 'bench');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface BenchOptions {
  quick: boolean;
  /** Suite names; empty: all. */
  suites: readonly string[];
  outDir?: string;
  /** Pass each suite's output through to stderr as well as its log file. */
  verbose?: boolean;
  argv?: readonly string[];
  /** Where progress goes (default process.stderr). */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

export class UnknownSuiteError extends Error {}

export function selectSuites(names: readonly string[]): SuiteSpec[] {
  if (names.length === 0) return [...SUITES];
  return names.map((n) => {
    const s = suiteByName(n);
    if (s === undefined) {
      throw new UnknownSuiteError(
        `unknown suite "${n}" (have: ${SUITES.map((x) => x.name).join(', ')})`,
      );
    }
    return s;
  });
}

const pad = (n: number) => String(n).padStart(2, '0');

export function defaultOutDir(date: Date, commit: string): string {
  const d = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const t = `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  return join(RESULTS_DIR, `${d}-${t}-${commit}`);
}

/** Durations of the last recorded run of the same kind (quick or full), for time left. */
function previousDurations(quick: boolean): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(RESULTS_DIR)) return out;
  const runs: BenchResults[] = [];
  for (const d of readdirSync(RESULTS_DIR)) {
    const f = join(RESULTS_DIR, d, 'results.json');
    if (!existsSync(f)) continue;
    try {
      const r = JSON.parse(readFileSync(f, 'utf8')) as BenchResults;
      if (r.quick === quick) runs.push(r);
    } catch {
      // a half-written or foreign file: ignore it
    }
  }
  runs.sort((a, b) => a.date.localeCompare(b.date));
  for (const r of runs)
    for (const s of r.suites) if (s.status !== 'crashed') out.set(s.name, s.durationMs);
  return out;
}

/** The last BENCH_JSON line of a suite's stdout, if any and if it parses. */
export function parseBenchJson(stdout: string): SuiteResult | undefined {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (!l.startsWith(BENCH_JSON_PREFIX)) continue;
    try {
      const r = JSON.parse(l.slice(BENCH_JSON_PREFIX.length)) as SuiteResult;
      if (Array.isArray(r.figures)) return r;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

function runSuite(
  spec: SuiteSpec,
  quick: boolean,
  logFile: string,
  verbose: boolean,
  timeoutMs: number,
  onLine: (line: string) => void,
): Promise<Exit> {
  const args = ['--import=tsx', '--expose-gc', join(BENCH_DIR, spec.file)];
  if (quick) args.push('--quick');
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const log: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      stdout += s;
      log.push(s);
      const lines = s.split('\n').filter((l) => l.trim() !== '');
      if (lines.length > 0) onLine(lines[lines.length - 1]!);
      if (verbose) process.stderr.write(s);
    });
    child.stderr.on('data', (s: string) => {
      log.push(s);
      if (verbose) process.stderr.write(s);
    });
    // A hung suite must not hang the run; SIGINT lets it clean up its namespaces.
    const timer = setTimeout(() => {
      log.push(`\n[svclab bench] timed out after ${timeoutMs / 1000} s\n`);
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(logFile, log.join(''));
      done({ code, signal, stdout });
    });
  });
}

export function classifyExit(spec: SuiteSpec, exit: Exit): Omit<SuiteRun, 'durationMs' | 'log'> {
  const parsed = parseBenchJson(exit.stdout);
  const base = { name: spec.name, file: `bench/${spec.file}`, exitCode: exit.code };
  if (exit.code !== 0) {
    const why = exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    return { ...base, status: 'crashed', reason: why, figures: parsed?.figures ?? [] };
  }
  if (parsed === undefined)
    return { ...base, status: 'no-figures', reason: 'no BENCH_JSON line', figures: [] };
  if (parsed.skipped !== undefined)
    return { ...base, status: 'skipped', reason: parsed.skipped, figures: parsed.figures };
  if (parsed.figures.length === 0)
    return { ...base, status: 'no-figures', reason: 'BENCH_JSON had no figures', figures: [] };
  return { ...base, status: 'ok', figures: parsed.figures };
}

export interface BenchRun {
  results: BenchResults;
  outDir: string;
  /** Non-zero only when a suite crashed. */
  exitCode: number;
}

export async function runBench(opts: BenchOptions): Promise<BenchRun> {
  const specs = selectSuites(opts.suites);
  const started = new Date();
  const { commit, dirty } = gitCommit(REPO_DIR);
  const outDir = resolve(opts.outDir ?? defaultOutDir(started, commit));
  mkdirSync(outDir, { recursive: true });
  const previous = previousDurations(opts.quick);
  const estimates = specs.map((s) => previous.get(s.name) ?? s.weight[opts.quick ? 0 : 1] * 1000);
  const progress = new Progress(
    opts.progress ?? process.stderr,
    specs.map((s) => s.name),
    estimates,
  );
  const timeoutMs = (opts.quick ? 5 : 40) * 60_000;
  const runs: SuiteRun[] = [];
  const assemble = (): BenchResults => {
    const r: BenchResults = {
      version: 1,
      date: started.toISOString(),
      argv: [...(opts.argv ?? process.argv.slice(2))],
      quick: opts.quick,
      machine: machine(),
      node: process.version,
      commit,
      dirty,
      durationMs: Date.now() - started.getTime(),
      suites: runs,
      ratios: [],
    };
    r.ratios = headlineRatios(r);
    return r;
  };
  const write = (r: BenchResults) =>
    writeFileSync(join(outDir, 'results.json'), JSON.stringify(r, null, 2) + '\n');
  try {
    for (const [i, spec] of specs.entries()) {
      const logName = `${spec.name}.log`;
      progress.start(i);
      const t0 = performance.now();
      const load0 = loadavg()[0]!;
      let run: SuiteRun;
      if (!existsSync(join(BENCH_DIR, spec.file))) {
        run = {
          name: spec.name,
          file: `bench/${spec.file}`,
          status: 'skipped',
          reason: `bench/${spec.file} does not exist in this checkout`,
          exitCode: null,
          durationMs: 0,
          figures: [],
          log: '',
        };
      } else {
        const exit = await runSuite(
          spec,
          opts.quick,
          join(outDir, logName),
          opts.verbose === true,
          timeoutMs,
          (l) => progress.note(l),
        );
        run = {
          ...classifyExit(spec, exit),
          durationMs: performance.now() - t0,
          log: logName,
          load: { start: load0, end: loadavg()[0]! },
        };
      }
      progress.finish(i, run.status, run.reason);
      runs.push(run);
      // Written after every suite, so an interrupted long run keeps what it measured.
      write(assemble());
    }
  } finally {
    progress.close();
  }

  for (const run of runs) {
    const spec = chartSpec(run);
    if (spec === undefined) continue;
    const file = `${run.name}.svg`;
    writeFileSync(join(outDir, file), await renderSvg(spec));
    run.chart = file;
  }
  const results = assemble();
  write(results);
  writeFileSync(join(outDir, 'summary.md'), summaryMarkdown(results));
  const crashed = runs.some((r) => r.status === 'crashed');
  return { results, outDir, exitCode: crashed ? 1 : 0 };
}

/** `bench/results/…` relative to the repository, for messages. */
export const shortPath = (p: string): string => {
  const r = relative(REPO_DIR, p);
  return r.startsWith('..') ? p : r;
};
