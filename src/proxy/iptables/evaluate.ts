// A linear iptables evaluator: walks a built-in chain rule by rule exactly as
// netfilter's ipt_do_table does — IP-header match, then each match module in order,
// first terminal target wins, jumps push a return position, RETURN (or falling off a
// user chain) pops it, falling off a built-in chain applies its policy. There is no
// index or cache: the cost of a first packet grows with the rules in front of its
// service, which is the point of comparing it with ipvs hashing.
import { Verdict } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL } from '../packet-meta.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { TraceEvent } from '../trace.ts';
import type { RecentTables } from './recent.ts';
import { saveRuleLine } from './render.ts';
import {
  HDR_IFACE,
  OP_ADDRTYPE,
  OP_CONNTRACK,
  OP_MARK,
  OP_PORT,
  OP_STATISTIC,
} from './rule-columns.ts';
import { ruleAt } from './table-rules.ts';
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
import type { Match, Table } from './rules.ts';
import type { Hook } from '../netfilter.ts';

export interface EvalContext {
  /** Uniform in [0, 1): the statistic match's get_random_u32(), seeded by the caller. */
  random(): number;
  /** Seconds, for -m recent. */
  now(): number;
  readonly recent: RecentTables;
  trace?: ((e: TraceEvent) => void) | undefined;
}

/**
 * While a walk is recorded: where it lists the rules it counts (index, or ~chain for a
 * policy), and how many it counted (past the array's end: too long to record).
 */
let recording: Int32Array | undefined;
let recorded = 0;
/** Set when a recorded walk evaluated statistic or recent (random, time, side effects). */
let volatileWalk = false;

const MAX_DEPTH = 256;
const stackRule = new Int32Array(MAX_DEPTH);
const stackChain = new Int32Array(MAX_DEPTH);

