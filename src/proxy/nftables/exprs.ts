// Constructors for the matches and statements kube-proxy's nftables rules use, each
// paired with the text nft 1.0.6 prints for it. kube-proxy writes the short forms
// (`mark set mark or 0x4000`, `ip saddr != { 203.0.113.0/25 }`); nft stores them as
// bytecode and prints them back normalised (`meta mark set meta mark | 0x00004000`,
// `ip saddr != 203.0.113.0/25`), and it is the printed form that svclab keeps.
import { prefixMask, u32ToIp } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import type { AffinitySet } from './affinity.ts';
import type { PairTable } from './pair-table.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';
import type { NftAction, NftMatch, NftSet, NftVerdict } from './ruleset.ts';

export interface Part {
  readonly text: string;
  readonly match: NftMatch;
}

export interface Stmt {
  readonly text: string;
  readonly action: NftAction;
}

const NO_RANGES = new Uint32Array(0);

function match(kind: MatchKind, text: string, init: Partial<NftMatch> = {}): Part {
  return {
    text,
    match: {
      kind,
      neg: false,
      value: 0,
      mask: 0,
      proto: 0,
      ranges: NO_RANGES,
      set: null,
      dyn: null,
      ...init,
    },
  };
}

function stmt(kind: ActionKind, text: string, init: Partial<NftAction> = {}): Stmt {
  return {
    text,
    action: {
      kind,
      verdict: null,
      map: null,
      entries: [],
      value: 0,
      port: 0,
      dyn: null,
      randomFully: false,
      ...init,
    },
  };
}

export const PROTO_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** `0x%08x`, as nft prints marks. */
export function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** A prefix as nft prints it: a /32 is a bare address. */
export function formatPrefix(c: Cidr): string {
  return c.prefix === 32 ? u32ToIp(c.base) : `${u32ToIp(c.base)}/${c.prefix}`;
}

/** An inclusive range as nft prints an interval element: address, prefix, or a-b. */
function formatRange(lo: number, hi: number): string {
  if (lo === hi) return u32ToIp(lo);
  const size = hi - lo + 1;
  if ((size & (size - 1)) === 0 || size === 2 ** 32) {
    const prefix = 32 - Math.log2(size);
    if ((lo & prefixMask(prefix)) >>> 0 === lo) return `${u32ToIp(lo)}/${prefix}`;
  }
  return `${u32ToIp(lo)}-${u32ToIp(hi)}`;
}

/**
 * An anonymous interval set `{ a, b/n }`: nft merges overlapping and adjacent
 * intervals (automerge) and prints them sorted; a one-element set prints bare.
 */
