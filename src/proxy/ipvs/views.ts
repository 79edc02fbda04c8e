// ipvs mode's node views: `ipvsadm -L` of the IPVS table, `ipset list` of kube-proxy's sets,
// and the iptables rules ipvs mode still writes (iptables-rules.ts: KUBE-SERVICES with
// `-m set --match-set KUBE-CLUSTER-IP dst,dst`, KUBE-POSTROUTING, KUBE-IPVS-FILTER ...) plus
// the jumps it ensures in the built-in chains, through iptables-save and iptables -L as a
// real ipvs node shows them. No nftables table of kube-proxy's own.
//
// The rules are printed by iptables mode's renderer (save.ts, list.ts: a deliberate import
// across modes, as kube-proxy's ipvs package uses pkg/util/iptables). That rule model has no
// `-m set`, `-m physdev` or `-m ipvs` yet, so each such match is stood in for by a comment
// match carrying a placeholder while the rules load and print, and the placeholder is then
// replaced by the match as iptables prints it (libxt_set, libxt_physdev, libxt_ipvs). The
// counters stay 0: ipvs mode's packet path follows these rules in masquerade.ts rather than
// walking them.
import { loadRestoreText } from '../iptables/load.ts';
import { tokenizeLine } from '../iptables/parse.ts';
import type { RuleSet } from '../iptables/rules.ts';
import {
  LISTED_PLACEHOLDER,
  extPlaceholder,
  iptablesSave,
  saveOptionsOf,
  restorePlaceholders,
} from '../iptables/save.ts';
import { listOrThrow } from '../iptables/views.ts';
import {
  type IpsetRequest,
  type IptablesListRequest,
  type IptablesSaveRequest,
  type IpvsadmRequest,
  type NftRequest,
  type NodeViews,
  ToolError,
  noNftTables,
} from '../views.ts';
import { JUMP_CHAINS, type IpvsRules } from './iptables-rules.ts';
import type { IpvsProxier } from './proxier.ts';

/** The extension matches the shared rule model cannot hold, by module name. */
const EXTENSIONS = new Set(['set', 'physdev', 'ipvs']);
/** Words that end an extension match's options. */
const STOP = new Set([
  '-m', '--match', '-j', '--jump', '-s', '--source', '-d', '--destination',
  '-p', '--protocol', '-i', '--in-interface', '-o', '--out-interface',
]); // prettier-ignore
const PROTO_NUMBERS: Readonly<Record<string, string>> = { tcp: '6', udp: '17', sctp: '132' };

/** One extension match as iptables-save and iptables -L print it. */
interface Printed {
  readonly save: string;
  readonly list: string;
}

function printExtension(module: string, opts: readonly string[]): Printed {
  const save = ` -m ${module} ${opts.join(' ')}`;
  switch (module) {
    case 'set': {
      const at = opts.indexOf('--match-set');
      const inv = opts[at - 1] === '!' ? '! ' : '';
      return { save, list: ` ${inv}match-set ${opts[at + 1]} ${opts[at + 2]}` };
    }
    case 'physdev':
      return { save, list: ` PHYSDEV match ${opts.join(' ')}` };
    default: {
      // ipvs: --vaddr A --vproto P --vport N, printed with the address's mask and the
      // protocol's number (libxt_ipvs ipvs_mt_dump).
      const words: string[] = [];
      const saved: string[] = [];
      for (let i = 0; i < opts.length; i++) {
        const o = opts[i]!;
        if (!o.startsWith('--')) continue;
        let v = opts[i + 1] ?? '';
        if (o === '--vaddr' && !v.includes('/')) v += '/32';
        if (o === '--vproto') v = PROTO_NUMBERS[v] ?? v;
        words.push(`${o.slice(2)} ${v}`);
        saved.push(`${o} ${v}`);
        i++;
      }
      return { save: ` -m ipvs ${saved.join(' ')}`, list: ` ${words.join(' ')}` };
    }
  }
}

