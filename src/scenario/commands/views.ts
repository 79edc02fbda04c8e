// The node-local views: ipvsadm, iptables, iptables-save, nft, conntrack — what a reader
// runs on a node to see kube-proxy's work. Commands run in a pod see their node's tables.
import { formatCount, formatList, formatStats } from '../../conntrack/format.ts';
import { IptablesProxier } from '../../proxy/iptables/proxier.ts';
import type { TableName } from '../../proxy/iptables/rules.ts';
import type { SimNode } from '../../control/node-setup.ts';
import { type CommandContext, type ExecResult, fail, ok } from './command.ts';

function nodeOf(ctx: CommandContext): SimNode {
  const net = ctx.session.net;
  const direct = net.nodes.get(ctx.on);
  if (direct !== undefined) return direct;
  const host = ctx.session.host(ctx.on);
  const pod = ctx.session.cluster.list('Pod').find((p) => p.status.podIP === host.address);
  const node = pod?.spec.nodeName === undefined ? undefined : net.nodes.get(pod.spec.nodeName);
  if (node === undefined) throw new Error(`${ctx.on} is not on a cluster node`);
  return node;
}

interface ViewProxier {
  ipvsadm?(opts: { stats?: boolean; rate?: boolean; exact?: boolean }): string;
  ipvsadmConnections?(now: number): string;
  listRuleset?(): string;
}

export function ipvsadmCommand(args: string[], ctx: CommandContext): ExecResult {
  const outer = nodeOf(ctx).proxier as unknown as ViewProxier & { ipvs?: ViewProxier };
  const px = outer.ipvs ?? outer;
  const flags = args.join(' ');
  if (!/-L|--list|-l/.test(flags))
    return fail('svclab: only ipvsadm -L/-Ln (with --stats, --rate, -c) is simulated\n', 2);
  const now = ctx.session.cluster.now() / 1e6;
  if (px.ipvsadm === undefined) {
    // No virtual services outside ipvs mode: the kernel table is empty.
    return ok(
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n',
    );
  }
  if (/(^|\s)-\w*c|--connection/.test(flags) && px.ipvsadmConnections)
    return ok(px.ipvsadmConnections(now));
  return ok(
    px.ipvsadm({
      stats: flags.includes('--stats'),
      rate: flags.includes('--rate'),
      exact: flags.includes('--exact'),
    }),
  );
}

function tableArg(args: string[]): TableName | undefined {
  const i = args.findIndex((a) => a === '-t' || a === '--table');
  const t = i >= 0 ? args[i + 1] : undefined;
  if (t !== undefined && t !== 'nat' && t !== 'filter')
    throw new Error(`iptables v1.8.9 (nf_tables): table '${t}' does not exist`);
  return t as TableName | undefined;
}

function iptablesOf(ctx: CommandContext): IptablesProxier {
  const px = nodeOf(ctx).proxier;
  if (px instanceof IptablesProxier) return px;
  const inner = (px as unknown as { iptables?: IptablesProxier }).iptables;
  if (inner instanceof IptablesProxier) return inner;
  throw new Error(`iptables: this node runs kube-proxy in ${ctx.session.mode} mode`);
}

export function iptablesCommand(args: string[], ctx: CommandContext): ExecResult {
  const list = args.findIndex((a) => /^-[a-zA-Z]*L[a-zA-Z]*$/.test(a) || a === '--list');
  if (list < 0) return fail('svclab: only iptables [-t TABLE] -nvL [CHAIN] is simulated\n', 2);
  const joined = args.filter((a) => a.startsWith('-') && !a.startsWith('--')).join('');
  const chain =
    args[list + 1] !== undefined && !args[list + 1]!.startsWith('-') ? args[list + 1] : undefined;
  const out = iptablesOf(ctx).list(tableArg(args) ?? 'filter', {
    verbose: joined.includes('v'),
    exact: joined.includes('x'),
    ...(chain !== undefined ? { chain } : {}),
  });
  return ok(out);
}

export function iptablesSaveCommand(args: string[], ctx: CommandContext): ExecResult {
  const t = tableArg(args);
  return ok(iptablesOf(ctx).save({ ...(t ? { table: t } : {}), counters: args.includes('-c') }));
}

export function nftCommand(args: string[], ctx: CommandContext): ExecResult {
  if (args[0] !== 'list' || args[1] !== 'ruleset')
    return fail('svclab: only `nft list ruleset` is simulated\n', 2);
  const px = nodeOf(ctx).proxier as unknown as ViewProxier;
  // Outside nftables mode kube-proxy's rules live in iptables-nft's tables; not rendered here.
  return ok(px.listRuleset ? px.listRuleset() : '');
}

export function conntrackCommand(args: string[], ctx: CommandContext): ExecResult {
  const ct = nodeOf(ctx).dataplane.ct;
  if (args.includes('-C') || args.includes('--count')) return ok(formatCount(ct.count));
  if (args.includes('-S') || args.includes('--stats')) return ok(formatStats(ct.stats));
  const { stdout, stderr } = formatList(ct.list(ctx.session.cluster.now() / 1e6), {
    extended: args.join(' ').includes('-o extended'),
  });
  return ok(stdout, stderr);
}
