// A session: one simulated cluster with its network and pods running, and a prompt on
// which the walkthrough's commands run — `kubectl …`, `curl …`, `dig …`, `ipvsadm -Ln`,
// `iptables -t nat -nvL` — on a node, in a pod or on an outside machine, each printing
// what the real tool prints. Commands that wait on the network run virtual time until
// they finish.
import { SECOND } from '../control/clock.ts';
import { Cluster } from '../control/cluster.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import type { SimHost } from '../sim/host.ts';
import { type CaptureEvent, SimNetwork } from '../sim/network.ts';
import type { ProxyMode } from '../control/node-setup.ts';
import { PodRuntime } from '../sim/runtime.ts';
import type { CommandContext, CommandSession, ExecResult } from './commands/command.ts';
import { COMMANDS } from './commands/index.ts';
import { splitPipeline, splitWords } from './shell.ts';
import type { ScenarioCluster } from './format.ts';
import { parseManifestText } from '../api/load.ts';
import { formatApplyResult } from '../control/cluster.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';

export type { ExecResult } from './commands/command.ts';

export interface SessionOptions {
  /** --proxy-mode (into the kube-proxy ConfigMap); absent: kubeadm's blank mode, iptables. */
  mode?: ProxyMode;
  /** The other kube-proxy flags. */
  kubeProxy?: KubeProxySettings;
  seed?: number;
  /** Where relative file names in commands are found. */
  baseDir: string;
  /** Cluster settings beyond the seed's defaults, and the ipvs scheduler. */
  cluster?: ScenarioCluster;
  capture?: (e: CaptureEvent) => void;
}

/** The outside machine of the seed (the Windows browser), on the router's far side. */
export const EXTERNAL_CLIENT_IP = '192.168.1.100';

export class Session implements CommandSession {
  readonly cluster: Cluster;
  readonly net: SimNetwork;
  readonly runtime: PodRuntime;
  readonly mode: ProxyMode;
  baseDir: string;
  private externalHost: SimHost | undefined;

  constructor(opts: SessionOptions) {
    this.mode = opts.mode ?? 'iptables';
    this.baseDir = opts.baseDir;
    const { scheduler, links, ...clusterOpts } = opts.cluster ?? {};
    this.cluster = new Cluster({ seed: opts.seed ?? 1, ...clusterOpts });
    this.net = new SimNetwork(this.cluster, {
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      ...(opts.kubeProxy !== undefined ? { kubeProxy: opts.kubeProxy } : {}),
      ...(scheduler !== undefined ? { scheduler } : {}),
      ...(links !== undefined ? { links } : {}),
      ...(opts.capture ? { capture: opts.capture } : {}),
    });
    this.runtime = new PodRuntime(this.cluster, this.net);
    // Let the bootstrap pods (CoreDNS) come up before the first command.
    this.wait(5 * SECOND);
  }

  /** Run virtual time forward. */
  wait(ns: number): void {
    this.cluster.advance(ns);
  }

  /** Run virtual time until `done()` or `limitNs` has passed; returns whether it finished. */
  runUntil(done: () => boolean, limitNs = 200 * SECOND): boolean {
    const clock = this.cluster.clock;
    const deadline = clock.now() + limitNs;
    this.cluster.settle();
    while (!done()) {
      const t = clock.nextTime();
      if (t === undefined || t > deadline) return false;
      this.cluster.advance(Math.max(0, t - clock.now()));
    }
    return true;
  }

