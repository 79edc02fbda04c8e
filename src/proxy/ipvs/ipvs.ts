// The IPVS "kernel module": the service table, the connection table, timeouts and the
// per-packet entry points the dataplane calls (ip_vs_core.c ip_vs_in/ip_vs_out, reduced to
// bookkeeping: the dataplane does the NAT itself). classify() is the first packet of a flow:
// connection lookup, service lookup, scheduling (with persistence templates for ClientIP
// affinity) and a new ip_vs_conn entry. Counters follow the kernel: a new connection starts
// INACTIVE and becomes ActiveConn when its TCP state reaches ESTABLISHED.
import {
  ConnFlag,
  DEFAULT_TCP_TIMEOUTS,
  DEFAULT_UDP_TIMEOUT,
  DestFlag,
  Dir,
  SvcFlag,
  INITIAL_CONN_TIMEOUT,
  IPPROTO_IP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_STATE_NAMES,
  TEMPLATE_STATE_NAME,
  TcpState,
} from './constants.ts';
import {
  F_CONNS,
  F_INBYTES,
  F_INPKTS,
  F_OUTBYTES,
  F_OUTPKTS,
  R_ACTIVE,
  R_ADDR,
  R_CONN_FLAGS,
  R_CURSOR,
  R_FLAGS,
  R_FWMARK,
  R_HEAD,
  R_INACT,
  R_L_THRESHOLD,
  R_NEXT,
  R_PERSIST,
  R_PORT,
  R_RR_NEXT,
  R_SCHED,
  R_U_THRESHOLD,
  R_WEIGHT,
  REC,
  REC64,
  SCHED_RR,
} from './arena.ts';
import { ConnTable } from './conn-table.ts';
import { destAt } from './dest.ts';
import type { IpvsDest } from './dest.ts';
import type { SchedPacket } from './schedulers/index.ts';
import { NO_DEST } from './schedulers/scheduler.ts';
import type { VirtualService } from './service.ts';
import { ESTIMATOR_PERIOD_MS } from './stats.ts';
import { ServiceTable } from './table.ts';
import { SCTP_ESTABLISHED, isTcpSyn, setConnState } from './proto-state.ts';
import type { StateTimeouts } from './proto-state.ts';

/** Negative results of classify(); a non-negative result is a connection slot. */
export const IpvsVerdict = {
  /** No virtual service: not IPVS's packet. */
  NOT_SERVICE: -1,
  /**
   * A service with no usable destination: ip_vs_leave() sends ICMP port unreachable
   * (for TCP too: "the TCP RST packet cannot be sent" at the IP layer) and drops.
   */
  NO_DEST: -2,
  /** TCP without a connection and not a bare SYN: passed on to the local stack (RST there). */
  NOT_SYN: -3,
} as const;

/** `ipvsadm --set tcp tcpfin udp`, in seconds. */
export interface IpvsTimeouts {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

/** Estimation steps caught up at most at once; older intervals have decayed below 1. */
const MAX_ESTIMATOR_STEPS = 64;
// Imported constants copied to module constants for the per-packet paths.
const DIR_INPUT = Dir.INPUT;
const DIR_OUTPUT = Dir.OUTPUT;
const DEST_AVAILABLE = DestFlag.AVAILABLE;
const DEST_OVERLOAD = DestFlag.OVERLOAD;
const SVC_PERSISTENT = SvcFlag.PERSISTENT;
const TCP_TIME_WAIT = TcpState.TIME_WAIT;

/** Whether a record's counters are all zero. */
function idle(f64: Float64Array, slot: number): boolean {
  const f = slot * REC64;
  return (
    f64[f + F_CONNS] === 0 &&
    f64[f + F_INPKTS] === 0 &&
    f64[f + F_OUTPKTS] === 0 &&
    f64[f + F_INBYTES] === 0 &&
    f64[f + F_OUTBYTES] === 0
  );
}

export class Ipvs {
  readonly services = new ServiceTable();
  readonly conns = new ConnTable(1024, this.services.arena);
  /** net.ipv4.vs.expire_nodest_conn (kube-proxy sets 1). */
  expireNodestConn = true;
  /** net.ipv4.vs.expire_quiescent_template (kube-proxy sets 1). */
  expireQuiescentTemplate = true;
  /** Seconds per TCP state (read per packet by the dataplane's established fast path). */
  readonly tcpTimeouts = DEFAULT_TCP_TIMEOUTS.slice();
  private readonly stateTimeouts: StateTimeouts & { udp: number } = {
    tcp: this.tcpTimeouts,
    udp: DEFAULT_UDP_TIMEOUT,
  };
  private readonly pkt: SchedPacket = { proto: 0, saddr: 0, sport: 0, daddr: 0, dport: 0, now: 0 };
  private estimatedAt = -1;

