// A linear iptables evaluator: walks a built-in chain rule by rule exactly as
// netfilter's ipt_do_table does — IP-header match, then each match module in order,
// first terminal target wins, jumps push a return position, RETURN (or falling off a
// user chain) pops it, falling off a built-in chain applies its policy. There is no
// index or cache: the cost of a first packet grows with the rules in front of its
// service, which is the point of comparing it with ipvs hashing.
import type { RecentTables } from './recent.ts';
import {
  BUILTIN_CHAINS,
  HDR_DST,
  HDR_DST_INV,
  HDR_PROTO,
  HDR_PROTO_INV,
  HDR_SLOW,
  HDR_SRC,
  HDR_SRC_INV,
  HOOK_CHAIN,
  MatchKind,
  RecentMode,
  TargetKind,
} from './rules.ts';
import type { Hook, Match, Rule, Table } from './rules.ts';

export const enum Verdict {
  Drop = 0,
  Accept = 1,
  /** REJECT: drop and answer with ICMP port unreachable (the dataplane builds it). */
  Reject = 2,
}

/** addrtype bits of PacketMeta.addrFlags, computed by the caller's local-address test. */
export const ADDR_SRC_LOCAL = 1;
export const ADDR_DST_LOCAL = 2;

/** What the evaluator reads of a packet: numbers only (addresses are u32). */
export interface PacketMeta {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** skb->mark on entry. */
  mark: number;
  /** CtState bits. */
  ctstate: number;
  /** ADDR_SRC_LOCAL | ADDR_DST_LOCAL. */
  addrFlags: number;
  /** Bytes, for the byte counters. */
  len: number;
  /** TCP flags of the packet (0 for other protocols); ipvs scheduling needs the SYN. */
  tcpFlags: number;
  inIface: string;
  outIface: string;
}

export function newPacketMeta(init: Partial<PacketMeta> = {}): PacketMeta {
  return {
    proto: 6,
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    mark: 0,
    ctstate: 0,
    addrFlags: 0,
    len: 0,
    tcpFlags: 0,
    inIface: '',
    outIface: '',
    ...init,
  };
}

/** The outcome of one or more table walks; reuse one object to avoid allocation. */
export interface EvalResult {
  verdict: Verdict;
  dnat: boolean;
  dnatIp: number;
  dnatPort: number;
  /** The packet mark after MARK targets (initialised from PacketMeta.mark by the caller). */
  mark: number;
  masquerade: boolean;
  masqueradeRandomFully: boolean;
  /** Rules examined, summed over walks. */
  rulesVisited: number;
}

export function newEvalResult(): EvalResult {
  return {
    verdict: Verdict.Accept,
    dnat: false,
    dnatIp: 0,
    dnatPort: 0,
    mark: 0,
    masquerade: false,
    masqueradeRandomFully: false,
    rulesVisited: 0,
  };
}

/** Reset `out` before a new packet. */
export function resetEvalResult(out: EvalResult, mark: number): void {
  out.verdict = Verdict.Accept;
  out.dnat = false;
  out.dnatIp = 0;
  out.dnatPort = 0;
  out.mark = mark;
  out.masquerade = false;
  out.masqueradeRandomFully = false;
  out.rulesVisited = 0;
}

/** One step of `iptables -j TRACE`: a matching rule, an implicit return, or a policy. */
export interface TraceEvent {
  readonly table: string;
  readonly chain: string;
  /** 1-based rule number; for 'return'/'policy' the position after the last rule. */
  readonly ruleNum: number;
  readonly kind: 'rule' | 'return' | 'policy';
  readonly rule: Rule | undefined;
}

export interface EvalContext {
  /** Uniform in [0, 1): the statistic match's get_random_u32(), seeded by the caller. */
  random(): number;
  /** Seconds, for -m recent. */
  now(): number;
  readonly recent: RecentTables;
  trace?: ((e: TraceEvent) => void) | undefined;
}

const MAX_DEPTH = 256;
const stackRule = new Int32Array(MAX_DEPTH);
const stackChain = new Int32Array(MAX_DEPTH);

function matchModule(m: Match, p: PacketMeta, out: EvalResult, ctx: EvalContext): boolean {
  switch (m.kind) {
    case MatchKind.Comment:
      return true;
    case MatchKind.Port:
      return (
        (p.sport >= m.sportLo && p.sport <= m.sportHi) !== m.sportInv &&
        (p.dport >= m.dportLo && p.dport <= m.dportHi) !== m.dportInv
      );
    case MatchKind.AddrType:
      return (
        (m.srcType === '' || ((p.addrFlags & ADDR_SRC_LOCAL) !== 0) !== m.srcInv) &&
        (m.dstType === '' || ((p.addrFlags & ADDR_DST_LOCAL) !== 0) !== m.dstInv)
      );
    case MatchKind.Statistic: {
      // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
      const u = (ctx.random() * 4294967296) >>> 0;
      return (u & 0x7fffffff) < m.p31 !== m.invert;
    }
    case MatchKind.Recent: {
      const addr = ((m.side === 'source' ? p.src : p.dst) & m.mask) >>> 0;
      const now = ctx.now();
      if (m.mode & RecentMode.Set) {
        ctx.recent.set(m.name, addr, now);
        return !m.invert;
      }
      if (m.mode & RecentMode.Remove) return ctx.recent.remove(m.name, addr) !== m.invert;
      const hit = ctx.recent.check(m.name, addr, now, m.seconds, m.reap);
      if (hit && m.mode & RecentMode.Update) ctx.recent.set(m.name, addr, now);
      return hit !== m.invert;
    }
    case MatchKind.Mark:
      return ((out.mark & m.mask) >>> 0 === m.value) !== m.invert;
    case MatchKind.Conntrack:
      return ((p.ctstate & m.states) !== 0) !== m.invert;
  }
}

