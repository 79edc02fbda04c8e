// `svclab lab show …`: the live lab in the formats of the simulated views — kubectl get
// tables, and the node's tools (ipvsadm -Ln, iptables-save / iptables -t nat -nvL, nft list
// ruleset, ipset list, conntrack -L) through proxy/node-tool.ts, as a scenario's node prints
// them, in whatever mode the lab runs.
import type { Cluster } from '../control/cluster.ts';
import { KubectlError, renderGet } from '../control/kubectl-get.ts';
import type { SimNode } from '../control/node-setup.ts';
import { runNodeTool } from '../proxy/node-tool.ts';

export const SHOW_VIEWS = [
  'svc',
  'pods',
  'endpoints',
  'endpointslices',
  'deploy',
  'ingress',
  'nodes',
  'ipvs',
  'iptables',
  'iptables-save',
  'nft',
  'ipset',
  'conntrack',
] as const;

/** Each node view of `lab show` as the tool's command line it stands for. */
const SHOW_TOOLS: Readonly<Record<string, readonly string[]>> = {
  ipvs: ['ipvsadm', '-Ln'],
  iptables: ['iptables', '-t', 'nat', '-nvL'],
  'iptables-save': ['iptables-save'],
  nft: ['nft', 'list', 'ruleset'],
  ipset: ['ipset', 'list'],
  conntrack: ['conntrack', '-L'],
};

export interface ShowRequest {
  what: string;
  node?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
}

export interface ShowResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const ok = (stdout: string, stderr = ''): ShowResult => ({ stdout, stderr, exitCode: 0 });
const fail = (stderr: string): ShowResult => ({ stdout: '', stderr, exitCode: 1 });

/** One of the node's tools (argv[0] names it) on the lab's node, as the real tool prints it. */
export function labNodeTool(cluster: Cluster, node: SimNode, argv: readonly string[]): ShowResult {
  return runNodeTool(node, argv, cluster.now() / 1e6);
}

export function renderShow(cluster: Cluster, node: SimNode, r: ShowRequest): ShowResult {
  const tool = SHOW_TOOLS[r.what];
  if (tool !== undefined) return labNodeTool(cluster, node, tool);
  try {
    const out = renderGet(cluster, r.what, [], {
      namespace: r.namespace ?? 'default',
      allNamespaces: r.allNamespaces === true,
      output: r.output ?? 'wide',
    });
    return ok(out.stdout, out.stderr);
  } catch (e) {
    if (e instanceof KubectlError) return fail(`${e.message}\n`);
    throw e;
  }
}