/** The payload and the built-in jumps as restore text, extension matches stood in for. */
function restoreWithPlaceholders(rules: IpvsRules): { text: string; ext: Printed[] } {
  const ext: Printed[] = [];
  const stand = (line: string): string => {
    if (!line.startsWith('-A ')) return line;
    const args = tokenizeLine(line);
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if ((a === '-m' || a === '--match') && EXTENSIONS.has(args[i + 1] ?? '')) {
        const module = args[i + 1]!;
        let j = i + 2;
        while (
          j < args.length &&
          !STOP.has(args[j]!) &&
          !(args[j] === '!' && STOP.has(args[j + 1] ?? ''))
        )
          j++;
        ext.push(printExtension(module, args.slice(i + 2, j)));
        out.push('-m', 'comment', '--comment', extPlaceholder(ext.length - 1));
        i = j - 1;
        continue;
      }
      out.push(a); // as tokenized: quotes kept
    }
    return out.join(' ');
  };
  // EnsureRule(Prepend): each jump goes to the top of its chain, so the list ends reversed.
  const jumps = (table: 'nat' | 'filter') =>
    JUMP_CHAINS.filter(([t]) => t === table)
      .map(([, from, to, comment]) => `-A ${from} -m comment --comment "${comment}" -j ${to}`)
      .reverse();
  const lines: string[] = [];
  for (const line of rules.restoreLines) {
    if (line === 'COMMIT') {
      const table = lines.lastIndexOf('*filter') > lines.lastIndexOf('*nat') ? 'filter' : 'nat';
      lines.push(...jumps(table));
    }
    lines.push(stand(line));
  }
  return { text: lines.join('\n') + '\n', ext };
}

export class IpvsNodeViews implements NodeViews {
  readonly mode: string = 'ipvs';
  private cache: { rules: IpvsRules; rs: RuleSet; ext: Printed[] } | undefined;

  /** `nowMs`: the node's clock (ipvsadm -c expiries come with each request). */
  constructor(private readonly px: IpvsProxier) {}

  /** kube-proxy's ipvs-mode iptables rules as a rule set, rebuilt when the rules change. */
  private ruleSet(): { rs: RuleSet; ext: Printed[] } {
    const rules = this.px.iptablesRules();
    if (this.cache?.rules !== rules) {
      const { text, ext } = restoreWithPlaceholders(rules);
      this.cache = { rules, rs: loadRestoreText(text), ext };
    }
    return this.cache;
  }

  iptablesSave(r: IptablesSaveRequest, nowMs = 0): string {
    const { rs, ext } = this.ruleSet();
    const text = iptablesSave(rs, saveOptionsOf(r, nowMs));
    return restorePlaceholders(text, ext);
  }

  iptablesList(r: IptablesListRequest): string {
    const { rs, ext } = this.ruleSet();
    return listOrThrow(rs, r).replace(LISTED_PLACEHOLDER, (_, n: string) => ext[Number(n)]!.list);
  }

  nftList(r: NftRequest): string {
    return noNftTables(r);
  }

  ipvsadm(r: IpvsadmRequest, nowMs: number): string {
    if (r.connections) return this.px.ipvsadmConnections(nowMs);
    const text = this.px.ipvsadm({
      stats: r.stats,
      rate: r.rate,
      thresholds: r.thresholds,
      persistentConn: r.persistentConn,
      exact: r.exact,
      nosort: r.nosort,
    });
    if (r.service === undefined) return text;
    // One virtual service: the title lines, then its line and its real servers'.
    const lines = text.split('\n');
    const head = `${r.service.protocol}  ${r.service.address} `;
    const at = lines.findIndex((l) => l.startsWith(head));
    if (at < 0) throw new ToolError('No such service\n', 1);
    let end = at + 1;
    while (end < lines.length && lines[end]!.startsWith('  ->')) end++;
    const titles = lines.slice(0, 3);
    return [...titles, ...lines.slice(at, end)].join('\n') + '\n';
  }

  ipsetList(r: IpsetRequest): string {
    const all = this.px.ipsetList();
    let blocks = all === '' ? [] : all.split(/\n(?=Name: )/);
    if (r.name !== undefined) {
      blocks = blocks.filter((b) => b.startsWith(`Name: ${r.name}\n`));
      if (blocks.length === 0)
        throw new ToolError('ipset v7.17: The set with the given name does not exist\n', 1);
    }
    if (r.names) return blocks.map((b) => b.slice(6, b.indexOf('\n')) + '\n').join('');
    if (r.terse)
      blocks = blocks.map((b) => b.slice(0, b.indexOf('Members:\n') + 'Members:\n'.length));
    return blocks.join('\n');
  }
}