  getTimeouts(): IpvsTimeouts {
    return {
      tcp: this.tcpTimeouts[TcpState.ESTABLISHED]!,
      tcpfin: this.tcpTimeouts[TcpState.FIN_WAIT]!,
      udp: this.stateTimeouts.udp,
    };
  }

  /** `ipvsadm --set tcp tcpfin udp`; 0 keeps the current value. Applies from each flow's next packet. */
  setTimeouts(tcp: number, tcpfin: number, udp: number): void {
    if (tcp > 0) this.tcpTimeouts[TcpState.ESTABLISHED] = tcp;
    if (tcpfin > 0) this.tcpTimeouts[TcpState.FIN_WAIT] = tcpfin;
    if (udp > 0) this.stateTimeouts.udp = udp;
  }

  /**
   * The first packet of a flow the dataplane has no connection for: an existing IPVS
   * connection, or service lookup + scheduling + a new connection. Returns the connection slot
   * (its real server is conns.daddr/dport) or a negative IpvsVerdict. Counts the packet.
   */
  classify(
    proto: number,
    saddr: number,
    sport: number,
    daddr: number,
    dport: number,
    tcpFlags: number,
    bytes: number,
    now: number,
    fwmark = 0,
  ): number {
    let id = this.conns.findIn(proto, saddr, sport, daddr, dport, false);
    if (id >= 0) id = this.checkExisting(id, tcpFlags, now);
    if (id < 0) {
      const slot = this.services.lookupSlot(proto, daddr, dport, fwmark);
      if (slot < 0) return IpvsVerdict.NOT_SERVICE;
      if (proto === IPPROTO_TCP && !isTcpSyn(tcpFlags)) return IpvsVerdict.NOT_SYN;
      id = this.scheduleSlot(slot, proto, saddr, sport, daddr, dport, now);
      if (id < 0) return IpvsVerdict.NO_DEST;
    }
    this.packetIn(id, tcpFlags, bytes, now);
    return id;
  }

  /**
   * ip_vs_conn_in_get() for a client-side packet; -1 if none (or expired, or its server gone).
   * `hint`: a slot to try first (the connection this flow had last time); it is checked.
   */
  lookupIn(
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    now: number,
    hint = -1,
  ) {
    const c = this.conns;
    // A live connection is unique per tuple, so a matching hint is what the search would find.
    const id = c.isConnIn(hint, proto, caddr, cport, vaddr, vport)
      ? hint
      : c.findIn(proto, caddr, cport, vaddr, vport, false);
    return id < 0 ? -1 : this.checkExisting(id, 0, now);
  }

  /** ip_vs_conn_out_get() for a reply from real server daddr:dport to client caddr:cport. */
  lookupOut(
    proto: number,
    daddr: number,
    dport: number,
    caddr: number,
    cport: number,
    now: number,
  ) {
    const id = this.conns.findOut(proto, daddr, dport, caddr, cport);
    if (id < 0) return -1;
    if (this.conns.expires[id]! <= now && this.expireOne(id, now)) return -1;
    return id;
  }

  /** A client->server packet of connection `id`: counters, state, timer (ip_vs_in). */
  packetIn(id: number, tcpFlags: number, bytes: number, now: number): void {
    const c = this.conns;
    const d = c.destSlot[id]!;
    const a = this.services.arena;
    if (d >= 0 && (a.i32[d * REC + R_FLAGS]! & DEST_AVAILABLE) !== 0) {
      const f64 = a.f64;
      f64[d * REC64 + F_INPKTS] = f64[d * REC64 + F_INPKTS]! + 1;
      f64[d * REC64 + F_INBYTES] = f64[d * REC64 + F_INBYTES]! + bytes;
      const s = c.svcSlot[id]!;
      if (s >= 0) {
        f64[s * REC64 + F_INPKTS] = f64[s * REC64 + F_INPKTS]! + 1;
        f64[s * REC64 + F_INBYTES] = f64[s * REC64 + F_INBYTES]! + bytes;
      }
    }
    setConnState(c, id, DIR_INPUT, tcpFlags, this.stateTimeouts);
    c.expires[id] = now + c.timeoutMs[id]!;
  }

