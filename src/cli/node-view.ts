// Shared by the per-node views (iptables-save, iptables, nft, ipvsadm, conntrack, trace):
// a simulated cluster from -f manifests and one node's proxy + dataplane on it.
import { type Command, Option } from 'commander';
import { resolveNodes } from '../control/cluster-config.ts';
import { parseToolArgv, renderNodeTool } from '../proxy/node-tool.ts';
import type { Cluster } from '../control/cluster.ts';
import { PROXY_MODES, type ProxyMode, type SimNode, setUpNode } from '../control/node-setup.ts';
import { CliError, clusterFromFiles, collect } from './cluster-from-files.ts';
import {
  KUBE_PROXY_CONFIG_KEY,
  KUBE_PROXY_CONFIGMAP,
  KUBE_PROXY_NAMESPACE,
  type KubeProxySettings,
  parseKubeProxyConfiguration,
  validateKubeProxySettings,
} from '../control/kube-proxy-config.ts';
import { firstNode, remoteTool, wantsRemote } from './remote.ts';

/** kube-proxy's own flags, by their kube-proxy names, wherever svclab chooses a proxy setting. */
export interface KubeProxyFlagOptions {
  proxyMode?: string;
  ipvsScheduler?: string;
  masqueradeAll?: boolean;
  clusterCidr?: string;
  nodeportAddresses?: string;
  /** Not kube-proxy's: the cluster's release, which every command building one takes. */
  kubernetesVersion?: string;
}

/**
 * Adds kube-proxy's flags: --proxy-mode, --ipvs-scheduler, --masquerade-all, --cluster-cidr,
 * --nodeport-addresses. They are written into the kube-proxy ConfigMap of the cluster, as
 * `kubeadm init` writes its KubeProxyConfiguration (over one given in -f files).
 */
export function kubeProxyOptions(cmd: Command, defaultMode?: ProxyMode): Command {
  const modes = PROXY_MODES.join(', ');
  return cmd
    .option(
      '--proxy-mode <mode>',
      `${modes}${defaultMode === undefined ? ' (default: blank, which is iptables)' : ''}`,
      defaultMode,
    )
    .option(
      '--ipvs-scheduler <name>',
      'the ipvs scheduler: rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh',
    )
    .option('--masquerade-all', 'SNAT all traffic sent via Service cluster IPs')
    .option('--cluster-cidr <cidrs>', "the cluster's pod range(s), for the local-traffic detector")
    .option(
      '--nodeport-addresses <cidrs>',
      "CIDRs (or 'primary') of the node IPs that take NodePorts",
    )
    .option(
      '--kubernetes-version <v>',
      "the cluster's release: its API versions, node images and kube-proxy's rules " +
        "(v1.15.1 for the seed's extensions/v1beta1 files; default: the current one)",
    );
}

/** The kube-proxy settings the flags give (only those given); CliError on a value kube-proxy rejects. */
export function kubeProxySettings(o: KubeProxyFlagOptions): KubeProxySettings {
  const s: KubeProxySettings = {};
  if (o.proxyMode !== undefined) s.mode = proxyMode(o.proxyMode);
  if (o.ipvsScheduler !== undefined) s.ipvsScheduler = o.ipvsScheduler;
  if (o.masqueradeAll === true) s.masqueradeAll = true;
  if (o.clusterCidr !== undefined) s.clusterCIDR = o.clusterCidr;
  if (o.nodeportAddresses !== undefined)
    s.nodePortAddresses = o.nodeportAddresses.split(',').map((a) => a.trim());
  const bad = validateKubeProxySettings(s);
  if (bad !== undefined) throw new CliError(`error: ${bad}`);
  return s;
}

export interface NodeViewOptions extends KubeProxyFlagOptions {
  filename: string[];
  server?: boolean;
  kubeconfig?: string;
  node?: string;
  seed?: number;
  recursive?: boolean;
  /** The view's default mode (ipvsadm: ipvs), when neither flag nor ConfigMap names one. */
  viewDefaultMode?: string;
}

