// `svclab run SCENARIO... [--proxy-mode M] [--seed N] [--json] [--pcap FILE] [--quiet]`:
// replay scenarios; exit 0 iff every expectation holds.
import type { Command } from 'commander';
import { statSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createPcapFileWriter } from '../packet/pcap-file.ts';
import { LINKTYPE_LINUX_SLL2, LinkCapture } from '../sim/capture.ts';
import type { CaptureEvent } from '../sim/network.ts';
import { DEFAULT_EPOCH_MS } from '../api/wire.ts';
import { ScenarioError, loadScenario, scenarioParts } from '../scenario/format.ts';
import { type ScenarioReport, runScenario } from '../scenario/runner.ts';
import type { ProxyMode } from '../control/node-setup.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';
import { CliError, kubernetesVersion } from './cluster-from-files.ts';
import { type KubeProxyFlagOptions, kubeProxyOptions, kubeProxySettings } from './node-view.ts';

/**
 * Scenario files named on the command line; folders give their *.yaml files, sorted; a
 * file of `parts` gives its parts. Each file runs once, in first-seen order.
 */
export function scenarioFiles(paths: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of listed(paths)) {
    let parts: string[] | undefined;
    try {
      parts = scenarioParts(f);
    } catch (err) {
      if (err instanceof ScenarioError) throw new CliError(`error: ${err.message}`);
      throw err;
    }
    for (const p of parts ?? [f]) {
      const key = resolve(p);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(parts ? relative(process.cwd(), p) || p : p);
      }
    }
  }
  return out;
}

function listed(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`error: ${p}: no such file or directory`);
    }
    if (!st.isDirectory()) return [p];
    return readdirSync(p)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(p, f));
  });
}

export interface RunAllOptions {
  mode?: ProxyMode;
  /** The other kube-proxy flags (--ipvs-scheduler, --masquerade-all, ...). */
  kubeProxy?: KubeProxySettings;
  seed?: number;
  /** --kubernetes-version: the release every scenario's cluster runs. */
  kubernetesVersion?: string;
  pcap?: string;
  onOutput?: (s: string) => void;
  /** Told the capture's interface table once the pcap is written. */
  onPcap?: (table: string) => void;
}

export async function runAll(files: string[], o: RunAllOptions): Promise<ScenarioReport[]> {
  const scenarios = files.map((f) => {
    try {
      return loadScenario(f);
    } catch (err) {
      if (err instanceof ScenarioError) throw new CliError(`error: ${err.message}`);
      throw err;
    }
  });
  const pcap = o.pcap
    ? createPcapFileWriter(o.pcap, { resolution: 'ns', linkType: LINKTYPE_LINUX_SLL2 })
    : undefined;
  // One capture across scenarios: each restarts virtual time; timestamps keep the seed's clock.
  const links = pcap ? new LinkCapture(pcap, BigInt(DEFAULT_EPOCH_MS) * 1_000_000n) : undefined;
  const reports: ScenarioReport[] = [];
  try {
    for (const sc of scenarios) {
      reports.push(
        await runScenario(sc, {
          ...(o.mode ? { mode: o.mode } : {}),
          ...(o.kubeProxy ? { kubeProxy: o.kubeProxy } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.kubernetesVersion !== undefined ? { kubernetesVersion: o.kubernetesVersion } : {}),
          ...(o.onOutput ? { onOutput: o.onOutput } : {}),
          ...(links ? { capture: (e: CaptureEvent) => links.add(e) } : {}),
        }),
      );
    }
  } finally {
    pcap?.close();
  }
  if (links && o.pcap) {
    o.onPcap?.(`pcap ${o.pcap}: LINUX_SLL2, interfaces by sll.ifindex:\n${links.table()}\n`);
  }
  return reports;
}

export function summarize(reports: ScenarioReport[]): string {
  const lines = reports.map((r) => {
    const status = r.failures.length === 0 ? 'PASS' : 'FAIL';
    const mode = r.finalMode === r.mode ? r.mode : `${r.mode} → ${r.finalMode}`;
    return `${status}  ${relative(process.cwd(), r.file) || r.file} [${mode}] ${r.checks - new Set(r.failures.map((f) => f.where)).size}/${r.checks} checks`;
  });
  for (const r of reports)
    for (const f of r.failures) lines.push(`  ${f.where}: ${f.command}\n    ${f.message}`);
  return `${lines.join('\n')}\n`;
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('replay scenario files (or folders of them); exit 0 iff every expectation holds')
    .argument('<scenario...>', 'scenario files or folders');
  kubeProxyOptions(cmd)
    .option('--seed <n>', 'seed of the simulation', (v) => Number.parseInt(v, 10))
    .option('--json', 'print a JSON report instead of the transcript')
    .option('--pcap <file>', 'write every packet on every link to a pcap file')
    .option('-q, --quiet', 'print only the summary')
    .action(
      async (
        paths: string[],
        o: KubeProxyFlagOptions & { seed?: number; json?: boolean; pcap?: string; quiet?: boolean },
      ) => {
        // --proxy-mode overrides the scenario's proxyMode; the other flags go to kube-proxy too.
        const { mode, ...kubeProxy } = kubeProxySettings(o);
        const reports = await runAll(scenarioFiles(paths), {
          ...(mode !== undefined && mode !== '' ? { mode } : {}),
          ...(Object.keys(kubeProxy).length > 0 ? { kubeProxy } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.kubernetesVersion !== undefined
            ? { kubernetesVersion: kubernetesVersion(o.kubernetesVersion)! }
            : {}),
          ...(o.pcap ? { pcap: o.pcap, onPcap: (t: string) => process.stderr.write(t) } : {}),
          ...(!o.json && !o.quiet ? { onOutput: (s: string) => process.stdout.write(s) } : {}),
        });
        if (o.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
        else process.stdout.write(`\n${summarize(reports)}`);
        if (reports.some((r) => r.failures.length > 0)) throw new CliError('', 1);
      },
    );
}
