// The sync's rule writer: the same RuleSink calls as RuleWriter (rule-writer.ts), written
// straight into the nat table's integer columns (rule-columns.ts), with no object, string
// or list per rule. Rules of shared chains (KUBE-SERVICES, ...) move to their chain's run
// as they are placed; a service port's own chains are usually written one after another,
// and finish() regroups the rules of one that interleaves them (KUBE-EXT between a
// KUBE-SVC's first rule and the rest, as kube-proxy writes them).
import { prefixMask } from '../../packet/addr.ts';
import { parseAddr } from './parse.ts';
import { OP_ADDRTYPE, OP_PORT, OP_STATISTIC, RuleColumns } from './rule-columns.ts';
import { recent } from './rule-writer.ts';
import type { DnatEndpoint, RuleSink } from './rule-writer.ts';
import {
  HDR_DST,
  HDR_PROTO,
  HDR_SLOW,
  HDR_SRC,
  HDR_SRC_INV,
  RecentMode,
  TargetKind,
} from './rules.ts';
import type { Match, Table, Target, MatchKind } from './rules.ts';
import { FragmentPlace } from './service-fragment.ts';
import type { FragmentSink, OwnedChainRef } from './service-fragment.ts';
import type { EndpointKey, PortNames } from './compile-cache.ts';

const PROTO_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** One of the service port's own chains, by its place in first-use order. */
interface Slot extends OwnedChainRef {
  /** A KUBE-SEP chain's endpoint (its name, '' here, is made when a view asks). */
  readonly ep: EndpointKey | undefined;
  readonly slot: number;
  declared: boolean;
  /** Its chain index in the table. */
  readonly chain: number;
}

/** Where rules go: the tables' builders (builder.ts). */
export interface FragmentTarget {
  /** The column run of a fixed chain of `table` (rules are appended to it). */
  chainRun(table: 'nat' | 'filter', chain: string): RuleColumns;
  /** The owned chains' rules (nat): the table's own columns, written in place. */
  readonly owned: RuleColumns;
  /** A new owned chain: its chain index; place() sets its rules once written. */
  addOwnedChain(name: string): number;
  place(chain: number, first: number, end: number): void;
  /** The chain index of a fixed nat chain (a jump target). */
  fixedChain(name: string): number;
  /** Chains [from, to) of `t`, their rules moved by `shift`, as new owned chains (named by their fragments). */
  copyOwnedChains(t: Table, from: number, to: number, shift: number): void;
  /** The index the next owned chain gets. */
  nextChain(): number;
  /** Each table's fixed chains (the same names, in the same order, in every rule set of a proxier). */
  readonly fixed: { readonly nat: readonly string[]; readonly filter: readonly string[] };
}

const recentMatches = new Map<string, Match>();

function recentMatch(name: string, mode: RecentMode, seconds: number, reap: boolean): Match {
  const key = `${name} ${mode} ${seconds} ${reap}`;
  let m = recentMatches.get(key);
  if (m === undefined) {
    m = recent(name, mode, seconds, reap);
    // Bounded: a cluster's affinity endpoints; cleared wholesale past a large size.
    if (recentMatches.size > 100_000) recentMatches.clear();
    recentMatches.set(key, m);
  }
  return m;
}

/** Writes one service port's rules (RuleSink + FragmentSink) into columns. */
export class ColumnWriter implements RuleSink<number>, FragmentSink<number> {
  readonly comments = false;
  private readonly run: RuleColumns;
  /** The fragment's first rule in `run`. */
  private at = 0;
  /** Per rule from `at` on: its owned chain slot (-2: not yet placed). */
  private dest: number[] = [];
  private slots: Slot[] = [];
  private bySlotName: Map<string, Slot> | undefined;
  /** KUBE-SEP slots by `ip:port`, once a fragment has many chains. */
  private byEndpoint: Map<string, Slot> | undefined;
  /** The fragment's chain names (its KUBE-SEP chains are named from them when asked). */
  private portNames: PortNames | undefined;
  private readonly addrs = new Map<string, { addr: number; prefix: number }>();
  private chain = '';
  private rule = -1;
  private flags = 0;
  private portOp = -1;
  private owner = 0;
  /** Whether the fragment wrote rules into shared nat / filter chains. */
  private sharedNat = false;
  private sharedFilter = false;
  private shared: number[] = [];
  private chainBase = 0;
  /** Scratch for regrouping a fragment whose chains interleave. */
  private readonly scratch = new RuleColumns(64);