/** ip_packet_match for the packed header (addresses, protocol); see Table.hdr. */
function headerMatches(t: Table, i: number, f: number, p: PacketMeta): boolean {
  const hdr = t.hdr;
  const k = i << 2;
  if (
    f & HDR_SRC &&
    ((p.src & (hdr[k + 1] as number)) >>> 0 === hdr[k]) === ((f & HDR_SRC_INV) !== 0)
  ) {
    return false;
  }
  if (
    f & HDR_DST &&
    ((p.dst & (hdr[k + 3] as number)) >>> 0 === hdr[k + 2]) === ((f & HDR_DST_INV) !== 0)
  ) {
    return false;
  }
  return !(f & HDR_PROTO && (p.proto === t.hproto[i]) === ((f & HDR_PROTO_INV) !== 0));
}

/** The rest of ip_packet_match, then every match module in rule order (modules may have side effects). */
function slowMatches(r: Rule, p: PacketMeta, out: EvalResult, ctx: EvalContext): boolean {
  if (r.inIface !== '' && (p.inIface === r.inIface) === r.inInv) return false;
  if (r.outIface !== '' && (p.outIface === r.outIface) === r.outInv) return false;
  const ms = r.matches;
  for (let i = 0; i < ms.length; i++) {
    if (!matchModule(ms[i] as Match, p, out, ctx)) return false;
  }
  return true;
}

/** Index of a hook's built-in chain in `table`, or -1 if the table has none there. */
export function hookChainIndex(table: Table, hook: Hook): number {
  return BUILTIN_CHAINS[table.name].indexOf(HOOK_CHAIN[hook] as string);
}

/**
 * Walk `table` from built-in chain index `start` for packet `p`. Updates `out`
 * (dnat, mark, masquerade, rulesVisited) and the table's counters; returns the verdict.
 */
export function evaluateTable(
  table: Table,
  start: number,
  p: PacketMeta,
  ctx: EvalContext,
  out: EvalResult,
): Verdict {
  const rules = table.rules;
  const chains = table.chains;
  const jump = table.jump;
  const counters = table.counters;
  const hflags = table.hflags;
  const trace = ctx.trace;
  let depth = 0;
  let ci = start;
  let chain = chains[ci];
  if (chain === undefined) throw new Error(`no chain #${start} in ${table.name}`);
  let i = chain.first;
  let end = i + chain.count;
  for (;;) {
    const fellOff = i >= end;
    if (!fellOff) {
      out.rulesVisited++;
      const f = hflags[i] as number;
      if (!headerMatches(table, i, f, p)) {
        i++;
        continue;
      }
      const r = rules[i] as Rule;
      if (f & HDR_SLOW && !slowMatches(r, p, out, ctx)) {
        i++;
        continue;
      }
      counters.pkts[i]! += 1;
      counters.bytes[i]! += p.len;
      if (trace !== undefined) {
        trace({
          table: table.name,
          chain: chain.name,
          ruleNum: i - chain.first + 1,
          kind: 'rule',
          rule: r,
        });
      }
      const t = r.target;
      switch (t.kind) {
        case TargetKind.None:
          i++;
          continue;
        case TargetKind.Jump:
          if (depth === MAX_DEPTH) throw new Error(`${table.name}: jump depth over ${MAX_DEPTH}`);
          stackRule[depth] = i + 1;
          stackChain[depth] = ci;
          depth++;
          ci = jump[i] as number;
          chain = chains[ci] as (typeof chains)[number];
          i = chain.first;
          end = i + chain.count;
          continue;
        case TargetKind.Mark:
          out.mark = ((out.mark & ~t.mask) ^ t.value) >>> 0;
          i++;
          continue;
        case TargetKind.Return:
          break;
        case TargetKind.Accept:
          return (out.verdict = Verdict.Accept);
        case TargetKind.Drop:
          return (out.verdict = Verdict.Drop);
        case TargetKind.Reject:
          return (out.verdict = Verdict.Reject);
        case TargetKind.Dnat:
          out.dnat = true;
          out.dnatIp = t.ip;
          out.dnatPort = t.port === 0 ? p.dport : t.port;
          return (out.verdict = Verdict.Accept);
        case TargetKind.Masquerade:
          out.masquerade = true;
          out.masqueradeRandomFully = t.randomFully;
          return (out.verdict = Verdict.Accept);
      }
    }
    // RETURN, or the end of a chain.
    if (depth === 0 || chain.builtin) {
      counters.policyPkts[ci]! += 1;
      counters.policyBytes[ci]! += p.len;
      if (trace !== undefined) {
        trace({
          table: table.name,
          chain: chain.name,
          ruleNum: chain.count + 1,
          kind: 'policy',
          rule: undefined,
        });
      }
      return (out.verdict = chain.policy === 'DROP' ? Verdict.Drop : Verdict.Accept);
    }
    if (trace !== undefined && fellOff) {
      trace({
        table: table.name,
        chain: chain.name,
        ruleNum: chain.count + 1,
        kind: 'return',
        rule: undefined,
      });
    }
    depth--;
    ci = stackChain[depth] as number;
    chain = chains[ci] as (typeof chains)[number];
    i = stackRule[depth] as number;
    end = chain.first + chain.count;
  }
}
