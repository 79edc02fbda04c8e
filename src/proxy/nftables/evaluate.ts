// The nftables evaluator: runs one base chain for one packet as nft_do_chain does.
// Rules are tried in order; a rule whose matches all hold runs its statement. `jump`
// pushes a return point, `goto` does not, `return` (or falling off a regular chain)
// pops one, and falling off the base chain applies its policy (accept in every
// kube-proxy base chain). `accept` ends this base chain only: the next base chain at
// the hook still runs; `drop`/`reject` end the packet. A vmap or set lookup is one
// hash probe (pair-table.ts), so a service's first packet costs the same number of
// rules whatever the number of services.
import type { TraceEvent } from '../hooks.ts';
import type { Rule, TargetKind } from '../iptables/rules.ts';
import type { EvalResult, PacketMeta } from '../hooks.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL, Verdict } from '../hooks.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';
import type { NftChain, NftMatch, NftRule, NftVerdict, Ruleset } from './ruleset.ts';

export interface NftEvalContext {
  /** Uniform [0, 1): numgen's get_random_u32(), seeded by the caller. */
  random(): number;
  /** Seconds, for affinity set timeouts. */
  now(): number;
  trace: ((e: TraceEvent) => void) | undefined;
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
    case MatchKind.CtState:
      return (p.ctstate & m.value) !== 0;
    case MatchKind.Saddr:
      return ((p.src & m.mask) >>> 0 === m.value) !== m.neg;
    case MatchKind.Daddr:
      return ((p.dst & m.mask) >>> 0 === m.value) !== m.neg;
    case MatchKind.SaddrRanges:
      return inRanges(m.ranges, p.src) !== m.neg;
    case MatchKind.DaddrRanges:
      return inRanges(m.ranges, p.dst) !== m.neg;
    case MatchKind.DaddrInSet:
      return m.set!.has(p.dst, 0);
    case MatchKind.SaddrInDynSet:
      return m.dyn!.has(p.src, ctx.now());
    case MatchKind.L4Proto:
      return p.proto === m.value;
    case MatchKind.Dport:
      return p.proto === m.proto && p.dport === m.value;
    case MatchKind.FibSaddrLocal:
      return (p.addrFlags & ADDR_SRC_LOCAL) !== 0;
    case MatchKind.FibDaddrLocal:
      return (p.addrFlags & ADDR_DST_LOCAL) !== 0;
    case MatchKind.MarkAnd:
      return (out.mark & m.mask) >>> 0 === m.value;
  }
}

/** The rule as a trace step carries it: an iptables-shaped record whose `line` is the nft text. */
const traceRules = new WeakMap<NftRule, Rule>();
export function traceRule(chain: string, r: NftRule): Rule {
  let t = traceRules.get(r);
  if (t === undefined) {
    t = {
      chain,
      line: r.text,
      src: 0,
      srcMask: 0,
      srcPrefix: -1,
      srcInv: false,
      dst: 0,
      dstMask: 0,
      dstPrefix: -1,
      dstInv: false,
      inIface: '',
      inInv: false,
      outIface: '',
      outInv: false,
      proto: 0,
      protoInv: false,
      matches: [],
      target: { kind: 0 as TargetKind.None },
    };
    traceRules.set(r, t);
  }
  return t;
}

function emit(
  ctx: NftEvalContext,
  rs: Ruleset,
  c: NftChain,
  ruleNum: number,
  kind: TraceEvent['kind'],
  r: NftRule | undefined,
): void {
  ctx.trace!({
    table: rs.name,
    chain: c.name,
    ruleNum,
    kind,
    rule: r === undefined ? undefined : traceRule(c.name, r),
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
    let v: NftVerdict | null = null;
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
        case ActionKind.Verdict:
          v = a.verdict;
          break;
        case ActionKind.VmapAddrProtoPort:
        case ActionKind.VmapProtoPort: {
          const map = a.map!;
          const key = (p.proto << 16) | (p.dport & 0xffff);
          const at = map.table.get(a.kind === ActionKind.VmapAddrProtoPort ? p.dst : 0, key);
          if (at < 0) {
            i++;
            continue; // no element: NFT_BREAK, on to the next rule
          }
          v = map.elements[at]!.value!;
          break;
        }
        case ActionKind.Numgen: {
          // nft_ng_random: reciprocal_scale(get_random_u32(), modulus).
          const n = a.entries.length;
          const u = Math.floor(ctx.random() * 4294967296);
          v = a.entries[Math.floor((u * n) / 4294967296)]!;
          break;
        }
        case ActionKind.MarkOr:
          out.mark = (out.mark | a.value) >>> 0;
          break;
        case ActionKind.MarkXor:
          out.mark = (out.mark ^ a.value) >>> 0;
          break;
        case ActionKind.UpdateSaddr:
          a.dyn!.update(p.src, ctx.now());
          break;
        case ActionKind.Reject:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          return (out.verdict = Verdict.Reject);
        case ActionKind.Dnat:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          out.dnat = true;
          out.dnatIp = a.value;
          out.dnatPort = a.port;
          return (out.verdict = Verdict.Accept);
        case ActionKind.Masquerade:
          if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
          out.masquerade = true;
          out.masqueradeRandomFully = a.randomFully;
          return (out.verdict = Verdict.Accept);
      }
      if (tracing) emit(ctx, rs, chain, i + 1, 'rule', r);
      if (v === null) {
        i++;
        continue;
      }
      switch (v.kind) {
        case VerdictKind.Accept:
          return (out.verdict = Verdict.Accept);
        case VerdictKind.Drop:
          return (out.verdict = Verdict.Drop);
        case VerdictKind.Jump:
        case VerdictKind.Goto:
          // A jump is a goto that remembers where to come back to.
          if (v.kind === VerdictKind.Jump) {
            if (depth === MAX_DEPTH) return (out.verdict = Verdict.Drop); // -ELOOP
            stackChain[depth] = ci;
            stackRule[depth] = i + 1;
            depth++;
          }
          ci = v.chain;
          chain = chains[ci]!;
          rules = chain.rules;
          i = 0;
          continue;
        case VerdictKind.Return:
          break;
      }
    } else if (tracing && chain.base === undefined) {
      emit(ctx, rs, chain, rules.length + 1, 'return', undefined);
    }
    // `return`, or the end of a chain.
    if (depth === 0) {
      if (tracing)
        emit(ctx, rs, chains[start]!, chains[start]!.rules.length + 1, 'policy', undefined);
      return (out.verdict = Verdict.Accept);
    }
    depth--;
    ci = stackChain[depth]!;
    chain = chains[ci]!;
    rules = chain.rules;
    i = stackRule[depth]!;
  }
}