  /** A server->client reply of connection `id` (ip_vs_out handle_response). */
  packetOut(id: number, tcpFlags: number, bytes: number, now: number): void {
    const c = this.conns;
    const d = c.destSlot[id]!;
    const a = this.services.arena;
    if (d >= 0 && (a.i32[d * REC + R_FLAGS]! & DEST_AVAILABLE) !== 0) {
      const f64 = a.f64;
      f64[d * REC64 + F_OUTPKTS] = f64[d * REC64 + F_OUTPKTS]! + 1;
      f64[d * REC64 + F_OUTBYTES] = f64[d * REC64 + F_OUTBYTES]! + bytes;
      const s = c.svcSlot[id]!;
      if (s >= 0) {
        f64[s * REC64 + F_OUTPKTS] = f64[s * REC64 + F_OUTPKTS]! + 1;
        f64[s * REC64 + F_OUTBYTES] = f64[s * REC64 + F_OUTBYTES]! + bytes;
      }
    }
    setConnState(c, id, DIR_OUTPUT, tcpFlags, this.stateTimeouts);
    c.expires[id] = now + c.timeoutMs[id]!;
  }

  /** ip_vs_conn_expire_now(); templates still controlling connections stay. */
  expireNow(id: number, now: number): boolean {
    return this.expireOne(id, now);
  }

  /** Reap every connection and template whose timer ran out; returns how many were freed. */
  expire(now: number): number {
    let n = 0;
    for (const id of this.conns.ids()) {
      if (this.conns.expires[id]! <= now && this.expireOne(id, now)) n++;
    }
    return n;
  }

  /** Run the 2-second rate estimator for every period elapsed on the caller's clock. */
  tickEstimators(now: number): void {
    if (this.estimatedAt < 0) {
      this.estimatedAt = now;
      return;
    }
    let steps = Math.floor((now - this.estimatedAt) / ESTIMATOR_PERIOD_MS);
    this.estimatedAt += steps * ESTIMATOR_PERIOD_MS;
    steps = Math.min(steps, MAX_ESTIMATOR_STEPS);
    const a = this.services.arena;
    for (; steps > 0; steps--) {
      for (const s of this.services.services()) {
        s.stats.estimate();
        const head = s.head.slot;
        for (let n = a.i32[head * REC + R_NEXT]!; n !== head; n = a.i32[n * REC + R_NEXT]!) {
          // A server without a handle has no estimator yet: all zero, and with all-zero
          // counters a step leaves it so. Its handle is made once it has counted something.
          if (a.objs[n] === undefined && idle(a.f64, n)) continue;
          (destAt(a, n) as IpvsDest).estimate();
        }
      }
    }
  }

  /** The state column of `ipvsadm -Lnc` (ip_vs_state_name()). */
  stateName(id: number): string {
    const c = this.conns;
    if ((c.flags[id]! & ConnFlag.TEMPLATE) !== 0) return TEMPLATE_STATE_NAME;
    switch (c.proto[id]) {
      case IPPROTO_TCP:
        return TCP_STATE_NAMES[c.state[id]!] ?? 'ERR!';
      case IPPROTO_UDP:
        return 'UDP';
      case IPPROTO_SCTP:
        return c.state[id] === SCTP_ESTABLISHED ? 'ESTABLISHED' : 'NONE';
      default:
        return 'NONE';
    }
  }

  private checkExisting(id: number, tcpFlags: number, now: number): number {
    const c = this.conns;
    if (c.expires[id]! <= now && this.expireOne(id, now)) return -1;
    const d = c.destSlot[id]!;
    const syn = isTcpSyn(tcpFlags);
    if (d >= 0 && this.expireNodestConn) {
      // A server that left (or, for a new SYN on a reused tuple, was quiesced): expire.
      const i32 = this.services.arena.i32;
      const resched =
        (i32[d * REC + R_FLAGS]! & DEST_AVAILABLE) === 0 || (syn && i32[d * REC + R_WEIGHT] === 0);
      if (resched && this.expireOne(id, now)) return -1;
    }
    // conn_reuse_mode 1: a SYN for a tuple in TIME_WAIT is a new connection.
    if (syn && c.state[id] === TCP_TIME_WAIT && c.nControl[id] === 0) {
      if (this.expireOne(id, now)) return -1;
    }
    return id;
  }

