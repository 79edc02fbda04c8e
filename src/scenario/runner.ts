// Runs a scenario on a fresh session: each step's command on its host, the transcript as
// a terminal would show it, and every expectation checked. The run passes iff all hold.
import { type Era, eraOf } from '../control/era.ts';
import { compileExpectRegex } from './regex.ts';
import type { CaptureEvent } from '../sim/network.ts';
import type { ProxyMode } from '../control/node-setup.ts';
import type { Expect, Matcher, Scenario } from './format.ts';
import { type ExecResult, Session } from './session.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';

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
  /** The mode kube-proxy ran at the end (a scenario may switch it through its ConfigMap). */
  finalMode: ProxyMode;
  seed: number;
  checks: number;
  failures: Failure[];
  transcript: string;
  /** Virtual time at the end, ns. */
  virtualTimeNs: number;
}

export interface RunOptions {
  mode?: ProxyMode;
  /** The other kube-proxy flags (--ipvs-scheduler, --masquerade-all, ...). */
  kubeProxy?: KubeProxySettings;
  seed?: number;
  /** The cluster's release, over the scenario's cluster.kubernetesVersion. */
  kubernetesVersion?: string;
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
    const n = compileExpectRegex(r).count(text);
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
  if (e.distribution !== undefined) {
    const { answers, tolerance } = e.distribution;
    const counts = new Map<string, number>();
    for (const r of results) counts.set(r.stdout, (counts.get(r.stdout) ?? 0) + 1);
    if (counts.size !== answers) errs.push(`${counts.size} different answers, want ${answers}`);
    for (const [answer, n] of counts) {
      const share = n / results.length;
      if (Math.abs(share - 1 / answers) > tolerance) {
        errs.push(
          `answer ${JSON.stringify(answer.trim())} got ${(share * 100).toFixed(1)}% of ${results.length} runs, want ${(100 / answers).toFixed(1)}% ± ${(tolerance * 100).toFixed(1)}%`,
        );
      }
    }
  }
  if (e.distinct !== undefined) {
    const n = new Set(results.map((r) => r.stdout)).size;
    if (n !== e.distinct)
      errs.push(`${n} distinct answers over ${results.length} runs, want ${e.distinct}`);
  }
  return errs;
}

/** The prompt a step's command is typed at: the node's shell (its era's), a pod's, the outside PC's. */
const promptFor = (era: Era) => (on: string) =>
  on.startsWith('pod/')
    ? `[root@${on.slice(4)} /]# `
    : on === 'external'
      ? 'C:\\> '
      : era.prompt(on);

export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<ScenarioReport> {
  // No mode anywhere: kubeadm's blank mode in the kube-proxy ConfigMap (iptables).
  const chosen = opts.mode ?? sc.proxyMode;
  const mode = chosen ?? 'iptables';
  const seed = opts.seed ?? sc.seed ?? 1;
  const session = new Session({
    ...(chosen !== undefined ? { mode: chosen } : {}),
    ...(opts.kubeProxy !== undefined ? { kubeProxy: opts.kubeProxy } : {}),
    seed,
    baseDir: sc.dir,
    ...(sc.cluster || opts.kubernetesVersion
      ? {
          cluster: {
            ...sc.cluster,
            ...(opts.kubernetesVersion ? { kubernetesVersion: opts.kubernetesVersion } : {}),
          },
        }
      : {}),
    ...(opts.capture ? { capture: opts.capture } : {}),
  });
  const prompt = promptFor(eraOf(session.cluster.config.kubernetesVersion));
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
    if (step.kind === 'apply') {
      const r = session.applyText(step.manifest, `${sc.file}:${step.line}`);
      out(
        `${prompt('k8s-master01')}kubectl apply -f - <<EOF\n${step.manifest.trimEnd()}\nEOF\n${r.stdout}${r.stderr}`,
      );
      session.wait(1e8);
      if (step.expect !== undefined) {
        checks++;
        for (const message of checkAll(step.expect, [r]))
          failures.push({ where, command: 'apply', message });
      }
      continue;
    }
    // `only` asks which mode kube-proxy runs now on the step's node (a restart can change it).
    if (step.only !== undefined && !step.only.includes(session.modeOn(step.on))) continue;
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
    finalMode: session.modeOn(''),
    seed,
    checks,
    failures,
    transcript,
    virtualTimeNs: session.cluster.now(),
  };
}
