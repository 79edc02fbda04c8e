// The userspace iptables rule model: tables of chains of rules, each rule an IP-header
// part (-s/-d/-i/-o/-p), an ordered list of match modules and one target, as
// netfilter's struct ipt_entry + xt_entry_match[] + xt_entry_target. A RuleSet is
// immutable once built; the Proxier swaps a new one in with one assignment (the
// userspace iptables-restore). Packet and byte counters live in typed arrays beside it.

import { HOOK_NAMES } from '../netfilter.ts';
import type { CtState } from '../netfilter.ts';
import type { RuleColumns } from './rule-columns.ts';
import type { ServiceFragment } from './service-fragment.ts';

export type TableName = 'filter' | 'nat';

/** Tables in the order iptables-nft's iptables-save prints them. */
export const TABLE_NAMES: readonly TableName[] = ['filter', 'nat'];

/** Built-in chains per table, in the order iptables lists them. */
export const BUILTIN_CHAINS: { readonly [T in TableName]: readonly string[] } = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

/** Each hook's built-in chain: iptables names them after the hooks. */
export const HOOK_CHAIN: readonly string[] = HOOK_NAMES;

/** The order libxt_conntrack prints states in. */
export const CT_STATE_PRINT_ORDER: readonly (keyof typeof CtState)[] = [
  'INVALID',
  'NEW',
  'RELATED',
  'ESTABLISHED',
  'UNTRACKED',
  'SNAT',
  'DNAT',
];

export const enum MatchKind {
  Comment = 0,
  Port = 1,
  AddrType = 2,
  Statistic = 3,
  Recent = 4,
  Mark = 5,
  Conntrack = 6,
  Nfacct = 7,
}

export interface CommentMatch {
  readonly kind: MatchKind.Comment;
  readonly text: string;
}

/** `-m tcp|udp|sctp [--sport a[:b]] [--dport a[:b]]`; an absent port is 0..65535. */
export interface PortMatch {
  readonly kind: MatchKind.Port;
  readonly module: 'tcp' | 'udp' | 'sctp';
  readonly sportLo: number;
  readonly sportHi: number;
  readonly sportInv: boolean;
  readonly dportLo: number;
  readonly dportHi: number;
  readonly dportInv: boolean;
}

/** `-m addrtype [--src-type T] [--dst-type T]` (only LOCAL is evaluated). */
export interface AddrTypeMatch {
  readonly kind: MatchKind.AddrType;
  readonly srcType: string;
  readonly srcInv: boolean;
  readonly dstType: string;
  readonly dstInv: boolean;
}

/** `-m statistic --mode random --probability P`; the kernel keeps P as round(P * 2^31). */
export interface StatisticMatch {
  readonly kind: MatchKind.Statistic;
  readonly probability: number;
  readonly p31: number;
  readonly invert: boolean;
}

export const enum RecentMode {
  Set = 1,
  Check = 2,
  Update = 4,
  Remove = 8,
}

/** `-m recent` (xt_recent): per-name tables of recently seen addresses. */
export interface RecentMatch {
  readonly kind: MatchKind.Recent;
  readonly name: string;
  readonly mode: RecentMode;
  /** 0 = no time limit. */
  readonly seconds: number;
  readonly reap: boolean;
  readonly mask: number;
  readonly side: 'source' | 'dest';
  readonly invert: boolean;
}

/** `-m mark [!] --mark value[/mask]`: (skb->mark & mask) == value. */
export interface MarkMatch {
  readonly kind: MatchKind.Mark;
  readonly value: number;
  readonly mask: number;
  readonly invert: boolean;
}

/** `-m conntrack [!] --ctstate S,...`. */
export interface ConntrackMatch {
  readonly kind: MatchKind.Conntrack;
  readonly states: number;
  readonly invert: boolean;
}

/**
 * `-m nfacct --nfacct-name NAME`: always matches and counts the packet in the named
 * nfnetlink_acct object (kube-proxy v1.30+ reads them as metrics).
 */
export interface NfacctMatch {
  readonly kind: MatchKind.Nfacct;
  readonly name: string;
}

export type Match =
  | NfacctMatch
  | CommentMatch
  | PortMatch
  | AddrTypeMatch
  | StatisticMatch
  | RecentMatch
  | MarkMatch
  | ConntrackMatch;

export const enum TargetKind {
  /** No -j: the rule only counts. */
  None = 0,
  Jump = 1,
  Accept = 2,
  Drop = 3,
  Return = 4,
  Reject = 5,
  Dnat = 6,
  Mark = 7,
  Masquerade = 8,
}

export type Target =
  | { readonly kind: TargetKind.None }
  | { readonly kind: TargetKind.Jump; readonly chain: string }
  | { readonly kind: TargetKind.Accept | TargetKind.Drop | TargetKind.Return }
  | { readonly kind: TargetKind.Reject; readonly rejectWith: string }
  | {
      readonly kind: TargetKind.Dnat;
      readonly ip: number;
      readonly ipString: string;
      /** 0 when --to-destination names no port. */
      readonly port: number;
    }
  /** MARK normalised as the kernel's xt_mark_tginfo2: mark = (mark & ~mask) ^ value. */
  | { readonly kind: TargetKind.Mark; readonly value: number; readonly mask: number }
  | { readonly kind: TargetKind.Masquerade; readonly randomFully: boolean };