/** Adds -f, --server, --kubeconfig, --node, kube-proxy's flags, --seed, -R to a command. */
export function nodeViewOptions(cmd: Command, defaultMode: ProxyMode = 'iptables'): Command {
  // The view's own default mode applies unless --proxy-mode or a kube-proxy ConfigMap in the
  // -f files says otherwise (so it cannot be a commander default, which would hide both).
  cmd.addOption(new Option('--view-default-mode <mode>').hideHelp().default(defaultMode));
  return kubeProxyOptions(cmd)
    .option('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
    .option('--server', 'show the running cluster (svclab serve, or the lab via KUBECONFIG)')
    .option('--kubeconfig <file>', 'the running cluster of this kubeconfig')
    .option(
      '--node <name>',
      'the node whose rules to show (default: the first node, as in the seed)',
    )
    .option('--seed <n>', 'seed of the simulated cluster', (v) => Number.parseInt(v, 10), 1)
    .option('-R, --recursive', 'walk directories given with -f recursively');
}

export function proxyMode(s: string | undefined): ProxyMode {
  const m = (s ?? 'iptables') as ProxyMode;
  if (!PROXY_MODES.includes(m)) {
    throw new CliError(`error: unknown proxy mode "${s}" (${PROXY_MODES.join(', ')})`);
  }
  return m;
}

/** The mode the cluster's kube-proxy ConfigMap names ('' when blank or absent). */
function configuredMode(cluster: Cluster): string {
  const cm = cluster.get('ConfigMap', KUBE_PROXY_NAMESPACE, KUBE_PROXY_CONFIGMAP);
  const parsed = parseKubeProxyConfiguration(cm?.data[KUBE_PROXY_CONFIG_KEY] ?? '');
  return parsed.ok ? (parsed.settings.mode ?? '') : '';
}

export function nodeView(o: NodeViewOptions): { cluster: Cluster; sim: SimNode } {
  if (o.filename.length === 0) {
    throw new CliError('error: -f MANIFESTS is required (or --server for a running cluster)');
  }
  const cluster = clusterFromFiles({
    files: o.filename,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.recursive ? { recursive: true } : {}),
    ...(o.kubernetesVersion !== undefined ? { kubernetesVersion: o.kubernetesVersion } : {}),
  });
  const nodes = resolveNodes(cluster.config);
  const name = o.node ?? nodes[0]!.name;
  if (!nodes.some((n) => n.name === name)) {
    throw new CliError(
      `error: no node named "${name}" (nodes: ${nodes.map((n) => n.name).join(', ')})`,
    );
  }
  let sim: SimNode;
  try {
    const flags = kubeProxySettings(o);
    if (flags.mode === undefined && configuredMode(cluster) === '')
      flags.mode = proxyMode(o.viewDefaultMode);
    sim = setUpNode(cluster, name, flags);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`error: ${(err as Error).message}`);
  }
  return { cluster, sim };
}

/** The views that can run on a running cluster's node, by svclab subcommand. */
const REMOTE_TOOLS = new Set(['iptables-save', 'iptables', 'nft', 'ipvsadm', 'ipset', 'conntrack']);

/** svclab's own options, dropped from the argv sent to the node (with their values). */
const OWN_WITH_VALUE = new Set([
  '-f',
  '--filename',
  '--node',
  '--proxy-mode',
  '--ipvs-scheduler',
  '--cluster-cidr',
  '--nodeport-addresses',
  '--view-default-mode',
  '--seed',
  '--kubernetes-version',
  '--kubeconfig',
  '--connect',
]);
const OWN_FLAGS = new Set(['--server', '-R', '--recursive', '--masquerade-all']);

/** The tool's argv from the svclab command line: `ipvsadm -Ln --server` → [ipvsadm, -Ln]. */
export function toolArgv(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (OWN_FLAGS.has(a)) continue;
    if (OWN_WITH_VALUE.has(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * commander's preAction hook: a node view with --server/--kubeconfig runs its tool on
 * the running cluster's node instead of a simulated one, then ends the command (a
 * CliError carrying the tool's exit code, with nothing more to print).
 */
export async function remoteViewHook(raw: readonly string[], o: NodeViewOptions): Promise<void> {
  if (!wantsRemote(o) || !REMOTE_TOOLS.has(raw[0] ?? '')) return;
  if (o.filename.length > 0) throw new CliError('error: -f and --server/--kubeconfig do not mix');
  const node = o.node ?? (await firstNode(o));
  const code = await remoteTool(o, node, toolArgv(raw));
  throw new CliError('', code);
}

/** This subcommand's tool argv from the raw command line (`svclab iptables -t nat -nvL -f x`). */
function rawToolArgv(cmd: Command): string[] {
  let root = cmd;
  while (root.parent !== null) root = root.parent;
  const raw = (root as Command & { rawArgs?: string[] }).rawArgs ?? [];
  const at = raw.indexOf(cmd.name());
  return toolArgv(at < 0 ? [cmd.name()] : raw.slice(at));
}

/**
 * A node view's action: the tool's own arguments (everything but svclab's options) go
 * through the tools' grammar (src/proxy/tool-args.ts) and are rendered on the simulated
 * node (src/proxy/node-tool.ts), exactly as a scenario's or the lab's node prints them.
 * `prepare` runs on the node first (the --connect flows).
 */
export function runNodeViewTool(
  cmd: Command,
  o: NodeViewOptions,
  prepare?: (sim: SimNode) => void,
): void {
  const req = parseToolArgv(rawToolArgv(cmd));
  const out =
    'tool' in req
      ? (() => {
          const { cluster, sim } = nodeView(o);
          prepare?.(sim);
          return renderNodeTool(sim, req, cluster.now() / 1e6);
        })()
      : req;
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  if (out.exitCode !== 0) throw new CliError('', out.exitCode);
}
