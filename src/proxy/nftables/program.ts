// The installed table flattened for the packet path: every chain's rules as integer records
// in one Int32Array, in chain creation order, so a service's chain, its endpoint chains,
// their matches and the numgen entries sit side by side in a few cache lines, and a first
// packet touches those lines, the verdict map's hash slot and no rule object. The Ruleset
// (ruleset.ts) stays the truth for listing and tracing; runProgram() follows runBaseChain()
// (evaluate.ts) step for step without trace events (a trace runs the object evaluator).
//
// A chain is a header word (the code offset where its rules end), then its rules. A rule
// record is [nMatches, actionKind, a0, a1, a2], then 4 words per match [kind, value, mask,
// aux], then (numgen) its entries as packed verdicts.
//   Verdict: a0 kind, a1 target       Vmap*: a0 map index       Numgen: a0 entry count
//   MarkOr/MarkXor: a0 value          UpdateSaddr: a0 dyn index  Dnat: a0 ip, a1 port
//   Masquerade: a0 fully-random       Reject: -
// A target is the code offset of the chain's header (-1: none), in rules, numgen entries and
// map values alike (packed as kind | (target + 1) << 3): a jump lands on the chain's own
// words, with no chain table between (at 100,000 Services a table of 1.1 million chains is
// one more page per jump). Match aux: the protocol for Dport, else 1 when negated. Ranges,
// static sets and dynamic sets are side tables, their index in `value`.
import { Verdict } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL } from '../packet-meta.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { AffinitySet } from './affinity.ts';
import type { NftEvalContext } from './evaluate.ts';
import { markVolatile } from './evaluate.ts';
import type { PairTable } from './pair-table.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';
import type { Ruleset } from './ruleset.ts';

/** Words of a rule header and of one match. */
export const HDR = 5;
export const MW = 4;

export interface NftProgram {
  readonly code: Int32Array;
  /** Code offset of chain i's header. */
  readonly chainAt: Int32Array;
  readonly tables: readonly PairTable[];
  readonly ranges: readonly Uint32Array[];
  readonly dyns: readonly AffinitySet[];
  /** Per Hook value: base chain indexes in priority order (as Ruleset.hookChains). */
  readonly hookChains: readonly (readonly number[])[];
  readonly hookChainIsNat: readonly (readonly boolean[])[];
}

/** A packed verdict (ruleset.ts packVerdict) with its chain index turned into a code offset. */
function retarget(v: number, chainAt: Int32Array): number {
  const chain = (v >>> 3) - 1;
  return chain < 0 ? v : (v & 7) | ((chainAt[chain]! + 1) << 3);
}

/**
 * Flatten `rs`. Its maps are copied with their verdicts retargeted (the object evaluator
 * keeps reading chain indexes from its own); `tableFor` names the program's copy of a set
 * or map of `rs`.
 */
export function flattenRuleset(rs: Ruleset): {
  program: NftProgram;
  tableFor: (t: PairTable) => PairTable;
} {
  const chainAt = new Int32Array(rs.chains.length);
  let words = 0;
  for (let ci = 0; ci < rs.chains.length; ci++) {
    chainAt[ci] = words++;
    for (const r of rs.chains[ci]!.rules) {
      words += HDR + r.matches.length * MW + r.action.entries.length;
    }
  }
  const code = new Int32Array(words);
  const tables: PairTable[] = [];
  const tableIdx = new Map<PairTable, number>();
  const copies = new Map<PairTable, PairTable>();
  const ranges: Uint32Array[] = [];
  const dyns: AffinitySet[] = [];
  const dynIdx = new Map<AffinitySet, number>();
  const table = (t: PairTable, isMap: boolean): number => {
    let i = tableIdx.get(t);
    if (i === undefined) {
      i = tables.length;
      const own = isMap ? t.mapped((v) => retarget(v, chainAt)) : t;
      tables.push(own);
      tableIdx.set(t, i);
      copies.set(t, own);
    }
    return i;
  };
  const dyn = (d: AffinitySet): number => {
    let i = dynIdx.get(d);
    if (i === undefined) {
      i = dyns.length;
      dyns.push(d);
      dynIdx.set(d, i);
    }
    return i;
  };
  const target = (chain: number) => (chain < 0 ? -1 : chainAt[chain]!);
  let o = 0;
  for (let ci = 0; ci < rs.chains.length; ci++) {
    const h = o++;
    for (const r of rs.chains[ci]!.rules) {
      const a = r.action;
      code[o] = r.matches.length;
      code[o + 1] = a.kind;
      switch (a.kind) {
        case ActionKind.Verdict:
          code[o + 2] = a.verdict!.kind;
          code[o + 3] = target(a.verdict!.chain);
          break;
        case ActionKind.VmapAddrProtoPort:
        case ActionKind.VmapProtoPort:
          code[o + 2] = table(a.map!.table, true);
          break;
        case ActionKind.Numgen:
          code[o + 2] = a.entries.length;
          break;
        case ActionKind.MarkOr:
        case ActionKind.MarkXor:
          code[o + 2] = a.value;
          break;
        case ActionKind.UpdateSaddr:
          code[o + 2] = dyn(a.dyn!);
          break;
        case ActionKind.Dnat:
          code[o + 2] = a.value;
          code[o + 3] = a.port;
          break;
        case ActionKind.Masquerade:
          code[o + 2] = a.randomFully ? 1 : 0;
          break;
        case ActionKind.Reject:
          break;
      }
      o += HDR;
      for (const m of r.matches) {
        code[o] = m.kind;
        code[o + 1] = m.value;
        code[o + 2] = m.mask;
        code[o + 3] = m.kind === MatchKind.Dport ? m.proto : m.neg ? 1 : 0;
        if (m.kind === MatchKind.SaddrRanges || m.kind === MatchKind.DaddrRanges) {
          code[o + 1] = ranges.length;
          ranges.push(m.ranges);
        } else if (m.kind === MatchKind.DaddrInSet) code[o + 1] = table(m.set!, false);
        else if (m.kind === MatchKind.SaddrInDynSet) code[o + 1] = dyn(m.dyn!);
        o += MW;
      }
      for (const v of a.entries) code[o++] = v.kind | ((target(v.chain) + 1) << 3);
    }
    code[h] = o;
  }
  const program: NftProgram = {
    code,
    chainAt,
    tables,
    ranges,
    dyns,
    hookChains: rs.hookChains,
    hookChainIsNat: rs.hookChainIsNat,
  };
  return { program, tableFor: (t) => copies.get(t)! };
}

