// The nftables evaluator: runs one base chain for one packet as nft_do_chain does.
// Rules are tried in order; a rule whose matches all hold runs its statement. `jump`
// pushes a return point, `goto` does not, `return` (or falling off a regular chain)
// pops one, and falling off the base chain applies its policy (accept in every
// kube-proxy base chain). `accept` ends this base chain only: the next base chain at
// the hook still runs; `drop`/`reject` end the packet. A vmap or set lookup is one
// hash probe (pair-table.ts), so a service's first packet costs the same number of
// rules whatever the number of services.
import { Verdict } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL } from '../packet-meta.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { TraceEvent } from '../trace.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';
import type { NftChain, NftMatch, NftRule, Ruleset } from './ruleset.ts';

export interface NftEvalContext {
  /** Uniform [0, 1): numgen's get_random_u32(), seeded by the caller. */
  random(): number;
  /** Seconds, for affinity set timeouts. */
  now(): number;
  trace: ((e: TraceEvent) => void) | undefined;
}

// Enum members and imported constants copied into module constants: the TypeScript
// loader turns imports into property getters, too slow to call per rule.
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

/** Set when a walk read the clock or the random source or updated a set (see flowVolatile). */
let volatileWalk = false;

/** Start watching walks for what makes their outcome not repeatable for the same packet. */
export function watchVolatile(): void {
  volatileWalk = false;
}

/** A walk read the clock or the random source or updated a set (program.ts reports it here). */
export function markVolatile(): void {
  volatileWalk = true;
}

/** Whether a walk since watchVolatile() used numgen, a dynamic set or a set update. */
export function sawVolatile(): boolean {
  return volatileWalk;
}

const MAX_DEPTH = 16; // NFT_JUMP_STACK_SIZE
const stackChain = new Int32Array(MAX_DEPTH);
const stackRule = new Int32Array(MAX_DEPTH);

function inRanges(r: Uint32Array, ip: number): boolean {
  const a = ip >>> 0;
  for (let i = 0; i < r.length; i += 2) if (a >= r[i]! && a <= r[i + 1]!) return true;
  return false;
}

function matches(m: NftMatch, p: PacketMeta, out: EvalResult, ctx: NftEvalContext): boolean {
  switch (m.kind) {
    case M_CT_STATE:
      return (p.ctstate & m.value) !== 0;
    case M_SADDR:
      return ((p.src & m.mask) >>> 0 === m.value) !== m.neg;
    case M_DADDR:
      return ((p.dst & m.mask) >>> 0 === m.value) !== m.neg;
    case M_SADDR_RANGES:
      return inRanges(m.ranges, p.src) !== m.neg;
    case M_DADDR_RANGES:
      return inRanges(m.ranges, p.dst) !== m.neg;
    case M_DADDR_IN_SET:
      return m.set!.has(p.dst, 0);
    case M_SADDR_IN_DYN_SET:
      volatileWalk = true;
      return m.dyn!.has(p.src, ctx.now());
    case M_L4PROTO:
      return p.proto === m.value;
    case M_DPORT:
      return p.proto === m.proto && p.dport === m.value;
    case M_FIB_SADDR_LOCAL:
      return (p.addrFlags & SRC_LOCAL) !== 0;
    case M_FIB_DADDR_LOCAL:
      return (p.addrFlags & DST_LOCAL) !== 0;
    case M_MARK_AND:
      return (out.mark & m.mask) >>> 0 === m.value;
  }
}

/** VerdictKind as nft prints it. */
const VERDICT_WORDS: readonly string[] = ['jump', 'goto', 'return', 'accept', 'drop'];

/** The verdict a map element (or numgen entry) held, as nft prints it: `goto service-…`. */
function verdictText(rs: Ruleset, kind: number, chain: number): string {
  const w = VERDICT_WORDS[kind]!;
  return chain >= 0 ? `${w} ${rs.chains[chain]!.name}` : w;
}

/** A trace step: a rule whose matches held (with the element a lookup found), or a chain's end. */
function emit(
  ctx: NftEvalContext,
  rs: Ruleset,
  c: NftChain,
  ruleNum: number,
  kind: TraceEvent['kind'],
  r: NftRule | undefined,
  result?: string,
): void {
  ctx.trace!({
    table: rs.name,
    chain: c.name,
    ruleNum,
    kind,
    text: r === undefined ? '' : r.text,
    ...(result !== undefined ? { result } : {}),
  });
}

