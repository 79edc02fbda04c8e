// The userspace model of one nftables table: chains of rules, sets and verdict maps,
// as the kernel holds them after kube-proxy's transaction. Each rule keeps the text
// `nft list ruleset` prints for it next to a compiled form (matches that must all
// hold, then one statement) that the evaluator runs. A Ruleset is immutable once
// built: the proxier swaps a new one in with one assignment, like one nft transaction.
// Only the affinity sets' contents change at run time (see affinity.ts).
import type { AffinitySet } from './affinity.ts';
import type { PairTable } from './pair-table.ts';

export const enum MatchKind {
  /** `ct state new`: (ctstate & value) != 0. */
  CtState = 0,
  /** `ip saddr A[/n]`: (src & mask) == value. */
  Saddr = 1,
  Daddr = 2,
  /** `ip saddr { ... }`: src inside one of `ranges`. */
  SaddrRanges = 3,
  DaddrRanges = 4,
  /** `ip daddr @set` over a static address set. */
  DaddrInSet = 5,
  /** `ip saddr @affinity-...` over a dynamic set with timeouts. */
  SaddrInDynSet = 6,
  /** `meta l4proto P`. */
  L4Proto = 7,
  /** `tcp dport N` (implies `meta l4proto tcp`). */
  Dport = 8,
  /** `fib saddr type local` / `fib daddr type local`. */
  FibSaddrLocal = 9,
  FibDaddrLocal = 10,
  /** `meta mark & mask == value`. */
  MarkAnd = 11,
}

/** One match; every field is present for every kind so the evaluator stays monomorphic. */
export interface NftMatch {
  readonly kind: MatchKind;
  readonly neg: boolean;
  readonly value: number;
  readonly mask: number;
  /** Protocol number for Dport. */
  readonly proto: number;
  /** Inclusive [lo, hi] pairs for the *Ranges kinds. */
  readonly ranges: Uint32Array;
  readonly set: PairTable | null;
  readonly dyn: AffinitySet | null;
}

export const enum VerdictKind {
  Jump = 0,
  Goto = 1,
  Return = 2,
  Accept = 3,
  Drop = 4,
}

/** A verdict as a map element or numgen vmap entry holds it. */
export interface NftVerdict {
  readonly kind: VerdictKind;
  /** Jump/Goto target chain. */
  readonly target: string;
  /** Resolved index of `target` (set when the ruleset is built). */
  chain: number;
  /** As nft prints it: `goto service-...`, `drop`. */
  readonly text: string;
}

/** A verdict as one non-negative integer: kind in the low 3 bits, chain index + 1 above. */
export function packVerdict(v: NftVerdict): number {
  return v.kind | ((v.chain + 1) << 3);
}

export const enum ActionKind {
  /** A verdict statement (jump, goto, return, accept, drop). */
  Verdict = 0,
  /** `reject` (ICMP port unreachable, then drop). */
  Reject = 1,
  /** `ip daddr . meta l4proto . th dport vmap @map`. */
  VmapAddrProtoPort = 2,
  /** `meta l4proto . th dport vmap @map`. */
  VmapProtoPort = 3,
  /** `numgen random mod N vmap { 0 : goto a, ... }`. */
  Numgen = 4,
  /** `meta mark set meta mark | V` / `^ V`. */
  MarkOr = 5,
  MarkXor = 6,
  /** `update @set { ip saddr }`. */
  UpdateSaddr = 7,
  /** `dnat to IP:PORT`. */
  Dnat = 8,
  /** `masquerade [fully-random]`. */
  Masquerade = 9,
}

export interface NftAction {
  readonly kind: ActionKind;
  /** Verdict actions. */
  readonly verdict: NftVerdict | null;
  /** Vmap actions. */
  readonly map: NftSet | null;
  /** Numgen entries, index i for `numgen ... == i`. */
  readonly entries: readonly NftVerdict[];
  /** Mark value, or DNAT address. */
  readonly value: number;
  readonly port: number;
  readonly dyn: AffinitySet | null;
  readonly randomFully: boolean;
}

export interface NftRule {
  /** The rule as `nft list ruleset` prints it (and `nft -f` reads it back). */
  readonly text: string;
  readonly matches: readonly NftMatch[];
  readonly action: NftAction;
}

export type ChainType = 'filter' | 'nat';

export interface BaseChainSpec {
  readonly type: ChainType;
  /** Hook enum value (hooks.ts). */
  readonly hook: number;
  readonly hookName: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  readonly priority: number;
}

export interface NftChain {
  readonly name: string;
  readonly comment: string | undefined;
  readonly base: BaseChainSpec | undefined;
  readonly rules: readonly NftRule[];
}

/** One element of a named set or map, with what `nft list` needs to print and sort it. */
export interface NftElement {
  readonly key: string;
  readonly comment: string | undefined;
  readonly value: NftVerdict | undefined;
  /** nft prints elements sorted by their key bytes; (sort1, sort2) orders them the same. */
  readonly sort1: number;
  readonly sort2: number;
}

export interface NftSet {
  readonly name: string;
  readonly isMap: boolean;
  /** `ipv4_addr`, `ipv4_addr . inet_proto . inet_service : verdict`, ... */
  readonly type: string;
  readonly comment: string | undefined;
  /** `dynamic,timeout` for affinity sets. */
  readonly flags: string | undefined;
  readonly timeout: number | undefined;
  /** Printed `size` (nft gives sets written from the packet path 65535). */
  readonly size: number | undefined;
  /** Static elements in insertion order (listing sorts them). */
  readonly elements: readonly NftElement[];
  /**
   * The hash. Sets: key -> index into `elements`. Maps, once built: key -> the
   * element's verdict packed by packVerdict(), so a lookup needs no other load.
   */
  readonly table: PairTable;
  /** Dynamic contents (affinity sets), else null. */
  readonly dyn: AffinitySet | null;
}

export interface Ruleset {
  readonly family: 'ip';
  readonly name: string;
  readonly comment: string;
  /** Sets and maps in creation order. */
  readonly sets: readonly NftSet[];
  /** Chains in creation order. */
  readonly chains: readonly NftChain[];
  readonly chainIndex: ReadonlyMap<string, number>;
  /** Per Hook value: base chain indexes in priority order. */
  readonly hookChains: readonly (readonly number[])[];
  /** Beside hookChains: whether each of those base chains is of type nat. */
  readonly hookChainIsNat: readonly (readonly boolean[])[];
}
