// Entry snapshots and filters: the edge between the typed-array table and the control plane
// (conntrack -L / -D / -C, kube-proxy's stale-flow cleanup). Not for the per-packet path.

import { IPPROTO_TCP } from './constants.ts';
import type { ConntrackTable } from './table.ts';

/** One direction's tuple. For ICMP, sport is the id and dport is type << 8 | code. */
export interface CtTuple {
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
}

/** A copy of one entry, as conntrack -L sees it. */
export interface CtEntry {
  /** Entry index in the table (stable while the entry lives). */
  readonly id: number;
  readonly proto: number;
  /** Seconds left, rounded down (ctnetlink_dump_timeout: nf_ct_expires() / HZ). */
  readonly timeout: number;
  /** TcpState for TCP entries, -1 otherwise. */
  readonly tcpState: number;
  readonly orig: CtTuple;
  readonly reply: CtTuple;
  /** CtStatus bits. */
  readonly status: number;
  readonly mark: number;
  /** Reference count; always 1 (the table's own reference). */
  readonly use: number;
  readonly origPackets: number;
  readonly origBytes: number;
  readonly replyPackets: number;
  readonly replyBytes: number;
}

/** conntrack -L/-D selectors; every field given must match. Addresses are u32. */
export interface CtFilter {
  readonly proto?: number;
  /** -s / --orig-src */
  readonly origSrc?: number;
  /** -d / --orig-dst */
  readonly origDst?: number;
  /** -r / --reply-src (the backend of a DNAT flow) */
  readonly replySrc?: number;
  /** -q / --reply-dst */
  readonly replyDst?: number;
  readonly origSport?: number;
  readonly origDport?: number;
  readonly replySport?: number;
  readonly replyDport?: number;
  /** -m / --mark */
  readonly mark?: number;
  /** Every one of these CtStatus bits must be set (e.g. DST_NAT for --dst-nat). */
  readonly status?: number;
}

function tupleAt(t: ConntrackTable, n: number): CtTuple {
  const p = t.tuplePorts(n);
  return { src: t.tupleSrc(n), dst: t.tupleDst(n), sport: p >>> 16, dport: p & 0xffff };
}

/** Snapshot entry e at time `now` (ms). */
export function snapshot(t: ConntrackTable, e: number, now: number): CtEntry {
  const o = e * 2;
  const left = t.expires[e]! - now;
  return {
    id: e,
    proto: t.proto[e]!,
    timeout: left > 0 ? Math.floor(left / 1000) : 0,
    tcpState: t.proto[e] === IPPROTO_TCP ? t.l4state[e]! : -1,
    orig: tupleAt(t, o),
    reply: tupleAt(t, o + 1),
    status: t.status[e]!,
    mark: t.mark[e]!,
    use: 1,
    origPackets: t.packetsOf(o),
    origBytes: t.bytesOf(o),
    replyPackets: t.packetsOf(o + 1),
    replyBytes: t.bytesOf(o + 1),
  };
}

/** Does entry e match every field of f? */
export function matches(t: ConntrackTable, e: number, f: CtFilter): boolean {
  const o = e * 2;
  const r = o + 1;
  return (
    (f.proto === undefined || t.proto[e] === f.proto) &&
    (f.origSrc === undefined || t.tupleSrc(o) === f.origSrc >>> 0) &&
    (f.origDst === undefined || t.tupleDst(o) === f.origDst >>> 0) &&
    (f.replySrc === undefined || t.tupleSrc(r) === f.replySrc >>> 0) &&
    (f.replyDst === undefined || t.tupleDst(r) === f.replyDst >>> 0) &&
    (f.origSport === undefined || t.tuplePorts(o) >>> 16 === f.origSport) &&
    (f.origDport === undefined || (t.tuplePorts(o) & 0xffff) === f.origDport) &&
    (f.replySport === undefined || t.tuplePorts(r) >>> 16 === f.replySport) &&
    (f.replyDport === undefined || (t.tuplePorts(r) & 0xffff) === f.replyDport) &&
    (f.mark === undefined || t.mark[e] === f.mark >>> 0) &&
    (f.status === undefined || (t.status[e]! & f.status) === f.status)
  );
}
