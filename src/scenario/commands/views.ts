// The node-local views: ipvsadm, iptables, iptables-save, nft, ipset, conntrack — what a
// reader runs on a node to see kube-proxy's work. Commands run in a pod see their node's
// tables. Each is the node's tool through proxy/node-tool.ts (one grammar, one renderer).
import type { SimNode } from '../../control/node-setup.ts';
import { runNodeTool } from '../../proxy/node-tool.ts';
import type { CommandContext, ExecResult } from './command.ts';

/** The node a command runs on: the prompt's node, or the node of the prompt's pod. */
export function nodeOf(ctx: CommandContext): SimNode {
  const net = ctx.session.net;
  const direct = net.nodes.get(ctx.on);
  if (direct !== undefined) return direct;
  const host = ctx.session.host(ctx.on);
  const pod = ctx.session.cluster.list('Pod').find((p) => p.status.podIP === host.address);
  const node = pod?.spec.nodeName === undefined ? undefined : net.nodes.get(pod.spec.nodeName);
  if (node === undefined) throw new Error(`${ctx.on} is not on a cluster node`);
  return node;
}

/** `TOOL args...` on the command's node, as the real tool prints it. */
export function nodeToolCommand(tool: string): (args: string[], ctx: CommandContext) => ExecResult {
  return (args, ctx) => runNodeTool(nodeOf(ctx), [tool, ...args], ctx.session.cluster.now() / 1e6);
}

export const ipvsadmCommand = nodeToolCommand('ipvsadm');
export const iptablesCommand = nodeToolCommand('iptables');
export const iptablesSaveCommand = nodeToolCommand('iptables-save');
export const nftCommand = nodeToolCommand('nft');
export const ipsetCommand = nodeToolCommand('ipset');
export const conntrackCommand = nodeToolCommand('conntrack');
