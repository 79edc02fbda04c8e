// userspace mode's node views: the chains kube-proxy's userspace mode writes
// (portals.ts) through iptables-save and iptables -L, with the counters its classify()
// keeps. No IPVS services, no ipsets, no nftables table of its own.
//
// The rules are printed by iptables mode's renderer (save.ts, list.ts), as ipvs/views.ts
// does. Its rule model has no REDIRECT target and no `-m state` or `-m physdev`, so each is
// stood in for by a comment match carrying a placeholder while the rules load and print,
// and then replaced by the text iptables prints for it (libxt_REDIRECT, libxt_state,
// libxt_physdev).
import { loadRestoreText } from '../iptables/load.ts';
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
  emptyIpvsadm,
  noIpsets,
  noNftTables,
} from '../views.ts';
import { JUMPS, portalSaveText } from './portals.ts';
import type { PortalRules } from './portals.ts';
import type { UserspaceProxier } from './proxier.ts';

/** One stood-in piece of a rule, as iptables-save and iptables -L print it. */
interface Printed {
  readonly save: string;
  readonly list: string;
  /** A target: `iptables -L` shows its name in the target column. */
  readonly target?: string;
}

const STAND_INS: readonly [RegExp, (m: RegExpMatchArray) => Printed][] = [
  [
    / -j REDIRECT --to-ports (\d+)/,
    (m) => ({ save: m[0], list: ` redir ports ${m[1]}`, target: 'REDIRECT' }),
  ],
  [/ -m state --state NEW/, (m) => ({ save: m[0], list: ' state NEW' })],
  [
    / -m physdev ! --physdev-is-in/,
    (m) => ({ save: m[0], list: ' PHYSDEV match ! --physdev-is-in' }),
  ],
];

function withPlaceholders(text: string): { text: string; ext: Printed[] } {
  const ext: Printed[] = [];
  const lines = text.split('\n').map((line) => {
    if (!line.startsWith('-A ')) return line;
    for (const [re, print] of STAND_INS) {
      const m = re.exec(line);
      if (m === null) continue;
      ext.push(print(m));
      line = line.replace(re, ` -m comment --comment ${extPlaceholder(ext.length - 1)}`);
    }
    return line;
  });
  return { text: lines.join('\n'), ext };
}

export class UserspaceNodeViews implements NodeViews {
  readonly mode: string = 'userspace';
  private cache: { rules: PortalRules; rs: RuleSet; ext: Printed[] } | undefined;

  constructor(private readonly px: UserspaceProxier) {}

  /** The rule set with the proxier's counters filled in. */
  private ruleSet(): { rs: RuleSet; ext: Printed[] } {
    const rules = this.px.portalRules();
    if (this.cache?.rules !== rules) {
      const { text, ext } = withPlaceholders(portalSaveText(rules));
      this.cache = { rules, rs: loadRestoreText(text), ext };
    }
    const { rs } = this.cache;
    for (const t of [rs.filter, rs.nat]) {
      t.chains.forEach((ch, ci) => {
        if (ch.builtin) {
          const c = this.px.counter(`policy:${t.name}:${ch.name}`);
          t.counters.policyPkts[ci] = c.pkts;
          t.counters.policyBytes[ci] = c.bytes;
        }
      });
    }
    const set = (table: 'nat' | 'filter', chain: string, pos: number, line: string) => {
      const t = table === 'nat' ? rs.nat : rs.filter;
      const ci = t.chainIndex.get(chain);
      if (ci === undefined) return;
      const c = this.px.counter(line);
      const i = t.chains[ci]!.first + pos;
      t.counters.pkts[i] = c.pkts;
      t.counters.bytes[i] = c.bytes;
    };
    for (const j of JUMPS) set(j.table, j.chain, j.pos, j.line);
    for (const list of rules.chains.values())
      for (const r of list) set(r.table, r.chain, r.pos, r.line);
    return this.cache;
  }

  iptablesSave(r: IptablesSaveRequest, nowMs = 0): string {
    const { rs, ext } = this.ruleSet();
    const text = iptablesSave(rs, saveOptionsOf(r, nowMs));
    return restorePlaceholders(text, ext);
  }

  iptablesList(r: IptablesListRequest): string {
    const { rs, ext } = this.ruleSet();
    // The target column starts after the counters (-v: 6 characters each, -x: 9).
    const at = r.verbose ? (r.exact ? 18 : 12) : 0;
    return listOrThrow(rs, r)
      .split('\n')
      .map((line) => {
        let target: string | undefined;
        const out = line.replace(LISTED_PLACEHOLDER, (_, n: string) => {
          const p = ext[Number(n)]!;
          target ??= p.target;
          return p.list;
        });
        if (target === undefined) return out;
        return out.slice(0, at) + target.padEnd(9) + out.slice(at + 9);
      })
      .join('\n');
  }

  nftList(r: NftRequest): string {
    return noNftTables(r);
  }

  ipvsadm(r: IpvsadmRequest): string {
    return emptyIpvsadm(r);
  }

  ipsetList(r: IpsetRequest): string {
    return noIpsets(r);
  }
}