  constructor(private readonly out: FragmentTarget) {
    this.run = out.owned;
  }

  /** Start service fragment number `owner`. */
  start(owner: number): void {
    this.owner = owner;
    this.at = this.run.n;
    this.dest.length = 0;
    this.slots = [];
    this.bySlotName = undefined;
    this.byEndpoint = undefined;
    this.portNames = undefined;
    this.sharedNat = false;
    this.sharedFilter = false;
    this.shared = [];
    this.chainBase = -1;
  }

  // FragmentSink

  owned(name: string): Slot {
    const by = this.bySlotName;
    if (by !== undefined) {
      const s = by.get(name);
      if (s !== undefined) return s;
    } else {
      const ss = this.slots;
      for (let i = 0; i < ss.length; i++) if (ss[i]!.name === name) return ss[i]!;
    }
    const s = this.newSlot(name, undefined);
    if (by !== undefined) by.set(name, s);
    return s;
  }

  private newSlot(name: string, ep: EndpointKey | undefined): Slot {
    const s: Slot = {
      name,
      ep,
      slot: this.slots.length,
      declared: false,
      chain: this.out.addOwnedChain(name),
    };
    if (s.slot === 0) this.chainBase = s.chain;
    this.slots.push(s);
    if (this.slots.length === 17) {
      // Many chains (a service port with many endpoints): look them up by key from now on.
      this.bySlotName = new Map();
      this.byEndpoint = new Map();
      for (const x of this.slots) {
        if (x.ep === undefined) this.bySlotName.set(x.name, x);
        else this.byEndpoint.set(`${x.ep.ipString}:${x.ep.port}`, x);
      }
    }
    return s;
  }

  endpointChain(names: PortNames, ep: EndpointKey, declare: boolean): Slot {
    if (this.portNames !== names) {
      if (this.portNames !== undefined) throw new Error('one PortNames per fragment');
      this.portNames = names;
    }
    const { ipString, port } = ep;
    let s: Slot | undefined;
    const by = this.byEndpoint;
    if (by !== undefined) s = by.get(`${ipString}:${port}`);
    else {
      const ss = this.slots;
      for (let i = 0; i < ss.length; i++) {
        const e = ss[i]!.ep;
        if (e !== undefined && e.port === port && e.ipString === ipString) {
          s = ss[i]!;
          break;
        }
      }
    }
    if (s === undefined) {
      s = this.newSlot('', ep);
      if (by !== undefined) by.set(`${ipString}:${port}`, s);
    }
    if (declare) s.declared = true;
    return s;
  }

  /** A slot's chain name (KUBE-SEP names are made here, for errors only). */
  private slotName(s: Slot): string {
    return s.ep === undefined ? s.name : this.portNames!.endpoint(s.ep);
  }

  declare(name: string): Slot {
    const s = this.owned(name);
    s.declared = true;
    return s;
  }

  ownedRule(c: OwnedChainRef, r: number): void {
    this.dest[r - this.at] = (c as Slot).slot;
  }

  natRule(r: number): void {
    this.moveOut('nat', r);
  }

  filterRule(r: number): void {
    this.moveOut('filter', r);
  }

  /** A shared chain's rule (always the one just written) moves to that chain's run. */
  private moveOut(table: 'nat' | 'filter', r: number): void {
    const run = this.run;
    if (r !== run.n - 1) throw new Error(`${this.chain}: shared rule placed late`);
    const k = this.out.chainRun(table, this.chain).copyRule(run, r);
    this.shared.push(table === 'nat' ? 0 : 1, this.fixedIndex(table, this.chain), k);
    run.pop();
    this.dest.length = r - this.at;
    if (table === 'nat') this.sharedNat = true;
    else this.sharedFilter = true;
  }

  private fixedIndex(table: 'nat' | 'filter', chain: string): number {
    const i = this.out.fixed[table].indexOf(chain);
    if (i < 0) throw new Error(`no chain ${chain}`);
    return i;
  }

