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
import type { Match, Rule, Table } from './rules.ts';
import type { Hook } from '../netfilter.ts';

export interface EvalContext {
  /** Uniform in [0, 1): the statistic match's get_random_u32(), seeded by the caller. */
  random(): number;
  /** Seconds, for -m recent. */
  now(): number;
  readonly recent: RecentTables;
  trace?: ((e: TraceEvent) => void) | undefined;
}

/** While a walk is recorded: the rules it counts (index, or ~chain for a policy). */
let recording: number[] | undefined;
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

// The walk reads each table through a flat form built once per table (WeakMap by
// identity; tables are immutable): per rule, its match modules as op codes and
// parameters in typed arrays and its target kind, so the per-rule loop touches
// monomorphic arrays instead of match objects of seven shapes. Comments have no
// effect and are left out; every other module is still tested, in rule order.
const OP_PORT = 1;
const OP_ADDRTYPE = 2;
const OP_MARK = 3;
const OP_CONNTRACK = 4;
/** Statistic / recent: side effects and state, evaluated from the Match object. */
const OP_OBJECT = 5;

const K_COMMENT = MatchKind.Comment;
const K_PORT = MatchKind.Port;
const K_ADDRTYPE = MatchKind.AddrType;
const K_MARK = MatchKind.Mark;
const K_CONNTRACK = MatchKind.Conntrack;
const K_NFACCT = MatchKind.Nfacct;

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

const V_ACCEPT = Verdict.Accept;
const V_DROP = Verdict.Drop;
const V_REJECT = Verdict.Reject;

interface Flat {
  /** Rule i's ops are op[opStart[i] .. opStart[i + 1]). */
  readonly opStart: Int32Array;
  readonly op: Uint8Array;
  /** Four parameters per op, and the inversion bits (1: first test, 2: second test). */
  readonly arg: Int32Array;
  readonly inv: Uint8Array;
  /** The Match of each OP_OBJECT op. */
  readonly obj: (Match | undefined)[];
  /** Rules with an -i/-o test. */
  readonly iface: Uint8Array;
  /** The op of a rule whose only test is one conntrack or mark match (walk inlines it), else 0. */
  readonly single: Uint8Array;
  readonly target: Uint8Array;
  /** Per chain: first rule, one past the last, built-in, policy DROP. */
  readonly chainFirst: Int32Array;
  readonly chainEnd: Int32Array;
  readonly chainBuiltin: Uint8Array;
  readonly chainDrop: Uint8Array;
}

const flatCache = new WeakMap<Table, Flat>();
let lastTable: Table | undefined;
let lastFlat: Flat | undefined;

function flatten(t: Table): Flat {
  const n = t.rules.length;
  const opStart = new Int32Array(n + 1);
  const ops: number[] = [];
  const args: number[] = [];
  const invs: number[] = [];
  const obj: (Match | undefined)[] = [];
  const iface = new Uint8Array(n);
  const target = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = t.rules[i] as Rule;
    opStart[i] = ops.length;
    iface[i] = r.inIface !== '' || r.outIface !== '' ? 1 : 0;
    target[i] = r.target.kind;
    for (const m of r.matches) {
      let op: number;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let inv = 0;
      let o: Match | undefined;
      switch (m.kind) {
        case K_COMMENT:
        case K_NFACCT:
          continue;
        case K_PORT:
          op = OP_PORT;
          [a0, a1, a2, a3] = [m.sportLo, m.sportHi, m.dportLo, m.dportHi];
          inv = (m.sportInv ? 1 : 0) | (m.dportInv ? 2 : 0);
          break;
        case K_ADDRTYPE:
          op = OP_ADDRTYPE;
          a0 = m.srcType !== '' ? 1 : 0;
          a1 = m.dstType !== '' ? 1 : 0;
          inv = (m.srcInv ? 1 : 0) | (m.dstInv ? 2 : 0);
          break;
        case K_MARK:
          op = OP_MARK;
          a0 = m.mask;
          a1 = m.value;
          inv = m.invert ? 1 : 0;
          break;
        case K_CONNTRACK:
          op = OP_CONNTRACK;
          a0 = m.states;
          inv = m.invert ? 1 : 0;
          break;
        default:
          op = OP_OBJECT;
          o = m;
      }
      ops.push(op);
      args.push(a0, a1, a2, a3);
      invs.push(inv);
      obj.push(o);
    }
  }
  opStart[n] = ops.length;
  const single = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = opStart[i]!;
    const op = ops[k];
    if (iface[i] === 0 && opStart[i + 1] === k + 1 && (op === OP_CONNTRACK || op === OP_MARK)) {
      single[i] = op;
    }
  }
  const c = t.chains.length;
  const chainFirst = new Int32Array(c);
  const chainEnd = new Int32Array(c);
  const chainBuiltin = new Uint8Array(c);
  const chainDrop = new Uint8Array(c);
  t.chains.forEach((ch, k) => {
    chainFirst[k] = ch.first;
    chainEnd[k] = ch.first + ch.count;
    chainBuiltin[k] = ch.builtin ? 1 : 0;
    chainDrop[k] = ch.policy === 'DROP' ? 1 : 0;
  });
  return {
    opStart,
    op: Uint8Array.from(ops),
    arg: Int32Array.from(args),
    inv: Uint8Array.from(invs),
    obj,
    iface,
    single,
    target,
    chainFirst,
    chainEnd,
    chainBuiltin,
    chainDrop,
  };
}

