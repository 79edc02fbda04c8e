// Conntrack: one node's connection tracker, the object the dataplane holds. It ties the table
// to the protocol trackers and the timeouts. Call sequence per packet (all times in ms):
//
//   ICMP error?  ref = ct.related(...)          -> RELATED in direction ref & 1, or untracked
//   ref = ct.lookup(proto, src, dst, sport, dport, now)
//   hit:  v = ct.tcpPacket(ref, ...) / udpPacket / icmpPacket   (REPEAT: handle as a miss)
//   miss: ct.newAllowed(...)  false -> ctstate INVALID
//         ct.makeRoom(...)    false -> drop, reason TABLE_FULL_REASON
//         proxier decides the NAT; e = ct.insert(orig tuple, reply tuple after NAT, now)
//         v = ct.tcpPacket(e * 2, ...) etc.
//   then rewrite the packet to table.natSrc/natDst/natSport/natDport(ref) when the status
//   has DST_NAT / SRC_NAT.

import { CtStatus, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from './constants.ts';
import type { CtVerdict } from './constants.ts';
import { matches, snapshot } from './entries.ts';
import type { CtEntry, CtFilter } from './entries.ts';
import { icmpCanCreate, icmpPacket, lookupRelated } from './icmp.ts';
import { ConntrackTable } from './table.ts';
import type { CtStats } from './stats.ts';
import type { TableOptions } from './table.ts';
import { TcpTracker } from './tcp.ts';
import { resolveTimeouts, tcpTimeoutTable } from './timeouts.ts';
import type { Timeouts } from './timeouts.ts';
import { udpPacket } from './udp.ts';

export interface ConntrackConfig extends TableOptions {
  /** Overrides of the Linux default timeouts, in seconds. */
  readonly timeouts?: Partial<Timeouts>;
  /** nf_conntrack_tcp_loose (default true). */
  readonly tcpLoose?: boolean;
  /** nf_conntrack_tcp_be_liberal (default false). */
  readonly tcpBeLiberal?: boolean;
  /** nf_conntrack_tcp_max_retrans (default 3). */
  readonly tcpMaxRetrans?: number;
  /** nf_conntrack_tcp_ignore_invalid_rst (default false). */
  readonly tcpIgnoreInvalidRst?: boolean;
}

export class Conntrack {
  readonly table: ConntrackTable;
  readonly timeouts: Timeouts;
  readonly tcp: TcpTracker;
  private readonly udpMs: number;
  private readonly udpStreamMs: number;
  private readonly icmpMs: number;

  constructor(cfg: ConntrackConfig = {}) {
    this.table = new ConntrackTable(cfg);
    this.timeouts = resolveTimeouts(cfg.timeouts);
    this.tcp = new TcpTracker(this.table, tcpTimeoutTable(this.timeouts), {
      loose: cfg.tcpLoose ?? true,
      beLiberal: cfg.tcpBeLiberal ?? false,
      maxRetrans: cfg.tcpMaxRetrans ?? 3,
      ignoreInvalidRst: cfg.tcpIgnoreInvalidRst ?? false,
    });
    this.udpMs = this.timeouts.udp * 1000;
    this.udpStreamMs = this.timeouts.udpStream * 1000;
    this.icmpMs = this.timeouts.icmp * 1000;
  }

  get stats(): CtStats {
    return this.table.stats;
  }

  /** nf_conntrack_count (conntrack -C). */
  get count(): number {
    return this.table.count;
  }

  /** Find the flow of a packet: ref = entry*2 + dir, or -1. ICMP: sport = id, dport = icmpKey. */
  lookup(proto: number, src: number, dst: number, sport: number, dport: number, now: number) {
    return this.table.lookup(proto, src, dst, sport, dport, now);
  }

  /**
   * On a miss: may this packet start a flow? TCP needs a SYN (or an ACK with loose pickup),
   * ICMP a query type; UDP always can. Other protocols are not tracked here. A refused
   * TCP/ICMP packet is counted `invalid`.
   */
  newAllowed(proto: number, tcpFlags: number, icmpType: number): boolean {
    if (proto === IPPROTO_UDP) return true;
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_ICMP) return false;
    const ok = proto === IPPROTO_TCP ? this.tcp.canCreate(tcpFlags) : icmpCanCreate(icmpType);
    if (!ok) this.table.stats.invalid++;
    return ok;
  }

  /** Room for a new flow (early-dropping if full)? false: drop with TABLE_FULL_REASON. */
  makeRoom(proto: number, src: number, dst: number, sport: number, dport: number, now: number) {
    return this.table.makeRoom(proto, src, dst, sport, dport, now);
  }

  /** Insert a flow with its post-NAT reply tuple; entry index or InsertError. See table.insert. */
  insert(
    proto: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    rsrc: number,
    rdst: number,
    rsport: number,
    rdport: number,
    now: number,
    mark = 0,
  ): number {
    return this.table.insert(proto, src, dst, sport, dport, rsrc, rdst, rsport, rdport, now, mark);
  }

  /** Track a TCP segment; see TcpTracker.packet. */
  tcpPacket(
    ref: number,
    now: number,
    bytes: number,
    flags: number,
    seq: number,
    ack: number,
    win: number,
    payloadLen: number,
    wscale = -1,
  ): CtVerdict {
    return this.tcp.packet(ref, now, bytes, flags, seq, ack, win, payloadLen, wscale);
  }

  /** Track a UDP datagram. */
  udpPacket(ref: number, now: number, bytes: number): CtVerdict {
    return udpPacket(this.table, this.udpMs, this.udpStreamMs, ref, now, bytes);
  }

  /** Track an ICMP query or reply. */
  icmpPacket(ref: number, now: number, bytes: number): CtVerdict {
    return icmpPacket(this.table, this.icmpMs, ref, now, bytes);
  }

  /** The flow an ICMP error is RELATED to; see icmp.ts lookupRelated. */
  related(
    proto: number,
    qsrc: number,
    qdst: number,
    qsport: number,
    qdport: number,
    outerDst: number,
    now: number,
  ): number {
    return lookupRelated(this.table, proto, qsrc, qdst, qsport, qdport, outerDst, now);
  }

  /** Reap expired entries from the next `budget` buckets; returns how many. */
  gc(now: number, budget?: number): number {
    return this.table.gc(now, budget);
  }

  /** Confirmed (first packet done), unexpired and matching: what a netlink dump would see. */
  private dumpable(e: number, filter: CtFilter): boolean {
    return (this.table.status[e]! & CtStatus.CONFIRMED) !== 0 && matches(this.table, e, filter);
  }

  /** Snapshots of the live entries matching `filter`, in dump order (conntrack -L). */
  list(now: number, filter: CtFilter = {}): CtEntry[] {
    const out: CtEntry[] = [];
    this.table.forEach(now, (e) => {
      if (this.dumpable(e, filter)) out.push(snapshot(this.table, e, now));
    });
    return out;
  }

  /** Delete matching entries (conntrack -D); returns snapshots of what was deleted. */
  deleteWhere(now: number, filter: CtFilter): CtEntry[] {
    const out: CtEntry[] = [];
    this.table.forEach(now, (e) => {
      if (!this.dumpable(e, filter)) return;
      out.push(snapshot(this.table, e, now));
      this.table.remove(e);
    });
    return out;
  }

  /**
   * Delete the `proto` entries for which `stale(origDst, origDport, replySrc)` holds; returns
   * how many (kube-proxy's CleanStaleEntries decides on exactly these three fields).
   */
  deleteIf(
    now: number,
    proto: number,
    stale: (origDst: number, origDport: number, replySrc: number) => boolean,
  ): number {
    const t = this.table;
    let n = 0;
    t.forEach(now, (e) => {
      if (t.proto[e] !== proto) return;
      const o = e * 2;
      if (!stale(t.tupleDst(o), t.tuplePorts(o) & 0xffff, t.tupleSrc(o + 1))) return;
      t.remove(e);
      n++;
    });
    return n;
  }

  /** Remove everything (conntrack -F); returns the number removed. */
  flush(): number {
    return this.table.flush();
  }
}
