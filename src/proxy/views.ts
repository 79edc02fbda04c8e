// A node's tools, written once: what `iptables-save`, `iptables -L/-S`, `nft list`,
// `ipvsadm -L` and `ipset list` print on a node, whatever its proxy mode. Each mode
// implements NodeViews in `MODE/views.ts`; a tool that does not apply to the mode answers
// as the real tool does on such a node (an empty IPVS table, no ipsets, ...), with the
// helpers at the end of this file. `conntrack` is not a mode's: node-tool.ts renders it
// from the node's dataplane table. Callers use node-tool.ts's runNodeTool(node, argv,
// nowMs); the argument grammar is tool-args.ts.
import type { ArgError } from './tool-args.ts';
import {
  type IpsetRequest,
  type IptablesListRequest,
  type IptablesSaveRequest,
  type IpvsadmRequest,
  type NftRequest,
  nftError,
} from './tool-args.ts';

export type {
  ConntrackRequest,
  IpsetRequest,
  IptablesListRequest,
  IptablesSaveRequest,
  IpvsadmRequest,
  NftRequest,
  ToolRequest,
} from './tool-args.ts';
export { NODE_TOOL_NAMES, parseToolArgv } from './tool-args.ts';
export type { ArgError, IptablesTable, NodeToolName } from './tool-args.ts';
export { nftError } from './tool-args.ts';

/** What a tool printed, and its exit status. */
export type ToolOutput = ArgError;

export const toolOk = (stdout: string, stderr = ''): ToolOutput => ({
  stdout,
  stderr,
  exitCode: 0,
});
export const toolFail = (stderr: string, exitCode = 1): ToolOutput => ({
  stdout: '',
  stderr,
  exitCode,
});

/** A tool's own error (bad table, no such chain or set): stderr and exit status. */
export class ToolError extends Error {
  constructor(
    readonly stderr: string,
    readonly exitCode = 1,
  ) {
    super(stderr.trimEnd());
  }
}

/**
 * A node's tool outputs in one proxy mode. Each method prints what the real tool prints
 * on a node running kube-proxy in that mode, or throws a ToolError with the tool's message.
 */
export interface NodeViews {
  /** The mode's name, as --proxy-mode spells it. */
  readonly mode: string;
  /** `iptables-save [-t TABLE] [-c]`; `nowMs` (the cluster clock) dates the header. */
  iptablesSave(r: IptablesSaveRequest, nowMs?: number): string;
  /** `iptables [-t TABLE] -L [CHAIN] [-n] [-v] [-x]` (-S and --line-numbers are derived). */
  iptablesList(r: IptablesListRequest): string;
  /** `nft list ruleset | tables | table [FAMILY] NAME | chain [FAMILY] TABLE CHAIN`. */
  nftList(r: NftRequest): string;
  /** `ipvsadm -L -n [--stats|--rate|--exact|-c] [-t|-u SERVICE]`; `nowMs` dates connection expiries. */
  ipvsadm(r: IpvsadmRequest, nowMs: number): string;
  /** `ipset list [NAME] [-name|-terse]`. */
  ipsetList(r: IpsetRequest): string;
}

/** A proxier that can show its node's tools (every mode's DataplaneProxier). */
export interface ViewingProxier {
  views(): NodeViews;
}

// ---- derived outputs and the answers of tools a mode does not use -------------------------

/**
 * `iptables -S [CHAIN]` from the table's `iptables-save` text: `-P` for built-in chains,
 * `-N` for the others, then the rules, in iptables-save's order.
 */
export function iptablesRulesFromSave(save: string, r: IptablesListRequest): string {
  const heads: string[] = [];
  const rules: string[] = [];
  let found = r.chain === undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith(':')) {
      const [name = '', policy = '-'] = line.slice(1).split(' ');
      if (r.chain !== undefined && name !== r.chain) continue;
      found = true;
      heads.push(policy === '-' ? `-N ${name}` : `-P ${name} ${policy}`);
    } else if (line.startsWith('-A ')) {
      if (r.chain !== undefined && !line.startsWith(`-A ${r.chain} `)) continue;
      rules.push(line);
    }
  }
  if (!found) throw new ToolError('iptables: No chain/target/match by that name.\n', 1);
  return [...heads, ...rules].map((l) => l + '\n').join('');
}

/** `iptables -L --line-numbers`: a `num` column before each chain's rules (xshared.c). */
export function lineNumbers(list: string): string {
  let n = 0;
  let header = false;
  return list
    .split('\n')
    .map((line) => {
      if (line.startsWith('Chain ')) {
        n = 0;
        header = true;
        return line;
      }
      if (line === '') return line;
      if (header) {
        header = false;
        return `${'num'.padEnd(4)} ${line}`;
      }
      return `${String(++n).padEnd(4)} ${line}`;
    })
    .join('\n');
}

/** `ipvsadm -L…` on a node without IPVS services: the headers alone. */
export function emptyIpvsadm(r: IpvsadmRequest): string {
  const version = 'IP Virtual Server version 1.2.1 (size=4096)\n';
  if (r.connections)
    return 'IPVS connection entries\npro expire state       source             virtual            destination\n';
  if (r.service !== undefined) throw new ToolError('No such service\n', 1);
  const h = (cols: string[]) =>
    `${'Prot LocalAddress:Port'.padEnd(33)} ${cols.map((c) => c.padStart(8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  if (r.stats) return version + h(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']);
  if (r.rate) return version + h(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']);
  return (
    version +
    'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
  );
}

/** `ipset list` on a node without ipsets: nothing; a named set does not exist. */
export function noIpsets(r: IpsetRequest): string {
  if (r.name !== undefined)
    throw new ToolError('ipset v7.17: The set with the given name does not exist\n', 1);
  return '';
}

/** `nft list …` on a node where kube-proxy wrote no nftables table of its own. */
export function noNftTables(r: NftRequest): string {
  if (r.what === 'ruleset' || r.what === 'tables') return '';
  const words = r.line.split(' ');
  throw new ToolError(nftError('No such file or directory', words, words.length - 1), 1);
}
