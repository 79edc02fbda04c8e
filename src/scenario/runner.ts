// Runs a scenario on a fresh session: each step's command on its host, the transcript as
// a terminal would show it, and every expectation checked. The run passes iff all hold.
import type { CaptureEvent } from '../sim/network.ts';
import type { ProxyMode } from '../sim/node-setup.ts';
import type { Expect, Matcher, Scenario } from './format.ts';
import { type ExecResult, Session } from './session.ts';

export interface Failure {
  /** file:line of the step. */
  where: string;
  command: string;
  message: string;
}

export interface ScenarioReport {
  file: string;
  title: string;
  mode: ProxyMode;
  seed: number;
  checks: number;
  failures: Failure[];
  transcript: string;
  /** Virtual time at the end, ns. */
  virtualTimeNs: number;
}

export interface RunOptions {
  mode?: ProxyMode;
  seed?: number;
  /** Called with transcript text as it is produced (for live printing). */
  onOutput?: (text: string) => void;
  capture?: (e: CaptureEvent) => void;
}

function check(m: Matcher, text: string, what: string): string[] {
  const errs: string[] = [];
  if (m.equals !== undefined && text !== m.equals)
    errs.push(`${what} is ${JSON.stringify(text)}, want ${JSON.stringify(m.equals)}`);
  for (const c of m.contains ?? [])
    if (!text.includes(c)) errs.push(`${what} lacks ${JSON.stringify(c)}`);
  for (const a of m.absent ?? [])
    if (text.includes(a)) errs.push(`${what} has ${JSON.stringify(a)}`);
  for (const [i, r] of (m.matches ?? []).entries()) {
    const re = new RegExp(r, 'gm');
    const n = text.match(re)?.length ?? 0;
    if (i === 0 && m.count !== undefined) {
      if (n !== m.count) errs.push(`${what} matches /${r}/ ${n} times, want ${m.count}`);
    } else if (n === 0) errs.push(`${what} does not match /${r}/`);
  }
  return errs;
}

function checkAll(e: Expect, results: ExecResult[]): string[] {
  const errs: string[] = [];
  results.forEach((r, i) => {
    const tag = results.length > 1 ? ` (run ${i + 1})` : '';
    if (e.exitCode !== undefined && r.exitCode !== e.exitCode)
      errs.push(`exit code ${r.exitCode}, want ${e.exitCode}${tag}`);
    if (e.stdout) errs.push(...check(e.stdout, r.stdout, `stdout${tag}`));
    if (e.stderr) errs.push(...check(e.stderr, r.stderr, `stderr${tag}`));
  });
  if (e.distinct !== undefined) {
    const n = new Set(results.map((r) => r.stdout)).size;
    if (n !== e.distinct)
      errs.push(`${n} distinct answers over ${results.length} runs, want ${e.distinct}`);
  }
  return errs;
}

const prompt = (on: string) =>
  on.startsWith('pod/')
    ? `[root@${on.slice(4)} /]# `
    : on === 'external'
      ? 'C:\\> '
      : `[root@${on} ~]# `;

export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<ScenarioReport> {
  const mode = opts.mode ?? sc.proxyMode ?? 'iptables';
  const seed = opts.seed ?? sc.seed ?? 1;
  const session = new Session({
    mode,
    seed,
    baseDir: sc.dir,
    ...(opts.capture ? { capture: opts.capture } : {}),
  });
  let transcript = '';
  const out = (s: string) => {
    transcript += s;
    opts.onOutput?.(s);
  };
  const failures: Failure[] = [];
  let checks = 0;
  for (const step of sc.steps) {
    const where = `${sc.file}:${step.line}`;
    if (step.kind === 'note') {
      out(`\n# ${step.text.trimEnd().split('\n').join('\n# ')}\n`);
      continue;
    }
    if (step.kind === 'wait') {
      session.wait(step.ns);
      continue;
    }
    if (step.only !== undefined && !step.only.includes(mode)) continue;
    const results: ExecResult[] = [];
    for (let i = 0; i < step.repeat; i++) {
      const r = await session.exec(step.command, step.on);
      results.push(r);
      if (step.show)
        out(`${prompt(step.on)}${step.command}\n${r.transcript ?? r.stdout + r.stderr}`);
      // Like a reader at a terminal, a moment passes between commands.
      session.wait(1e8);
    }
    if (step.expect !== undefined) {
      checks++;
      for (const message of checkAll(step.expect, results))
        failures.push({ where, command: step.command, message });
    }
  }
  return {
    file: sc.file,
    title: sc.title,
    mode,
    seed,
    checks,
    failures,
    transcript,
    virtualTimeNs: session.cluster.now(),
  };
}
