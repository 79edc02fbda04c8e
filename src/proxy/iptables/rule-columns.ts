// Rules as integer columns: what the evaluator reads of each rule, and all that a sync
// writes. A large cluster has hundreds of thousands of rules; as objects (rule, match
// list, target, text) they were most of a sync's time (the collector's) and of the heap.
// Here a rule is one slot in a few typed arrays (like the kernel's contiguous ipt_entry
// blob); its text and Rule object are made only when a view asks (table-rules.ts).
import {
  HDR_DST,
  HDR_DST_INV,
  HDR_PROTO,
  HDR_PROTO_INV,
  HDR_SLOW,
  HDR_SRC,
  HDR_SRC_INV,
  MatchKind,
  TargetKind,
} from './rules.ts';
import type { Match, Rule } from './rules.ts';

/** hflags bit: the rule tests -i/-o (only object rules do; the evaluator reads its Rule). */
export const HDR_IFACE = 128;

// Match modules as op codes, four integer parameters each (comments and nfacct always
// match and are left out; every other module is tested, in rule order).
export const OP_PORT = 1;
export const OP_ADDRTYPE = 2;
export const OP_MARK = 3;
export const OP_CONNTRACK = 4;
/** xt_statistic random mode: arg0 = round(p * 2^31). */
export const OP_STATISTIC = 5;
/** Anything with state or strings (xt_recent): evaluated from its Match object. */
export const OP_OBJECT = 6;

/**
 * A growable run of rules in columns. `targA` is the jump target (a chain reference while
 * building, the chain index once linked), DNAT address, MARK value or MASQUERADE's
 * random-fully flag; `targB` the DNAT port or MARK mask. `owner` says where the rule's
 * object comes from: -1 - k for objRules[k], else its service fragment's number.
 */
export class RuleColumns {
  n = 0;
  hdr: Uint32Array;
  hflags: Uint8Array;
  hproto: Uint8Array;
  target: Uint8Array;
  targA: Int32Array;
  targB: Int32Array;
  owner: Int32Array;
  /** Rule i's ops are op[opStart[i] .. opStart[i + 1]) (the last rule's end is nOps). */
  opStart: Int32Array;
  nOps = 0;
  op: Uint8Array;
  arg: Int32Array;
  /** Inversion bits of each op (1: first test, 2: second test). */
  inv: Uint8Array;
  /** The Match of each OP_OBJECT op, by op index. */
  objects: Map<number, Match> | undefined = undefined;

  constructor(rules = 16, ops = rules) {
    this.hdr = new Uint32Array(rules * 4);
    this.hflags = new Uint8Array(rules);
    this.hproto = new Uint8Array(rules);
    this.target = new Uint8Array(rules);
    this.targA = new Int32Array(rules);
    this.targB = new Int32Array(rules);
    this.owner = new Int32Array(rules);
    this.opStart = new Int32Array(rules + 1);
    this.op = new Uint8Array(ops);
    this.arg = new Int32Array(ops * 4);
    this.inv = new Uint8Array(ops);
  }

  clear(): void {
    this.n = 0;
    this.nOps = 0;
    this.objects = undefined;
  }

  /** Start rule `n` (returned), growing the columns when full; the caller fills it. */
  add(): number {
    const i = this.n;
    if (i >= this.hflags.length) this.growRules(2 * i + 16);
    this.opStart[i] = this.nOps;
    this.hflags[i] = 0;
    this.hproto[i] = 0;
    this.targA[i] = 0;
    this.targB[i] = 0;
    this.n = i + 1;
    this.opStart[i + 1] = this.nOps;
    return i;
  }

  /** Append an op to the last rule. */
  addOp(op: number, a0: number, a1: number, a2: number, a3: number, inv: number): number {
    const k = this.nOps;
    if (k >= this.op.length) this.growOps(2 * k + 16);
    this.op[k] = op;
    const a = k << 2;
    this.arg[a] = a0;
    this.arg[a + 1] = a1;
    this.arg[a + 2] = a2;
    this.arg[a + 3] = a3;
    this.inv[k] = inv;
    this.nOps = k + 1;
    this.opStart[this.n] = this.nOps;
    return k;
  }

  /** Remove the last rule (its ops with it). */
  pop(): void {
    const i = --this.n;
    this.nOps = this.opStart[i]!;
    if (this.objects !== undefined)
      for (const k of this.objects.keys()) if (k >= this.nOps) this.objects.delete(k);
  }