  /**
   * schedule() by the service's arena slot. A non-persistent rr service (kube-proxy's default)
   * is scheduled here on the records alone, the same walk as schedulers/rr.ts; any other
   * goes through its VirtualService and scheduler object.
   */
  private scheduleSlot(
    slot: number,
    proto: number,
    saddr: number,
    sport: number,
    daddr: number,
    dport: number,
    now: number,
  ): number {
    const a = this.services.arena;
    const i32 = a.i32;
    const r = slot * REC;
    if (i32[r + R_SCHED] !== SCHED_RR || (i32[r + R_FLAGS]! & SVC_PERSISTENT) !== 0) {
      const svc = a.objs[slot] as VirtualService;
      return this.schedule(svc, proto, saddr, sport, daddr, dport, now);
    }
    // Port zero is only supported in persistent services (ip_vs_schedule()).
    if (i32[r + R_FWMARK] === 0 && dport !== i32[r + R_PORT]) return -1;
    const head = i32[r + R_HEAD]!;
    const p = i32[r + R_CURSOR]!;
    // The walk starts after the cursor: at its successor, kept in the service's record.
    const known = i32[r + R_RR_NEXT]!;
    let n = known >= 0 ? known : i32[p * REC + R_NEXT]!;
    let pass = 0;
    do {
      for (; n !== head; n = i32[n * REC + R_NEXT]!) {
        const d = n * REC;
        if ((i32[d + R_FLAGS]! & DEST_OVERLOAD) === 0 && i32[d + R_WEIGHT]! > 0) {
          i32[r + R_CURSOR] = n;
          i32[r + R_RR_NEXT] = i32[d + R_NEXT]!;
          const dp = i32[d + R_PORT]!;
          return this.newConnSlot(slot, n, proto, saddr, sport, daddr, dport, dp || dport, 0, now);
        }
        if (n === p) {
          (a.objs[slot] as VirtualService).schedulerError(NO_DEST);
          return -1;
        }
      }
      pass++;
      n = i32[head * REC + R_NEXT]!;
      // A cursor parked on the head needs no second pass.
    } while (pass < 2 && p !== head);
    (a.objs[slot] as VirtualService).schedulerError(NO_DEST);
    return -1;
  }

  private schedule(
    svc: VirtualService,
    proto: number,
    saddr: number,
    sport: number,
    daddr: number,
    dport: number,
    now: number,
  ): number {
    const p = this.pkt;
    p.proto = proto;
    p.saddr = saddr;
    p.sport = sport;
    p.daddr = daddr;
    p.dport = dport;
    p.now = now;
    if (svc.persistent) return this.schedulePersist(svc, now);
    // Port zero is only supported in persistent services (ip_vs_schedule()).
    if (svc.fwmark === 0 && dport !== svc.port) return -1;
    const dest = svc.scheduler.schedule(svc, p);
    if (dest === null) return -1;
    return this.newConn(svc, dest, proto, saddr, sport, daddr, dport, dest.port || dport, 0, now);
  }

  /** ip_vs_sched_persist(): reuse the client's template, or schedule and create one. */
  private schedulePersist(svc: VirtualService, now: number): number {
    const p = this.pkt;
    const snet = (p.saddr & svc.netmask) >>> 0;
    let tproto = p.proto;
    let tvaddr = p.daddr;
    let tvport = p.dport === svc.port ? p.dport : 0;
    if (svc.fwmark !== 0) {
      tproto = IPPROTO_IP;
      tvaddr = svc.fwmark;
      tvport = 0;
    }
    const c = this.conns;
    let ct = c.findIn(tproto, snet, 0, tvaddr, tvport, true);
    if (ct >= 0 && c.expires[ct]! <= now && this.expireOne(ct, now)) ct = -1;
    let dest: IpvsDest | null;
    if (ct < 0 || !this.checkTemplate(ct)) {
      dest = svc.scheduler.schedule(svc, p);
      if (dest === null) return -1;
      ct = this.newConn(
        svc,
        dest,
        tproto,
        snet,
        0,
        tvaddr,
        tvport,
        dest.port,
        ConnFlag.TEMPLATE,
        now,
      );
      c.timeoutMs[ct] = svc.timeout * 1000;
    } else {
      dest = c.destOf(ct)!;
    }
    const id = this.newConn(
      svc,
      dest,
      p.proto,
      p.saddr,
      p.sport,
      p.daddr,
      p.dport,
      dest.port || p.dport,
      0,
      now,
    );
    c.control[id] = ct;
    c.nControl[ct] = c.nControl[ct]! + 1;
    c.expires[ct] = now + c.timeoutMs[ct]!;
    return id;
  }