/** One rule. Unset addresses have prefix -1; proto 0 means all. */
export interface Rule {
  readonly chain: string;
  /** The rule as written to iptables-restore (`-A CHAIN ...`). */
  readonly line: string;
  readonly src: number;
  readonly srcMask: number;
  readonly srcPrefix: number;
  readonly srcInv: boolean;
  readonly dst: number;
  readonly dstMask: number;
  readonly dstPrefix: number;
  readonly dstInv: boolean;
  readonly inIface: string;
  readonly inInv: boolean;
  readonly outIface: string;
  readonly outInv: boolean;
  readonly proto: number;
  readonly protoInv: boolean;
  readonly matches: readonly Match[];
  readonly target: Target;
}

export interface Chain {
  readonly name: string;
  readonly builtin: boolean;
  /** Built-in chains only. */
  readonly policy: 'ACCEPT' | 'DROP' | undefined;
  /** This chain's rules are table.rules[first, first + count). */
  readonly first: number;
  readonly count: number;
}

/** Per-rule and per-policy packet/byte counters (iptables -v, iptables-save -c). */
export class Counters {
  readonly pkts: Float64Array;
  readonly bytes: Float64Array;
  /** Indexed by chain index; only built-in chains use them (the builder sizes them so). */
  readonly policyPkts: Float64Array;
  readonly policyBytes: Float64Array;
  constructor(rules: number, chains: number) {
    this.pkts = new Float64Array(rules);
    this.bytes = new Float64Array(rules);
    this.policyPkts = new Float64Array(chains);
    this.policyBytes = new Float64Array(chains);
  }
}

export interface Table {
  readonly name: TableName;
  /**
   * Built-ins first (BUILTIN_CHAINS order), then user chains: the compiler's in no
   * particular order (a full sort of 100k names per sync is wasted on the evaluator);
   * views print them in chainPrintOrder(). Chain objects are made on first read (views
   * and tests); the evaluator reads the chain columns below.
   */
  readonly chains: readonly Chain[];
  readonly chainIndex: ReadonlyMap<string, number>;
  readonly chainName: readonly string[];
  /** The fixed chains' names (chainName's first fixedChains), and the number of chains. */
  readonly fixedNames: readonly string[];
  readonly chainCount: number;
  /** Chain c's rules are [chainFirst[c], chainEnd[c]). */
  readonly chainFirst: Int32Array;
  readonly chainEnd: Int32Array;
  /** The first `builtins` chains are the built-ins; chainDrop[c] = 1 for policy DROP. */
  readonly builtins: number;
  /**
   * Chains [0, fixedChains) are the fixed ones, their rules from `fixedAt` on; the service
   * fragments' chains follow, their rules before `fixedAt` (each range in chain order).
   */
  readonly fixedChains: number;
  readonly fixedAt: number;
  readonly chainDrop: Uint8Array;
  /** Number of rules. */
  readonly size: number;
  /**
   * Every rule as an object, grouped by chain in chain order: made on first read from
   * `objRules` and the service fragments (the evaluator and views do not need them).
   */
  readonly rules: readonly Rule[];
  /**
   * The rules as columns (rule-columns.ts), what the evaluator walks: each rule's
   * IP-header part packed like the kernel's contiguous ipt_entry blob (hdr[4i..4i+3] =
   * src, srcMask, dst, dstMask; hflags[i] = HDR_* bits; hproto[i]), its match modules as
   * op codes, its target kind and arguments (targA of a jump: the target chain's index).
   */
  readonly cols: RuleColumns;
  /** Rule i's one conntrack or mark op when that is its only test (walk inlines it), else 0. */
  readonly single: Uint8Array;
  /** Chain index -> number of rules jumping to it (iptables -L "references"). */
  readonly references: Uint32Array;
  readonly counters: Counters;
  /** Rules kept as objects (fixed and loaded rules): cols.owner -1 - k is objRules[k]. */
  readonly objRules: readonly Rule[];
  /** Service fragments: cols.owner k >= 0 is fragments[k]'s rule. */
  readonly fragments: readonly ServiceFragment[];
}

/** hflags bits. HDR_SLOW: interfaces or match modules, which need the op columns. */
export const HDR_SRC = 1;
export const HDR_SRC_INV = 2;
export const HDR_DST = 4;
export const HDR_DST_INV = 8;
export const HDR_PROTO = 16;
export const HDR_PROTO_INV = 32;
export const HDR_SLOW = 64;

export interface RuleSet {
  readonly filter: Table;
  readonly nat: Table;
  /** kube-proxy's iptables-restore payload, one entry per line (no trailing newlines). */
  readonly restoreLines: readonly string[];
}

/** The kube-proxy iptables-restore payload as one string. */
export function restoreText(rs: RuleSet): string {
  return rs.restoreLines.join('\n') + '\n';
}

export function tableOf(rs: RuleSet, name: TableName): Table {
  return name === 'filter' ? rs.filter : rs.nat;
}

const printOrders = new WeakMap<Table, Uint32Array>();

/** Chain indices as iptables lists them: built-ins, then user chains sorted by name. */
export function chainPrintOrder(t: Table): Uint32Array {
  let o = printOrders.get(t);
  if (o === undefined) {
    const names = t.chainName;
    const idx = Array.from(names.keys());
    const builtins = t.builtins;
    const user = idx.slice(builtins);
    user.sort((a, b) => {
      const x = names[a]!;
      const y = names[b]!;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    o = Uint32Array.from([...idx.slice(0, builtins), ...user]);
    printOrders.set(t, o);
  }
  return o;
}

/** Number of rules in a table, or in one chain of it. */
export function ruleCount(t: Table, chain?: string): number {
  if (chain === undefined) return t.size;
  const i = t.chainIndex.get(chain);
  return i === undefined ? 0 : t.chainEnd[i]! - t.chainFirst[i]!;
}