export function addressSet(cidrs: readonly Cidr[]): { text: string; ranges: Uint32Array } {
  const iv = cidrs
    .map((c) => [c.base, (c.base + 2 ** (32 - c.prefix) - 1) >>> 0] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of iv) {
    const last = merged[merged.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  const ranges = new Uint32Array(merged.flat());
  if (cidrs.length === 1) return { text: formatPrefix(cidrs[0]!), ranges };
  return { text: `{ ${merged.map(([lo, hi]) => formatRange(lo, hi)).join(', ')} }`, ranges };
}

export const ctStateNew = (): Part => match(MatchKind.CtState, 'ct state new', { value: 1 << 3 });

/** `ip saddr|daddr [!=] A[/n]`. */
export function addr(side: 'saddr' | 'daddr', c: Cidr, neg = false): Part {
  const kind = side === 'saddr' ? MatchKind.Saddr : MatchKind.Daddr;
  const op = neg ? '!= ' : '';
  return match(kind, `ip ${side} ${op}${formatPrefix(c)}`, {
    neg,
    value: c.base,
    mask: prefixMask(c.prefix),
  });
}

/** `ip saddr|daddr [!=] { ... }` (bare when one element). */
export function addrIn(side: 'saddr' | 'daddr', cidrs: readonly Cidr[], neg = false): Part {
  const kind = side === 'saddr' ? MatchKind.SaddrRanges : MatchKind.DaddrRanges;
  const s = addressSet(cidrs);
  return match(kind, `ip ${side} ${neg ? '!= ' : ''}${s.text}`, { neg, ranges: s.ranges });
}

/** `ip daddr @set` over a static address set. */
export const daddrInSet = (name: string, set: PairTable): Part =>
  match(MatchKind.DaddrInSet, `ip daddr @${name}`, { set });

/** `ip saddr @affinity-...`. */
export const saddrInDynSet = (dyn: AffinitySet): Part =>
  match(MatchKind.SaddrInDynSet, `ip saddr @${dyn.name}`, { dyn });

export const l4proto = (proto: string): Part =>
  match(MatchKind.L4Proto, `meta l4proto ${proto}`, { value: PROTO_NUMBERS[proto] ?? 0 });

/** `tcp dport 80`. */
export const dport = (proto: string, port: number): Part =>
  match(MatchKind.Dport, `${proto} dport ${port}`, {
    proto: PROTO_NUMBERS[proto] ?? 0,
    value: port,
  });

export const fibSaddrLocal = (): Part => match(MatchKind.FibSaddrLocal, 'fib saddr type local');
export const fibDaddrLocal = (): Part => match(MatchKind.FibDaddrLocal, 'fib daddr type local');

/** `mark and M == V` prints as `meta mark & 0x0000M == 0x0000V`. */
export const markAnd = (mask: number, value: number): Part =>
  match(MatchKind.MarkAnd, `meta mark & ${hex8(mask)} == ${hex8(value)}`, { mask, value });

export function verdict(kind: VerdictKind, target = ''): NftVerdict {
  const word = ['jump', 'goto', 'return', 'accept', 'drop'][kind]!;
  return { kind, target, chain: -1, text: target === '' ? word : `${word} ${target}` };
}

export const jump = (chain: string): Stmt => verdictStmt(verdict(VerdictKind.Jump, chain));
export const goto = (chain: string): Stmt => verdictStmt(verdict(VerdictKind.Goto, chain));
export const ret = (): Stmt => verdictStmt(verdict(VerdictKind.Return));
export const drop = (): Stmt => verdictStmt(verdict(VerdictKind.Drop));

function verdictStmt(v: NftVerdict): Stmt {
  return stmt(ActionKind.Verdict, v.text, { verdict: v });
}

export const reject = (): Stmt => stmt(ActionKind.Reject, 'reject');

/** `ip daddr . meta l4proto . th dport vmap @map`. */
export const vmapAddrProtoPort = (map: NftSet): Stmt =>
  stmt(ActionKind.VmapAddrProtoPort, `ip daddr . meta l4proto . th dport vmap @${map.name}`, {
    map,
  });

/** `meta l4proto . th dport vmap @map`. */
export const vmapProtoPort = (map: NftSet): Stmt =>
  stmt(ActionKind.VmapProtoPort, `meta l4proto . th dport vmap @${map.name}`, { map });

/** `numgen random mod N vmap { 0 : goto a, 1 : goto b }`. */
export function numgen(targets: readonly string[]): Stmt {
  const entries = targets.map((t) => verdict(VerdictKind.Goto, t));
  const body = entries.map((v, i) => `${i} : ${v.text}`).join(', ');
  return stmt(ActionKind.Numgen, `numgen random mod ${targets.length} vmap { ${body} }`, {
    entries,
  });
}

export const markOr = (v: number): Stmt =>
  stmt(ActionKind.MarkOr, `meta mark set meta mark | ${hex8(v)}`, { value: v });
export const markXor = (v: number): Stmt =>
  stmt(ActionKind.MarkXor, `meta mark set meta mark ^ ${hex8(v)}`, { value: v });

export const updateSaddr = (dyn: AffinitySet): Stmt =>
  stmt(ActionKind.UpdateSaddr, `update @${dyn.name} { ip saddr }`, { dyn });

export const dnat = (ip: number, port: number): Stmt =>
  stmt(ActionKind.Dnat, `dnat to ${u32ToIp(ip)}:${port}`, { value: ip, port });

export const masquerade = (randomFully: boolean): Stmt =>
  stmt(ActionKind.Masquerade, randomFully ? 'masquerade fully-random' : 'masquerade', {
    randomFully,
  });
