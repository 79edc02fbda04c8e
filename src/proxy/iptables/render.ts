// How iptables (1.8.9, nf_tables) prints one rule: the canonical `iptables-save`
// form (nft_ipv4_save_rule: -s, -d, -i, -o, -p, then matches and target, each
// extension's save()) and the match/target text of `iptables -L` (each extension's
// print()). Both come from the rule's typed fields, not from the text it was written as.
import { u32ToIp } from '../../packet/addr.ts';
import { statisticProbability, hex } from './format.ts';
import { PROTOCOL_NAMES } from './parse.ts';
import { CtState } from '../netfilter.ts';
import { CT_STATE_PRINT_ORDER, MatchKind, RecentMode, TargetKind } from './rules.ts';
import type { Match, Rule, Target } from './rules.ts';

/** xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with \ escapes. */
export function saveString(s: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(s)) return s;
  return `"${s.replace(/["\\']/g, (c) => '\\' + c)}"`;
}

function states(bits: number): string {
  return CT_STATE_PRINT_ORDER.filter((k) => (bits & CtState[k]) !== 0).join(',');
}

function mark(value: number, mask: number): string {
  return mask === 0xffffffff ? hex(value) : `${hex(value)}/${hex(mask)}`;
}

function ports(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `${lo}:${hi}`;
}

function anyPort(lo: number, hi: number, inv: boolean): boolean {
  return lo === 0 && hi === 65535 && !inv;
}

function matchSave(m: Match): string {
  switch (m.kind) {
    case MatchKind.Comment:
      return ` -m comment --comment ${saveString(m.text)}`;
    case MatchKind.Port: {
      let s = ` -m ${m.module}`;
      if (!anyPort(m.sportLo, m.sportHi, m.sportInv)) {
        s += `${m.sportInv ? ' !' : ''} --sport ${ports(m.sportLo, m.sportHi)}`;
      }
      if (!anyPort(m.dportLo, m.dportHi, m.dportInv)) {
        s += `${m.dportInv ? ' !' : ''} --dport ${ports(m.dportLo, m.dportHi)}`;
      }
      return s;
    }
    case MatchKind.AddrType: {
      let s = ' -m addrtype';
      if (m.srcType !== '') s += `${m.srcInv ? ' !' : ''} --src-type ${m.srcType}`;
      if (m.dstType !== '') s += `${m.dstInv ? ' !' : ''} --dst-type ${m.dstType}`;
      return s;
    }
    case MatchKind.Statistic:
      return ` -m statistic --mode random${m.invert ? ' !' : ''} --probability ${statisticProbability(m.p31)}`;
    case MatchKind.Recent: {
      let s = ` -m recent${m.invert ? ' !' : ''}`;
      if (m.mode & RecentMode.Set) s += ' --set';
      if (m.mode & RecentMode.Check) s += ' --rcheck';
      if (m.mode & RecentMode.Update) s += ' --update';
      if (m.mode & RecentMode.Remove) s += ' --remove';
      if (m.seconds) s += ` --seconds ${m.seconds}`;
      if (m.reap) s += ' --reap';
      s += ` --name ${m.name} --mask ${u32ToIp(m.mask)}`;
      return s + (m.side === 'source' ? ' --rsource' : ' --rdest');
    }
    case MatchKind.Mark:
      return ` -m mark${m.invert ? ' !' : ''} --mark ${mark(m.value, m.mask)}`;
    case MatchKind.Conntrack:
      return ` -m conntrack${m.invert ? ' !' : ''} --ctstate ${states(m.states)}`;
    case MatchKind.Nfacct:
      // libxt_nfacct prints "--nfacct-name " and then xtables_save_string's " NAME".
      return ` -m nfacct --nfacct-name  ${m.name}`;
  }
}

function targetSave(t: Target): string {
  switch (t.kind) {
    case TargetKind.None:
      return '';
    case TargetKind.Jump:
      return ` -j ${t.chain}`;
    case TargetKind.Accept:
      return ' -j ACCEPT';
    case TargetKind.Drop:
      return ' -j DROP';
    case TargetKind.Return:
      return ' -j RETURN';
    case TargetKind.Reject:
      return ` -j REJECT --reject-with ${t.rejectWith}`;
    case TargetKind.Dnat:
      return ` -j DNAT --to-destination ${t.ipString}${t.port ? `:${t.port}` : ''}`;
    case TargetKind.Mark:
      return ` -j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`;
    case TargetKind.Masquerade:
      return ` -j MASQUERADE${t.randomFully ? ' --random-fully' : ''}`;
  }
}

function addr(flag: string, a: number, prefix: number, inv: boolean): string {
  if (prefix < 0 || (prefix === 0 && !inv)) return '';
  return `${inv ? ' !' : ''} -${flag} ${u32ToIp(a)}/${prefix}`;
}