/**
 * `rs` flattened: the table's fixed part at each sync (compile-flat.ts writes the service
 * ports after it), and the reference a whole flattened table is checked against in tests.
 */
export function compileProgram(rs: Ruleset): NftProgram {
  return flattenRuleset(rs).program;
}

// Enum members copied into module constants (the loader turns imports into getters).
const M_CT_STATE = MatchKind.CtState;
const M_SADDR = MatchKind.Saddr;
const M_DADDR = MatchKind.Daddr;
const M_SADDR_RANGES = MatchKind.SaddrRanges;
const M_DADDR_RANGES = MatchKind.DaddrRanges;
const M_DADDR_IN_SET = MatchKind.DaddrInSet;
const M_SADDR_IN_DYN_SET = MatchKind.SaddrInDynSet;
const M_L4PROTO = MatchKind.L4Proto;
const M_DPORT = MatchKind.Dport;
const M_FIB_SADDR_LOCAL = MatchKind.FibSaddrLocal;
const M_FIB_DADDR_LOCAL = MatchKind.FibDaddrLocal;
const M_MARK_AND = MatchKind.MarkAnd;
const A_VERDICT = ActionKind.Verdict;
const A_REJECT = ActionKind.Reject;
const A_VMAP_ADDR = ActionKind.VmapAddrProtoPort;
const A_VMAP_PORT = ActionKind.VmapProtoPort;
const A_NUMGEN = ActionKind.Numgen;
const A_MARK_OR = ActionKind.MarkOr;
const A_MARK_XOR = ActionKind.MarkXor;
const A_UPDATE = ActionKind.UpdateSaddr;
const A_DNAT = ActionKind.Dnat;
const A_MASQUERADE = ActionKind.Masquerade;
const V_JUMP = VerdictKind.Jump;
const V_GOTO = VerdictKind.Goto;
const V_RETURN = VerdictKind.Return;
const V_ACCEPT = VerdictKind.Accept;
const V_DROP = VerdictKind.Drop;
const ACCEPT = Verdict.Accept;
const DROP = Verdict.Drop;
const REJECT = Verdict.Reject;
const SRC_LOCAL = ADDR_SRC_LOCAL;
const DST_LOCAL = ADDR_DST_LOCAL;

const MAX_DEPTH = 16; // NFT_JUMP_STACK_SIZE
const stackEnd = new Int32Array(MAX_DEPTH);
const stackAt = new Int32Array(MAX_DEPTH);

function inRanges(r: Uint32Array, ip: number): boolean {
  const a = ip >>> 0;
  for (let i = 0; i < r.length; i += 2) if (a >= r[i]! && a <= r[i + 1]!) return true;
  return false;
}