function matchModule(m: Match, p: PacketMeta, out: EvalResult, ctx: EvalContext): boolean {
  switch (m.kind) {
    case MatchKind.Comment:
    case MatchKind.Nfacct:
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

// The walk reads the table's columns (rule-columns.ts): per rule its packed IP header,
// its match modules as op codes with integer parameters, and its target, so the per-rule
// loop touches monomorphic arrays instead of objects. Comments have no effect and are
// not there; every other module is still tested, in rule order.
const T_NONE = TargetKind.None;
const T_JUMP = TargetKind.Jump;
const T_ACCEPT = TargetKind.Accept;
const T_DROP = TargetKind.Drop;
const T_RETURN = TargetKind.Return;
const T_REJECT = TargetKind.Reject;
const T_DNAT = TargetKind.Dnat;
const T_MARK = TargetKind.Mark;
const T_MASQUERADE = TargetKind.Masquerade;

const F_SRC = HDR_SRC;
const F_SRC_INV = HDR_SRC_INV;
const F_DST = HDR_DST;
const F_DST_INV = HDR_DST_INV;
const F_PROTO = HDR_PROTO;
const F_PROTO_INV = HDR_PROTO_INV;
const F_SLOW = HDR_SLOW;
const F_IFACE = HDR_IFACE;

const V_ACCEPT = Verdict.Accept;
const V_DROP = Verdict.Drop;
const V_REJECT = Verdict.Reject;

/** The rest of ip_packet_match, then every match module in rule order (modules may have side effects). */
function slowMatches(
  t: Table,
  i: number,
  p: PacketMeta,
  out: EvalResult,
  ctx: EvalContext,
): boolean {
  const c = t.cols;
  if ((c.hflags[i]! & F_IFACE) !== 0) {
    const r = ruleAt(t, i);
    if (r.inIface !== '' && (p.inIface === r.inIface) === r.inInv) return false;
    if (r.outIface !== '' && (p.outIface === r.outIface) === r.outInv) return false;
  }
  const op = c.op;
  const arg = c.arg;
  const invs = c.inv;
  const end = c.opStart[i + 1]!;
  for (let k = c.opStart[i]!; k < end; k++) {
    const a = k << 2;
    const inv = invs[k]!;
    switch (op[k]) {
      case OP_CONNTRACK:
        if (((p.ctstate & arg[a]!) !== 0) === (inv !== 0)) return false;
        break;
      case OP_MARK:
        if ((((out.mark & arg[a]!) | 0) === arg[a + 1]!) === (inv !== 0)) return false;
        break;
      case OP_PORT: {
        const sp = p.sport;
        const dp = p.dport;
        if ((sp >= arg[a]! && sp <= arg[a + 1]!) === ((inv & 1) !== 0)) return false;
        if ((dp >= arg[a + 2]! && dp <= arg[a + 3]!) === ((inv & 2) !== 0)) return false;
        break;
      }
      case OP_ADDRTYPE: {
        const fl = p.addrFlags;
        if (arg[a] !== 0 && ((fl & ADDR_SRC_LOCAL) !== 0) === ((inv & 1) !== 0)) return false;
        if (arg[a + 1] !== 0 && ((fl & ADDR_DST_LOCAL) !== 0) === ((inv & 2) !== 0)) return false;
        break;
      }
      case OP_STATISTIC: {
        // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
        volatileWalk = true;
        const u = (ctx.random() * 4294967296) >>> 0;
        if ((u & 0x7fffffff) < arg[a]! === (inv !== 0)) return false;
        break;
      }
      default:
        volatileWalk = true;
        if (!matchModule(c.objects!.get(k)!, p, out, ctx)) return false;
    }
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
  if (start < 0 || start >= table.chainCount) {
    throw new Error(`no chain #${start} in ${table.name}`);
  }
  const cols = table.cols;
  const jump = cols.targA;
  const counters = table.counters;
  const pkts = counters.pkts;
  const bytes = counters.bytes;
  const hflags = cols.hflags;
  const hdr = cols.hdr;
  const hproto = cols.hproto;
  const target = cols.target;
  const single = table.single;
  const opStart = cols.opStart;
  const arg = cols.arg;
  const inv = cols.inv;
  const ctstate = p.ctstate;
  const chainFirst = table.chainFirst;
  const chainEnd = table.chainEnd;
  const trace = ctx.trace;
  const src = p.src;
  const dst = p.dst;
  const proto = p.proto;
  const len = p.len;
  let visited = 0;
  let depth = 0;
  let ci = start;
  let i = chainFirst[ci]!;
  let end = chainEnd[ci]!;
  for (;;) {
    const fellOff = i >= end;
    if (!fellOff) {
      visited++;
      const fl = hflags[i]!;
      // ip_packet_match for the packed header (addresses, protocol); see Table.hdr.
      if (fl !== 0) {
        const k = i << 2;
        if (fl & F_SRC && ((src & hdr[k + 1]!) >>> 0 === hdr[k]) === ((fl & F_SRC_INV) !== 0)) {
          i++;
          continue;
        }
        if (fl & F_DST && ((dst & hdr[k + 3]!) >>> 0 === hdr[k + 2]) === ((fl & F_DST_INV) !== 0)) {
          i++;
          continue;
        }
        if (fl & F_PROTO && (proto === hproto[i]) === ((fl & F_PROTO_INV) !== 0)) {
          i++;
          continue;
        }
        if (fl & F_SLOW) {
          // kube-proxy's common one-module rules (-m conntrack / -m mark) tested inline.
          const one = single[i]!;
          if (one === OP_CONNTRACK) {
            const k = opStart[i]!;
            if (((ctstate & arg[k << 2]!) !== 0) === (inv[k] !== 0)) {
              i++;
              continue;
            }
          } else if (one === OP_MARK) {
            const k = opStart[i]!;
            const a = k << 2;
            if ((((out.mark & arg[a]!) | 0) === arg[a + 1]!) === (inv[k] !== 0)) {
              i++;
              continue;
            }
          } else if (!slowMatches(table, i, p, out, ctx)) {
            i++;
            continue;
          }
        }
      }
      pkts[i]! += 1;
      bytes[i]! += len;
      if (recording !== undefined) record(i);
      if (trace !== undefined) {
        trace({
          table: table.name,
          chain: table.chainName[ci]!,
          ruleNum: i - chainFirst[ci]! + 1,
          kind: 'rule',
          text: saveRuleLine(ruleAt(table, i)),
        });
      }
      switch (target[i]) {
        case T_NONE:
          i++;
          continue;
        case T_JUMP:
          if (depth === MAX_DEPTH) {
            out.rulesVisited += visited;
            throw new Error(`${table.name}: jump depth over ${MAX_DEPTH}`);
          }
          stackRule[depth] = i + 1;
          stackChain[depth] = ci;
          depth++;
          ci = jump[i]!;
          i = chainFirst[ci]!;
          end = chainEnd[ci]!;
          continue;
        case T_MARK:
          out.mark = ((out.mark & ~cols.targB[i]!) ^ cols.targA[i]!) >>> 0;
          i++;
          continue;
        case T_RETURN:
          break;
        case T_ACCEPT:
          out.rulesVisited += visited;
          return (out.verdict = V_ACCEPT);
        case T_DROP:
          out.rulesVisited += visited;
          return (out.verdict = V_DROP);
        case T_REJECT:
          out.rulesVisited += visited;
          return (out.verdict = V_REJECT);
        case T_DNAT: {
          const port = cols.targB[i]!;
          out.rulesVisited += visited;
          out.dnat = true;
          out.dnatIp = cols.targA[i]! >>> 0;
          out.dnatPort = port === 0 ? p.dport : port;
          return (out.verdict = V_ACCEPT);
        }
        case T_MASQUERADE:
          out.rulesVisited += visited;
          out.masquerade = true;
          out.masqueradeRandomFully = cols.targA[i] === 1;
          return (out.verdict = V_ACCEPT);
      }
    }
    // RETURN, or the end of a chain.
    if (depth === 0 || ci < table.builtins) {
      out.rulesVisited += visited;
      counters.policyPkts[ci]! += 1;
      counters.policyBytes[ci]! += len;
      if (recording !== undefined) record(~ci);
      if (trace !== undefined) {
        trace({
          table: table.name,
          chain: table.chainName[ci]!,
          ruleNum: chainEnd[ci]! - chainFirst[ci]! + 1,
          kind: 'policy',
          text: '',
        });
      }
      return (out.verdict = table.chainDrop[ci] === 1 ? V_DROP : V_ACCEPT);
    }
    if (trace !== undefined && fellOff) {
      trace({
        table: table.name,
        chain: table.chainName[ci]!,
        ruleNum: chainEnd[ci]! - chainFirst[ci]! + 1,
        kind: 'return',
        text: '',
      });
    }
    depth--;
    ci = stackChain[depth]!;
    i = stackRule[depth]!;
    end = chainEnd[ci]!;
  }
}

function record(x: number): void {
  if (recorded < recording!.length) recording![recorded] = x;
  recorded++;
}

/**
 * evaluateTable, also listing in `path` the rules it counted (rule index, or ~chain for a
 * chain policy). Returns how many it listed, or -1 when statistic or recent took part (the
 * outcome may not repeat for the same packet fields) or the walk did not fit in `path`.
 */
export function evaluateTableRecorded(
  table: Table,
  start: number,
  p: PacketMeta,
  ctx: EvalContext,
  out: EvalResult,
  path: Int32Array,
): number {
  recording = path;
  recorded = 0;
  volatileWalk = false;
  try {
    evaluateTable(table, start, p, ctx, out);
  } finally {
    recording = undefined;
  }
  return volatileWalk || recorded > path.length ? -1 : recorded;
}

/** Count one packet of `len` bytes on every rule and policy of a recorded path. */
export function countRecordedPath(table: Table, path: Int32Array, len: number): void {
  const c = table.counters;
  for (let k = 0; k < path.length; k++) {
    const x = path[k]!;
    if (x >= 0) {
      c.pkts[x]! += 1;
      c.bytes[x]! += len;
    } else {
      c.policyPkts[~x]! += 1;
      c.policyBytes[~x]! += len;
    }
  }
}
