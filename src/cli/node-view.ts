// Shared by the per-node views (iptables-save, iptables, nft, ipvsadm, conntrack, trace):
// a simulated cluster from -f manifests and one node's proxy + dataplane on it.
import type { Command } from 'commander';
import { resolveNodes } from '../control/cluster-config.ts';
import type { Cluster } from '../control/cluster.ts';
import { PROXY_MODES, type ProxyMode, type SimNode, setUpNode } from '../control/node-setup.ts';
import { CliError, clusterFromFiles, collect } from './cluster-from-files.ts';

export interface NodeViewOptions {
  filename: string[];
  node?: string;
  proxyMode?: string;
  seed?: number;
  recursive?: boolean;
}

/** Adds -f, --node, --proxy-mode, --seed, -R to a command. */
export function nodeViewOptions(cmd: Command, defaultMode: ProxyMode = 'iptables'): Command {
  return cmd
    .requiredOption('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
    .option(
      '--node <name>',
      'the node whose rules to show (default: the first node, as in the seed)',
    )
    .option('--proxy-mode <mode>', 'iptables, ipvs or nftables', defaultMode)
    .option('--seed <n>', 'seed of the simulated cluster', (v) => Number.parseInt(v, 10), 1)
    .option('-R, --recursive', 'walk directories given with -f recursively');
}

export function proxyMode(s: string | undefined): ProxyMode {
  const m = (s ?? 'iptables') as ProxyMode;
  if (!PROXY_MODES.includes(m)) {
    throw new CliError(`error: unknown proxy mode "${s}" (iptables, ipvs or nftables)`);
  }
  return m;
}

export function nodeView(o: NodeViewOptions): { cluster: Cluster; sim: SimNode } {
  const cluster = clusterFromFiles({
    files: o.filename,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.recursive ? { recursive: true } : {}),
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
    sim = setUpNode(cluster, name, { mode: proxyMode(o.proxyMode) });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`error: ${(err as Error).message}`);
  }
  return { cluster, sim };
}