function flatOf(t: Table): Flat {
  if (t === lastTable) return lastFlat as Flat;
  let f = flatCache.get(t);
  if (f === undefined) {
    f = flatten(t);
    flatCache.set(t, f);
  }
  lastTable = t;
  lastFlat = f;
  return f;
}

/** The rest of ip_packet_match, then every match module in rule order (modules may have side effects). */
function slowMatches(
  f: Flat,
  i: number,
  r: Rule,
  p: PacketMeta,
  out: EvalResult,
  ctx: EvalContext,
): boolean {
  if (f.iface[i] === 1) {
    if (r.inIface !== '' && (p.inIface === r.inIface) === r.inInv) return false;
    if (r.outIface !== '' && (p.outIface === r.outIface) === r.outInv) return false;
  }
  const op = f.op;
  const arg = f.arg;
  const invs = f.inv;
  const end = f.opStart[i + 1]!;
  for (let k = f.opStart[i]!; k < end; k++) {
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
      default:
        volatileWalk = true;
        if (!matchModule(f.obj[k] as Match, p, out, ctx)) return false;
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
  const chains = table.chains;
  if (chains[start] === undefined) throw new Error(`no chain #${start} in ${table.name}`);
  const f = flatOf(table);
  const rules = table.rules;
  const jump = table.jump;
  const counters = table.counters;
  const pkts = counters.pkts;
  const bytes = counters.bytes;
  const hflags = table.hflags;
  const hdr = table.hdr;
  const hproto = table.hproto;
  const target = f.target;
  const single = f.single;
  const opStart = f.opStart;
  const arg = f.arg;
  const inv = f.inv;
  const ctstate = p.ctstate;
  const chainFirst = f.chainFirst;
  const chainEnd = f.chainEnd;
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
          } else if (!slowMatches(f, i, rules[i] as Rule, p, out, ctx)) {
            i++;
            continue;
          }
        }
      }
      pkts[i]! += 1;
      bytes[i]! += len;
      if (recording !== undefined) recording.push(i);
      if (trace !== undefined) {
        const chain = chains[ci]!;
        trace({
          table: table.name,
          chain: chain.name,
          ruleNum: i - chain.first + 1,
          kind: 'rule',
          text: saveRuleLine(rules[i] as Rule),
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
        case T_MARK: {
          const t = (rules[i] as Rule).target as { value: number; mask: number };
          out.mark = ((out.mark & ~t.mask) ^ t.value) >>> 0;
          i++;
          continue;
        }
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
          const t = (rules[i] as Rule).target as { ip: number; port: number };
          out.rulesVisited += visited;
          out.dnat = true;
          out.dnatIp = t.ip;
          out.dnatPort = t.port === 0 ? p.dport : t.port;
          return (out.verdict = V_ACCEPT);
        }
        case T_MASQUERADE: {
          const t = (rules[i] as Rule).target as { randomFully: boolean };
          out.rulesVisited += visited;
          out.masquerade = true;
          out.masqueradeRandomFully = t.randomFully;
          return (out.verdict = V_ACCEPT);
        }
      }
    }
    // RETURN, or the end of a chain.
    if (depth === 0 || f.chainBuiltin[ci] === 1) {
      out.rulesVisited += visited;
      counters.policyPkts[ci]! += 1;
      counters.policyBytes[ci]! += len;
      if (recording !== undefined) recording.push(~ci);
      if (trace !== undefined) {
        const chain = chains[ci]!;
        trace({
          table: table.name,
          chain: chain.name,
          ruleNum: chain.count + 1,
          kind: 'policy',
          text: '',
        });
      }
      return (out.verdict = f.chainDrop[ci] === 1 ? V_DROP : V_ACCEPT);
    }
    if (trace !== undefined && fellOff) {
      const chain = chains[ci]!;
      trace({
        table: table.name,
        chain: chain.name,
        ruleNum: chain.count + 1,
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

/**
 * evaluateTable, also listing in `path` the rules it counted (rule index, or ~chain for a
 * chain policy). Returns false when statistic or recent took part, so the outcome may not
 * repeat for the same packet fields.
 */
export function evaluateTableRecorded(
  table: Table,
  start: number,
  p: PacketMeta,
  ctx: EvalContext,
  out: EvalResult,
  path: number[],
): boolean {
  recording = path;
  volatileWalk = false;
  try {
    evaluateTable(table, start, p, ctx, out);
  } finally {
    recording = undefined;
  }
  return !volatileWalk;
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