function matchAt(
  prog: NftProgram,
  code: Int32Array,
  o: number,
  p: PacketMeta,
  out: EvalResult,
  ctx: NftEvalContext,
): boolean {
  const v = code[o + 1]!;
  switch (code[o]) {
    case M_CT_STATE:
      return (p.ctstate & v) !== 0;
    case M_SADDR:
      return ((p.src & code[o + 2]!) === v) !== (code[o + 3] === 1);
    case M_DADDR:
      return ((p.dst & code[o + 2]!) === v) !== (code[o + 3] === 1);
    case M_SADDR_RANGES:
      return inRanges(prog.ranges[v]!, p.src) !== (code[o + 3] === 1);
    case M_DADDR_RANGES:
      return inRanges(prog.ranges[v]!, p.dst) !== (code[o + 3] === 1);
    case M_DADDR_IN_SET:
      return prog.tables[v]!.has(p.dst, 0);
    case M_SADDR_IN_DYN_SET:
      markVolatile();
      return prog.dyns[v]!.has(p.src, ctx.now());
    case M_L4PROTO:
      return p.proto === v;
    case M_DPORT:
      return p.proto === code[o + 3] && p.dport === v;
    case M_FIB_SADDR_LOCAL:
      return (p.addrFlags & SRC_LOCAL) !== 0;
    case M_FIB_DADDR_LOCAL:
      return (p.addrFlags & DST_LOCAL) !== 0;
    case M_MARK_AND:
      return (out.mark & code[o + 2]!) === v;
  }
  return false;
}

/** runBaseChain() over the flat program, without trace events. */
export function runProgram(
  prog: NftProgram,
  start: number,
  p: PacketMeta,
  ctx: NftEvalContext,
  out: EvalResult,
): Verdict {
  const code = prog.code;
  let depth = 0;
  const h = prog.chainAt[start]!;
  let o = h + 1;
  let end = code[h]!;
  for (;;) {
    let vk = -1;
    let vc = -1;
    if (o < end) {
      out.rulesVisited++;
      const nm = code[o]!;
      const kind = code[o + 1]!;
      const a0 = code[o + 2]!;
      const next = o + HDR + nm * MW + (kind === A_NUMGEN ? a0 : 0);
      let ok = true;
      for (let k = 0, mo = o + HDR; k < nm; k++, mo += MW) {
        if (!matchAt(prog, code, mo, p, out, ctx)) {
          ok = false;
          break;
        }
      }
      if (!ok) {
        o = next;
        continue;
      }
      switch (kind) {
        case A_VERDICT:
          vk = a0;
          vc = code[o + 3]!;
          break;
        case A_VMAP_ADDR:
        case A_VMAP_PORT: {
          const key = (p.proto << 16) | (p.dport & 0xffff);
          const v = prog.tables[a0]!.get(kind === A_VMAP_ADDR ? p.dst : 0, key);
          if (v < 0) {
            o = next;
            continue; // no element: NFT_BREAK, on to the next rule
          }
          vk = v & 7;
          vc = (v >>> 3) - 1;
          break;
        }
        case A_NUMGEN: {
          markVolatile();
          const u = Math.floor(ctx.random() * 4294967296);
          const v = code[o + HDR + nm * MW + Math.floor((u * a0) / 4294967296)]!;
          vk = v & 7;
          vc = (v >>> 3) - 1;
          break;
        }
        case A_MARK_OR:
          out.mark = (out.mark | a0) >>> 0;
          break;
        case A_MARK_XOR:
          out.mark = (out.mark ^ a0) >>> 0;
          break;
        case A_UPDATE:
          markVolatile();
          prog.dyns[a0]!.update(p.src, ctx.now());
          break;
        case A_REJECT:
          return (out.verdict = REJECT);
        case A_DNAT:
          out.dnat = true;
          out.dnatIp = a0 >>> 0;
          out.dnatPort = code[o + 3]!;
          return (out.verdict = ACCEPT);
        case A_MASQUERADE:
          out.masquerade = true;
          out.masqueradeRandomFully = a0 === 1;
          return (out.verdict = ACCEPT);
      }
      if (vk === V_ACCEPT) return (out.verdict = ACCEPT);
      if (vk === V_DROP) return (out.verdict = DROP);
      if (vk === V_JUMP || vk === V_GOTO) {
        if (vk === V_JUMP) {
          if (depth === MAX_DEPTH) return (out.verdict = DROP); // -ELOOP
          stackEnd[depth] = end;
          stackAt[depth] = next;
          depth++;
        }
        o = vc + 1; // vc: the target chain's header
        end = code[vc]!;
        continue;
      }
      if (vk !== V_RETURN) {
        o = next; // a statement without a verdict: on to the next rule
        continue;
      }
    }
    // `return`, or the end of a chain.
    if (depth === 0) return (out.verdict = ACCEPT);
    depth--;
    o = stackAt[depth]!;
    end = stackEnd[depth]!;
  }
}