  /** Make room for `rules` rules and `ops` ops in all. */
  reserve(rules: number, ops: number): void {
    if (rules > this.hflags.length) this.growRules(rules);
    if (ops > this.op.length) this.growOps(ops);
  }

  /** Cut the columns to their contents when more than a quarter is unused. */
  trim(): void {
    const n = this.n;
    if (this.hflags.length - n > n >> 2) {
      this.hdr = this.hdr.slice(0, 4 * n);
      this.hflags = this.hflags.slice(0, n);
      this.hproto = this.hproto.slice(0, n);
      this.target = this.target.slice(0, n);
      this.targA = this.targA.slice(0, n);
      this.targB = this.targB.slice(0, n);
      this.owner = this.owner.slice(0, n);
      this.opStart = this.opStart.slice(0, n + 1);
    }
    const k = this.nOps;
    if (this.op.length - k > k >> 2) {
      this.op = this.op.slice(0, k);
      this.arg = this.arg.slice(0, 4 * k);
      this.inv = this.inv.slice(0, k);
    }
  }

  addObjectOp(m: Match): void {
    const k = this.addOp(OP_OBJECT, 0, 0, 0, 0, 0);
    (this.objects ??= new Map()).set(k, m);
  }

  growRules(cap: number): void {
    const grow = <T extends Uint8Array | Int32Array | Uint32Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.hdr = grow(this.hdr, cap * 4);
    this.hflags = grow(this.hflags, cap);
    this.hproto = grow(this.hproto, cap);
    this.target = grow(this.target, cap);
    this.targA = grow(this.targA, cap);
    this.targB = grow(this.targB, cap);
    this.owner = grow(this.owner, cap);
    this.opStart = grow(this.opStart, cap + 1);
  }

  growOps(cap: number): void {
    const op = new Uint8Array(cap);
    op.set(this.op);
    this.op = op;
    const arg = new Int32Array(cap * 4);
    arg.set(this.arg);
    this.arg = arg;
    const inv = new Uint8Array(cap);
    inv.set(this.inv);
    this.inv = inv;
  }

  /**
   * Append rules [from, to) of `src` in bulk: owners moved by `ownerDelta`, jumps to chains
   * from `jumpFrom` on by `jumpDelta` (a run of fragments copied into the next rule set).
   */
  appendFrom(
    src: RuleColumns,
    from: number,
    to: number,
    ownerDelta: number,
    jumpFrom: number,
    jumpDelta: number,
  ): void {
    const at = this.n;
    const n = to - from;
    const opFrom = src.opStart[from]!;
    const opTo = src.opStart[to]!;
    const opAt = this.nOps;
    const ops = opTo - opFrom;
    this.reserve(at + n + 1, opAt + ops);
    this.hdr.set(src.hdr.subarray(4 * from, 4 * to), 4 * at);
    this.hflags.set(src.hflags.subarray(from, to), at);
    this.hproto.set(src.hproto.subarray(from, to), at);
    this.target.set(src.target.subarray(from, to), at);
    this.targA.set(src.targA.subarray(from, to), at);
    this.targB.set(src.targB.subarray(from, to), at);
    this.owner.set(src.owner.subarray(from, to), at);
    this.opStart.set(src.opStart.subarray(from, to), at);
    this.op.set(src.op.subarray(opFrom, opTo), opAt);
    this.arg.set(src.arg.subarray(4 * opFrom, 4 * opTo), 4 * opAt);
    this.inv.set(src.inv.subarray(opFrom, opTo), opAt);
    const opShift = opAt - opFrom;
    const opStart = this.opStart;
    const owner = this.owner;
    const target = this.target;
    const targA = this.targA;
    if (opShift !== 0) for (let i = at; i < at + n; i++) opStart[i]! += opShift;
    if (ownerDelta !== 0) for (let i = at; i < at + n; i++) owner[i]! += ownerDelta;
    if (jumpDelta !== 0) {
      for (let i = at; i < at + n; i++) {
        if (target[i] === TargetKind.Jump && targA[i]! >= jumpFrom) targA[i]! += jumpDelta;
      }
    }
    if (src.objects !== undefined) {
      for (const [k, m] of src.objects) {
        if (k >= opFrom && k < opTo) (this.objects ??= new Map()).set(k + opShift, m);
      }
    }
    this.n = at + n;
    this.nOps = opAt + ops;
    opStart[this.n] = this.nOps;
  }

