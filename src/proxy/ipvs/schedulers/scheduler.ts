// One interface for every scheduler, modelled on the kernel's struct ip_vs_scheduler
// (include/net/ip_vs.h). A scheduler object belongs to one service (it holds what the kernel
// keeps in svc->sched_data); the expensive work happens in initService/addDest/delDest/updDest
// so that schedule() is O(1) (hash schedulers) or O(dests) (least-connection family).
import type { DestNode, IpvsDest } from '../dest.ts';

/** What a scheduler sees of its service. */
export interface SchedService {
  /** Head sentinel of the destination list (newest first, as the kernel keeps it). */
  readonly head: DestNode;
  readonly numDests: number;
  /** IP_VS_SVC_F_* (sh/mh read SCHED1 = fallback, SCHED2 = port). */
  readonly flags: number;
  /** rr's cursor, kept with the service (svc->sched_data): the packet path schedules rr itself. */
  rrCursor: DestNode;
  /** ip_vs_scheduler_err(): count a "no destination available" with its reason. */
  schedulerError(msg: string): void;
}

/** The first packet of a new connection, as the scheduler reads it (reused, never per packet). */
export interface SchedPacket {
  proto: number;
  saddr: number;
  sport: number;
  daddr: number;
  dport: number;
  /** Caller's clock in milliseconds (lblc/lblcr cache expiry). */
  now: number;
}

export interface IpvsScheduler {
  readonly name: string;
  /**
   * addDest and updDest do nothing (the kernel leaves them NULL): servers can be added
   * without making their handles (dest.ts destAt()).
   */
  readonly noAddHooks?: boolean;
  initService(svc: SchedService): void;
  doneService(svc: SchedService): void;
  addDest(svc: SchedService, dest: IpvsDest): void;
  delDest(svc: SchedService, dest: IpvsDest): void;
  updDest(svc: SchedService, dest: IpvsDest): void;
  /** A destination for a new connection, or null (the service's counter says why). */
  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null;
}

/** Message of ip_vs_scheduler_err() in most schedulers. */
export const NO_DEST = 'no destination available';

/** ip_vs_dest_conn_overhead(): activeconns * 256 + inactconns. */
export function connOverhead(d: IpvsDest): number {
  return d.activeConns * 256 + d.inactConns;
}

/** is_unavailable() (sh, mh), the least-connection family's skip: quiesced (weight 0) or overloaded. */
export function unavailable(d: IpvsDest): boolean {
  return d.weight <= 0 || d.overloaded;
}

/**
 * The least-connection family's pick (ip_vs_lc/wlc/sed/nq_schedule, lblc/lblcr's
 * __ip_vs_lblc_schedule): in list order, skipping unavailable servers, the server with the
 * least overhead(d) / weight, compared as `loh * w > doh * lw` (no division), so a tie keeps
 * the earlier, newer server; `weighted` false compares the overheads alone (lc). With
 * `idleFirst` (nq) the first server without active connections is taken at once. Null when
 * no server is available; the caller reports it.
 */
export function leastLoaded(
  head: DestNode,
  overhead: (d: IpvsDest) => number,
  weighted: boolean,
  idleFirst = false,
): IpvsDest | null {
  let least: IpvsDest | null = null;
  let loh = 0;
  for (let n = head.next; n !== head; n = n.next) {
    const d = n as IpvsDest;
    if (unavailable(d)) continue;
    if (idleFirst && d.activeConns === 0) return d;
    const doh = overhead(d);
    if (least === null || (weighted ? loh * d.weight > doh * least.weight : doh < loh)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** A scheduler whose hooks are no-ops (the kernel leaves them NULL). */
export abstract class StatelessScheduler implements IpvsScheduler {
  abstract readonly name: string;
  readonly noAddHooks = true;
  initService(_svc: SchedService): void {}
  doneService(_svc: SchedService): void {}
  addDest(_svc: SchedService, _dest: IpvsDest): void {}
  delDest(_svc: SchedService, _dest: IpvsDest): void {}
  updDest(_svc: SchedService, _dest: IpvsDest): void {}
  abstract schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null;
}