  /**
   * Instead of writing fragments: copy their rules from the rule set they were last linked
   * into, whose fixed chains are this build's. `ps` lie one after another there (see
   * ServiceFragment.followedBy); the first becomes fragment number `owner`.
   */
  replay(ps: readonly FragmentPlace[], owner: number): FragmentPlace[] {
    const out = this.out;
    const run = this.run;
    const first = ps[0]!;
    const last = ps[ps.length - 1]!;
    const old = first.nat;
    const fixedChains = old.fixedChains;
    const chainDelta = out.nextChain() - first.chainBase;
    const ownerDelta = owner - first.number;
    const at = run.n;
    const shift = at - first.ownedFirst;
    out.copyOwnedChains(old, first.chainBase, last.chainBase + last.chains, shift);
    run.appendFrom(old.cols, first.ownedFirst, last.ownedEnd, ownerDelta, fixedChains, chainDelta);
    const places: FragmentPlace[] = [];
    for (const p of ps) {
      const shared: number[] = [];
      for (let j = 0; j < p.shared.length; j += 3) {
        const table = p.shared[j] === 0 ? 'nat' : 'filter';
        const c = p.shared[j + 1]!;
        const into = out.chainRun(table, out.fixed[table][c]!);
        const i = into.copyRule((table === 'nat' ? p.nat : p.filter).cols, p.shared[j + 2]!);
        into.owner[i]! += ownerDelta;
        if (into.target[i] === TargetKind.Jump && into.targA[i]! >= fixedChains) {
          into.targA[i]! += chainDelta;
        }
        shared.push(p.shared[j]!, c, i);
      }
      places.push(
        new FragmentPlace(
          p.ownedFirst + shift,
          p.ownedEnd + shift,
          p.chainBase + chainDelta,
          p.chains,
          p.names,
          p.portNames,
          shared,
          p.shape,
        ),
      );
    }
    return places;
  }

  // RuleSink

  begin(chain: string): this {
    this.chain = chain;
    const run = this.run;
    const i = (this.rule = run.add());
    const hdr = run.hdr;
    const k = i << 2;
    hdr[k] = hdr[k + 1] = hdr[k + 2] = hdr[k + 3] = 0;
    run.owner[i] = this.owner;
    this.flags = 0;
    this.portOp = -1;
    return this;
  }
  comment(): this {
    return this;
  }

  proto_(p: string): this {
    this.run.hproto[this.rule] = PROTO_NUMBERS[p] ?? 0;
    this.flags |= HDR_PROTO | HDR_SLOW;
    this.portOp = this.run.addOp(OP_PORT, 0, 65535, 0, 65535, 0);
    return this;
  }

  dstHost(_ipString: string, ip: number): this {
    const k = this.rule << 2;
    this.run.hdr[k + 2] = ip >>> 0;
    this.run.hdr[k + 3] = 0xffffffff;
    this.flags |= HDR_DST;
    return this;
  }

  private parse(text: string): { addr: number; prefix: number } {
    let a = this.addrs.get(text);
    if (a === undefined) {
      a = parseAddr([this.chain, text], text);
      this.addrs.set(text, a);
    }
    return a;
  }

  source(text: string, inv = false, ip?: number): this {
    const k = this.rule << 2;
    if (ip !== undefined) {
      this.run.hdr[k] = ip >>> 0;
      this.run.hdr[k + 1] = 0xffffffff;
    } else {
      const a = this.parse(text);
      this.run.hdr[k] = a.addr;
      this.run.hdr[k + 1] = prefixMask(a.prefix);
    }
    this.flags |= HDR_SRC | (inv ? HDR_SRC_INV : 0);
    return this;
  }

  dstNet(text: string): this {
    const a = this.parse(text);
    const k = this.rule << 2;
    this.run.hdr[k + 2] = a.addr;
    this.run.hdr[k + 3] = prefixMask(a.prefix);
    this.flags |= HDR_DST;
    return this;
  }

  nfacct(): this {
    return this;
  }

  dport_(port: number): this {
    const a = this.portOp << 2;
    this.run.arg[a + 2] = port;
    this.run.arg[a + 3] = port;
    return this;
  }

  addrType(match: Match): this {
    const m = match as Extract<Match, { kind: MatchKind.AddrType }>;
    const inv = (m.srcInv ? 1 : 0) | (m.dstInv ? 2 : 0);
    this.run.addOp(OP_ADDRTYPE, m.srcType !== '' ? 1 : 0, m.dstType !== '' ? 1 : 0, 0, 0, inv);
    this.flags |= HDR_SLOW;
    return this;
  }