/**
 * Run base chain `start` of `rs` for packet `p`. Updates `out` (dnat, mark,
 * masquerade, rulesVisited); returns Accept, Drop or Reject.
 */
export function runBaseChain(
  rs: Ruleset,
  start: number,
  p: PacketMeta,
  ctx: NftEvalContext,
  out: EvalResult,
): Verdict {
  const chains = rs.chains;
  const tracing = ctx.trace !== undefined;
  let depth = 0;
  let ci = start;
  let chain = chains[ci]!;
  let rules = chain.rules;
  let i = 0;
  for (;;) {
    // The verdict to apply: kind and target chain (-1 for none).
    let vk = -1;
    let vc = -1;
    if (i < rules.length) {
      const r = rules[i]!;
      out.rulesVisited++;
      const ms = r.matches;
      let ok = true;
      for (let k = 0; k < ms.length; k++) {
        if (!matches(ms[k]!, p, out, ctx)) {
          ok = false;
          break;
        }
      }
      if (!ok) {
        i++;
        continue;
      }
      const a = r.action;
      switch (a.kind) {
        case A_VERDICT: {
          const v = a.verdict!;
          vk = v.kind;
          vc = v.chain;
          break;
        }
        case A_VMAP_ADDR:
        case A_VMAP_PORT: {
          const key = (p.proto << 16) | (p.dport & 0xffff);
          const code = a.map!.table.get(a.kind === A_VMAP_ADDR ? p.dst : 0, key);
          if (code < 0) {
            i++;
            continue; // no element: NFT_BREAK, on to the next rule
          }
          vk = code & 7;
          vc = (code >>> 3) - 1;
          break;
        }
        case A_NUMGEN: {
          volatileWalk = true;
          // nft_ng_random: reciprocal_scale(get_random_u32(), modulus).
          const n = a.entries.length;
          const u = Math.floor(ctx.random() * 4294967296);
          const v = a.entries[Math.floor((u * n) / 4294967296)]!;
          vk = v.kind;
          vc = v.chain;
          break;
        }
        case A_MARK_OR:
          out.mark = (out.mark | a.value) >>> 0;
          break;
        case A_MARK_XOR:
          out.mark = (out.mark ^ a.value) >>> 0;
          break;
        case A_UPDATE:
          volatileWalk = true;
          a.dyn!.update(p.src, ctx.now());
          break;
        case A_REJECT:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          return (out.verdict = REJECT);
        case A_DNAT:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          out.dnat = true;
          out.dnatIp = a.value;
          out.dnatPort = a.port;
          return (out.verdict = ACCEPT);
        case A_MASQUERADE:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          out.masquerade = true;
          out.masqueradeRandomFully = a.randomFully;
          return (out.verdict = ACCEPT);
      }
      if (tracing) {
        const lookup = a.kind === A_VMAP_ADDR || a.kind === A_VMAP_PORT || a.kind === A_NUMGEN;
        emit(ctx, rs, chain, i + 1, 'rule', r, lookup ? verdictText(rs, vk, vc) : undefined);
      }
      if (vk === V_ACCEPT) return (out.verdict = ACCEPT);
      if (vk === V_DROP) return (out.verdict = DROP);
      if (vk === V_JUMP || vk === V_GOTO) {
        // A jump is a goto that remembers where to come back to.
        if (vk === V_JUMP) {
          if (depth === MAX_DEPTH) return (out.verdict = DROP); // -ELOOP
          stackChain[depth] = ci;
          stackRule[depth] = i + 1;
          depth++;
        }
        ci = vc;
        chain = chains[ci]!;
        rules = chain.rules;
        i = 0;
        continue;
      }
      if (vk !== V_RETURN) {
        i++; // a statement without a verdict: on to the next rule
        continue;
      }
    } else if (tracing && chain.base === undefined) {
      emit(ctx, rs, chain, rules.length + 1, 'return', undefined);
    }
    // `return`, or the end of a chain.
    if (depth === 0) {
      if (tracing)
        emit(ctx, rs, chains[start]!, chains[start]!.rules.length + 1, 'policy', undefined);
      return (out.verdict = ACCEPT);
    }
    depth--;
    ci = stackChain[depth]!;
    chain = chains[ci]!;
    rules = chain.rules;
    i = stackRule[depth]!;
  }
}