  /** The host a command runs on: a node name, `pod/NAME` (prefix ok), or `external`. */
  host(on: string): SimHost {
    if (on === 'external') {
      this.externalHost ??= this.net.addExternalHost('external', EXTERNAL_CLIENT_IP);
      return this.externalHost;
    }
    const node = this.net.nodeHosts.get(on);
    if (node !== undefined) return node;
    const rest = on.replace(/^pod\//, '');
    const ns = rest.includes('/') ? rest.split('/')[0]! : 'default';
    const prefix = rest.includes('/') ? rest.slice(rest.indexOf('/') + 1) : rest;
    const pod = this.cluster
      .list('Pod', ns)
      .filter(
        (p) => p.metadata.name.startsWith(prefix) && p.metadata.deletionTimestamp === undefined,
      )
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
    const host = pod === undefined ? undefined : this.runtime.host(ns, pod.metadata.name);
    if (host === undefined) {
      const nodes = resolveNodes(this.cluster.config).map((n) => n.name);
      throw new Error(
        `no host "${on}" (nodes: ${nodes.join(', ')}; pods as pod/NAME; or external)`,
      );
    }
    return host;
  }

  /** Namespace of the pod a host belongs to (for its resolv.conf), or undefined for nodes. */
  podNamespace(on: string): string | undefined {
    if (on === 'external' || this.net.nodeHosts.has(on)) return undefined;
    const rest = on.replace(/^pod\//, '');
    return rest.includes('/') ? rest.split('/')[0] : 'default';
  }

  podLogs(namespace: string, name: string): readonly string[] | undefined {
    return this.runtime.logs(namespace, name)?.lines;
  }

  modeOn(node: string): ProxyMode {
    const n = this.net.nodes.get(node) ?? this.net.nodes.values().next().value;
    return n?.kubeProxy.mode ?? this.mode;
  }

  /** `kubectl apply -f -` of manifest text (a scenario's inline manifests). */
  applyText(text: string, name: string): ExecResult {
    const cfg = this.cluster.config;
    const r = parseManifestText(text, name, {
      serviceCidr: cfg.serviceCIDR,
      kubernetesVersion: cfg.kubernetesVersion,
      nodePortRange: cfg.nodePortRange,
    });
    if (!r.ok)
      return {
        stdout: '',
        stderr: r.errors.map((e) => `error: ${e.format()}\n`).join(''),
        exitCode: 1,
      };
    let stdout = '';
    let stderr = '';
    for (const res of this.cluster.apply(r.objects)) {
      if (res.error !== undefined) stderr += `${formatApplyResult(res)}\n`;
      else stdout += `${formatApplyResult(res)}\n`;
    }
    return { stdout, stderr, exitCode: stderr === '' ? 0 : 1 };
  }

  /** Run one command line `on` a host; `a | b | c` feeds each stdout to the next. */
  async exec(line: string, on = 'k8s-master01'): Promise<ExecResult> {
    const stages = splitPipeline(line);
    if (stages.length === 1) return this.execOne(line, on);
    let r: ExecResult = { stdout: '', stderr: '', exitCode: 0 };
    let stderr = '';
    for (const [i, stage] of stages.entries()) {
      r = await this.execOne(stage, on, i === 0 ? undefined : r.stdout);
      stderr += r.stderr;
    }
    // The pipeline's status is its last command's, as in bash without pipefail.
    return { stdout: r.stdout, stderr, exitCode: r.exitCode };
  }

  private async execOne(line: string, on: string, stdin?: string): Promise<ExecResult> {
    let words: string[];
    try {
      words = await splitWords(line, async (inner) => (await this.exec(inner, on)).stdout);
    } catch (err) {
      return { stdout: '', stderr: `${(err as Error).message}\n`, exitCode: 2 };
    }
    const [cmd, ...args] = words;
    if (cmd === undefined) return { stdout: '', stderr: '', exitCode: 0 };
    const impl = COMMANDS[cmd];
    if (impl === undefined)
      return { stdout: '', stderr: `bash: ${cmd}: command not found\n`, exitCode: 127 };
    const ctx: CommandContext = { session: this, on, ...(stdin !== undefined ? { stdin } : {}) };
    try {
      return await impl(args, ctx);
    } catch (err) {
      return { stdout: '', stderr: `${(err as Error).message}\n`, exitCode: 1 };
    }
  }
}