  statistic(p: string): this {
    this.run.addOp(OP_STATISTIC, Math.round(0x80000000 * Number(p)), 0, 0, 0, 0);
    this.flags |= HDR_SLOW;
    return this;
  }

  recentSet(name: string): this {
    this.run.addObjectOp(recentMatch(name, RecentMode.Set, 0, false));
    this.flags |= HDR_SLOW;
    return this;
  }

  recentCheck(name: string, seconds: string): this {
    this.run.addObjectOp(recentMatch(name, RecentMode.Check, Number(seconds) >>> 0, true));
    this.flags |= HDR_SLOW;
    return this;
  }

  jump(chain: string): number {
    return this.end(TargetKind.Jump, this.owned(chain).chain, 0);
  }

  jumpTo(chain: OwnedChainRef): number {
    return this.end(TargetKind.Jump, (chain as Slot).chain, 0);
  }

  verdict(name: 'ACCEPT' | 'DROP' | 'REJECT'): number {
    const k =
      name === 'ACCEPT' ? TargetKind.Accept : name === 'DROP' ? TargetKind.Drop : TargetKind.Reject;
    return this.end(k, 0, 0);
  }

  dnat(ep: DnatEndpoint): number {
    return this.end(TargetKind.Dnat, ep.ip | 0, ep.port);
  }

  none(): number {
    return this.end(TargetKind.None, 0, 0);
  }

  target(t: Target, name: string): number {
    if (t.kind !== TargetKind.Jump) throw new Error(`target(${name}): only jumps are shared`);
    return this.end(TargetKind.Jump, this.out.fixedChain(name), 0);
  }

  private end(kind: TargetKind, a: number, b: number): number {
    const i = this.rule;
    const run = this.run;
    run.hflags[i] = this.flags;
    run.target[i] = kind;
    run.targA[i] = a;
    run.targB[i] = b;
    this.dest[i - this.at] = -2; // not yet placed
    return i;
  }

  /**
   * Close the fragment: every owned chain used must be declared, and each chain's rules
   * must be consecutive (they are regrouped, in chain order, when they are not).
   */
  finish(): FragmentPlace {
    const run = this.run;
    const at = this.at;
    const n = run.n - at;
    const slots = this.slots;
    const dest = this.dest;
    let declared = false;
    for (const s of slots) {
      if (s.declared) declared = true;
      else {
        const used = dest.includes(s.slot);
        const name = this.slotName(s);
        throw new Error(used ? `nat: rules for undeclared chain ${name}` : `nat: no chain ${name}`);
      }
    }
    // Rules in chain order already (the usual case)?
    let grouped = true;
    for (let k = 1; k < n; k++) {
      const d = dest[k]!;
      if (d === -2) throw new Error(`rule ${at + k} written but not placed`);
      if (d < dest[k - 1]!) grouped = false;
    }
    if (n > 0 && dest[0] === -2) throw new Error(`rule ${at} written but not placed`);
    if (!grouped) this.regroup();
    // Chain c's rules are [first, end); an empty chain sits where it would be.
    let k = 0;
    for (const s of slots) {
      const first = at + k;
      while (k < n && dest[k] === s.slot) k++;
      this.out.place(s.chain, first, at + k);
    }
    const names = slots.map((x) => x.ep ?? x.name);
    const place = new FragmentPlace(
      at,
      run.n,
      this.chainBase,
      slots.length,
      names,
      this.portNames,
      this.shared,
      { declared, nat: n > 0 || this.sharedNat, filter: this.sharedFilter },
    );
    return place;
  }

  /** Reorder the fragment's rules by chain slot (stable: write order within a chain). */
  private regroup(): void {
    const run = this.run;
    const at = this.at;
    const n = run.n - at;
    const s = this.scratch;
    s.clear();
    for (let k = 0; k < n; k++) s.copyRule(run, at + k);
    while (run.n > at) run.pop();
    const order = Array.from({ length: n }, (_, k) => k);
    const dest = this.dest;
    order.sort((x, y) => dest[x]! - dest[y]! || x - y);
    const sorted = order.map((k) => dest[k]!);
    for (const k of order) run.copyRule(s, k);
    for (let k = 0; k < n; k++) dest[k] = sorted[k]!;
  }
}