  /** ip_vs_check_template(): a template whose server left or was quiesced is invalidated. */
  private checkTemplate(ct: number): boolean {
    const d = this.conns.destOf(ct);
    if (d && d.available && !(this.expireQuiescentTemplate && d.weight === 0)) return true;
    // Unhash it from lookups (vport/dport 0xffff); it still expires on its own timer.
    this.conns.vport[ct] = 0xffff;
    this.conns.dport[ct] = 0xffff;
    return false;
  }

  /** ip_vs_conn_new() + ip_vs_bind_dest() + ip_vs_conn_stats(). */
  private newConn(
    svc: VirtualService,
    dest: IpvsDest,
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    dport: number,
    flags: number,
    now: number,
  ): number {
    return this.newConnSlot(
      svc.slot,
      dest.slot,
      proto,
      caddr,
      cport,
      vaddr,
      vport,
      dport,
      flags,
      now,
    );
  }

  /** newConn() by the service's and the server's arena slots: their records, no object. */
  private newConnSlot(
    svc: number,
    dest: number,
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    dport: number,
    flags: number,
    now: number,
  ): number {
    const c = this.conns;
    const a = this.services.arena;
    const i32 = a.i32;
    const d = dest * REC;
    const id = c.alloc(proto, caddr, cport, svc);
    c.vaddr[id] = vaddr;
    c.vport[id] = vport;
    c.daddr[id] = i32[d + R_ADDR]!;
    c.dport[id] = dport;
    // Connections inherit the server's forwarding method and start INACTIVE.
    c.flags[id] = flags | (i32[d + R_CONN_FLAGS]! & ConnFlag.FWD_MASK) | ConnFlag.INACTIVE;
    c.timeoutMs[id] = INITIAL_CONN_TIMEOUT * 1000;
    c.expires[id] = now + INITIAL_CONN_TIMEOUT * 1000;
    c.destSlot[id] = dest;
    if ((flags & ConnFlag.TEMPLATE) !== 0) {
      i32[d + R_PERSIST] = i32[d + R_PERSIST]! + 1;
    } else {
      i32[d + R_INACT] = i32[d + R_INACT]! + 1;
      a.f64[svc * REC64 + F_CONNS] = a.f64[svc * REC64 + F_CONNS]! + 1;
      a.f64[dest * REC64 + F_CONNS] = a.f64[dest * REC64 + F_CONNS]! + 1;
    }
    const u = i32[d + R_U_THRESHOLD]!;
    if (u !== 0 && i32[d + R_ACTIVE]! + i32[d + R_INACT]! >= u)
      i32[d + R_FLAGS] = i32[d + R_FLAGS]! | DestFlag.OVERLOAD;
    return id;
  }

  /** ip_vs_conn_expire(): unlink from its template, unbind the server, free the slot. */
  private expireOne(id: number, now: number): boolean {
    const c = this.conns;
    if (c.nControl[id]! > 0) {
      // A template still controlling connections lives on (expire_later).
      c.expires[id] = now + c.timeoutMs[id]!;
      return false;
    }
    const ct = c.control[id]!;
    if (ct >= 0 && c.isLive(ct)) c.nControl[ct] = c.nControl[ct]! - 1;
    const ds = c.destSlot[id]!;
    if (ds >= 0) {
      const i32 = this.services.arena.i32;
      const d = ds * REC;
      const f = c.flags[id]!;
      const k =
        (f & ConnFlag.TEMPLATE) !== 0
          ? R_PERSIST
          : (f & ConnFlag.INACTIVE) !== 0
            ? R_INACT
            : R_ACTIVE;
      i32[d + k] = i32[d + k]! - 1;
      this.clearOverload(d);
      if (
        (i32[d + R_FLAGS]! & DEST_AVAILABLE) === 0 &&
        i32[d + R_ACTIVE]! + i32[d + R_INACT]! + i32[d + R_PERSIST]! === 0
      ) {
        const dest = c.destOf(id)!;
        c.svcOf(id)?.dropTrashed(dest.key);
      }
    }
    c.free(id);
    return true;
  }

  /** ip_vs_unbind_dest()'s overload hysteresis, on the server's record at Int32 word `d`. */
  private clearOverload(d: number): void {
    const i32 = this.services.arena.i32;
    const total = i32[d + R_ACTIVE]! + i32[d + R_INACT]!;
    const l = i32[d + R_L_THRESHOLD]!;
    const u = i32[d + R_U_THRESHOLD]!;
    const clear = l !== 0 ? total < l : u !== 0 ? total * 4 < u * 3 : true;
    if (clear) i32[d + R_FLAGS] = i32[d + R_FLAGS]! & ~DestFlag.OVERLOAD;
  }
}