  /** Append rule `i` of `from`; returns the new rule's index. */
  copyRule(from: RuleColumns, i: number): number {
    const j = this.add();
    const k = i << 2;
    const l = j << 2;
    this.hdr[l] = from.hdr[k]!;
    this.hdr[l + 1] = from.hdr[k + 1]!;
    this.hdr[l + 2] = from.hdr[k + 2]!;
    this.hdr[l + 3] = from.hdr[k + 3]!;
    this.hflags[j] = from.hflags[i]!;
    this.hproto[j] = from.hproto[i]!;
    this.target[j] = from.target[i]!;
    this.targA[j] = from.targA[i]!;
    this.targB[j] = from.targB[i]!;
    this.owner[j] = from.owner[i]!;
    const end = i + 1 < from.n ? from.opStart[i + 1]! : from.nOps;
    for (let o = from.opStart[i]!; o < end; o++) {
      const a = o << 2;
      if (from.op[o] === OP_OBJECT) this.addObjectOp(from.objects!.get(o)!);
      else {
        this.addOp(
          from.op[o]!,
          from.arg[a]!,
          from.arg[a + 1]!,
          from.arg[a + 2]!,
          from.arg[a + 3]!,
          from.inv[o]!,
        );
      }
    }
    return j;
  }
}

/**
 * Append an object rule (fixed rules, loaded text) as the compiler would write it;
 * `jumpRef` is the reference stored for a jump's target.
 */
export function encodeRule(c: RuleColumns, r: Rule, owner: number, jumpRef: number): number {
  const i = c.add();
  let f = 0;
  if (r.srcPrefix >= 0) f |= HDR_SRC | (r.srcInv ? HDR_SRC_INV : 0);
  if (r.dstPrefix >= 0) f |= HDR_DST | (r.dstInv ? HDR_DST_INV : 0);
  if (r.proto !== 0) f |= HDR_PROTO | (r.protoInv ? HDR_PROTO_INV : 0);
  if (r.inIface !== '' || r.outIface !== '') f |= HDR_SLOW | HDR_IFACE;
  const k = i << 2;
  c.hdr[k] = r.src;
  c.hdr[k + 1] = r.srcMask;
  c.hdr[k + 2] = r.dst;
  c.hdr[k + 3] = r.dstMask;
  c.hproto[i] = r.proto;
  c.owner[i] = owner;
  for (const m of r.matches) {
    switch (m.kind) {
      case MatchKind.Comment:
      case MatchKind.Nfacct:
        continue;
      case MatchKind.Port:
        c.addOp(
          OP_PORT,
          m.sportLo,
          m.sportHi,
          m.dportLo,
          m.dportHi,
          (m.sportInv ? 1 : 0) | (m.dportInv ? 2 : 0),
        );
        break;
      case MatchKind.AddrType:
        c.addOp(
          OP_ADDRTYPE,
          m.srcType !== '' ? 1 : 0,
          m.dstType !== '' ? 1 : 0,
          0,
          0,
          (m.srcInv ? 1 : 0) | (m.dstInv ? 2 : 0),
        );
        break;
      case MatchKind.Mark:
        c.addOp(OP_MARK, m.mask, m.value, 0, 0, m.invert ? 1 : 0);
        break;
      case MatchKind.Conntrack:
        c.addOp(OP_CONNTRACK, m.states, 0, 0, 0, m.invert ? 1 : 0);
        break;
      case MatchKind.Statistic:
        c.addOp(OP_STATISTIC, m.p31, 0, 0, 0, m.invert ? 1 : 0);
        break;
      default:
        c.addObjectOp(m);
    }
    f |= HDR_SLOW;
  }
  c.hflags[i] = f;
  const t = r.target;
  c.target[i] = t.kind;
  switch (t.kind) {
    case TargetKind.Jump:
      c.targA[i] = jumpRef;
      break;
    case TargetKind.Dnat:
      c.targA[i] = t.ip | 0;
      c.targB[i] = t.port;
      break;
    case TargetKind.Mark:
      c.targA[i] = t.value | 0;
      c.targB[i] = t.mask | 0;
      break;
    case TargetKind.Masquerade:
      c.targA[i] = t.randomFully ? 1 : 0;
      break;
  }
  return i;
}