/** The rule as `iptables-save` prints it, without the `-A CHAIN` head. */
export function saveRuleBody(r: Rule): string {
  let s = addr('s', r.src, r.srcPrefix, r.srcInv) + addr('d', r.dst, r.dstPrefix, r.dstInv);
  if (r.inIface !== '') s += `${r.inInv ? ' !' : ''} -i ${r.inIface}`;
  if (r.outIface !== '') s += `${r.outInv ? ' !' : ''} -o ${r.outIface}`;
  if (r.proto !== 0) s += `${r.protoInv ? ' !' : ''} -p ${PROTOCOL_NAMES[r.proto] ?? r.proto}`;
  for (const m of r.matches) s += matchSave(m);
  return s + targetSave(r.target);
}

/** The full `-A CHAIN ...` line as `iptables-save` prints it. */
export function saveRuleLine(r: Rule): string {
  return `-A ${r.chain}${saveRuleBody(r)}`;
}

function matchPrint(m: Match): string {
  switch (m.kind) {
    case MatchKind.Comment:
      return ` /* ${m.text} */`;
    case MatchKind.Port: {
      let s = ` ${m.module}`;
      const p = (name: string, lo: number, hi: number, inv: boolean) => {
        if (anyPort(lo, hi, inv)) return;
        const i = inv ? '!' : '';
        s += lo === hi ? ` ${name}:${i}${lo}` : ` ${name}s:${i}${lo}:${hi}`;
      };
      p('spt', m.sportLo, m.sportHi, m.sportInv);
      p('dpt', m.dportLo, m.dportHi, m.dportInv);
      return s;
    }
    case MatchKind.AddrType: {
      let s = ' ADDRTYPE match';
      if (m.srcType !== '') s += ` src-type ${m.srcInv ? '!' : ''}${m.srcType}`;
      if (m.dstType !== '') s += ` dst-type ${m.dstInv ? '!' : ''}${m.dstType}`;
      return s;
    }
    case MatchKind.Statistic:
      return ` statistic mode random${m.invert ? ' !' : ''} probability ${statisticProbability(m.p31)}`;
    case MatchKind.Recent: {
      let s = `${m.invert ? ' !' : ''} recent:`;
      if (m.mode & RecentMode.Set) s += ' SET';
      if (m.mode & RecentMode.Check) s += ' CHECK';
      if (m.mode & RecentMode.Update) s += ' UPDATE';
      if (m.mode & RecentMode.Remove) s += ' REMOVE';
      if (m.seconds) s += ` seconds: ${m.seconds}`;
      if (m.reap) s += ' reap';
      s += ` name: ${m.name} side: ${m.side}`;
      return s + ` mask: ${u32ToIp(m.mask)}`;
    }
    case MatchKind.Mark:
      return ` mark match${m.invert ? ' !' : ''} ${mark(m.value, m.mask)}`;
    case MatchKind.Conntrack:
      return `${m.invert ? ' !' : ''} ctstate ${states(m.states)}`;
    case MatchKind.Nfacct:
      return ` nfacct-name  ${m.name}`;
  }
}

function targetPrint(t: Target): string {
  switch (t.kind) {
    case TargetKind.Reject:
      return ` reject-with ${t.rejectWith}`;
    case TargetKind.Dnat:
      return ` to:${t.ipString}${t.port ? `:${t.port}` : ''}`;
    case TargetKind.Mark:
      // libxt_MARK mark_tg_print picks the shortest description.
      if (t.value === 0) return ` MARK and ${hex(~t.mask)}`;
      if (t.value === t.mask) return ` MARK or ${hex(t.value)}`;
      if (t.mask === 0) return ` MARK xor ${hex(t.value)}`;
      if (t.mask === 0xffffffff) return ` MARK set ${hex(t.value)}`;
      return ` MARK xset ${hex(t.value)}/${hex(t.mask)}`;
    case TargetKind.Masquerade:
      return t.randomFully ? ' random-fully' : '';
    default:
      return '';
  }
}

/** The match and target text at the end of an `iptables -L` row. */
export function listRuleOptions(r: Rule): string {
  let s = '';
  for (const m of r.matches) s += matchPrint(m);
  return s + targetPrint(r.target);
}

/** The target column of `iptables -L`. */
export function targetName(t: Target): string {
  switch (t.kind) {
    case TargetKind.None:
      return '';
    case TargetKind.Jump:
      return t.chain;
    case TargetKind.Accept:
      return 'ACCEPT';
    case TargetKind.Drop:
      return 'DROP';
    case TargetKind.Return:
      return 'RETURN';
    case TargetKind.Reject:
      return 'REJECT';
    case TargetKind.Dnat:
      return 'DNAT';
    case TargetKind.Mark:
      return 'MARK';
    case TargetKind.Masquerade:
      return 'MASQUERADE';
  }
}
