// Source hashing (net/netfilter/ipvs/ip_vs_sh.c): a 256-bucket table filled from the list
// on every membership or weight change; a server of weight w takes w consecutive buckets
// (weight 0 still takes one, then fails the availability check). The bucket of a flow is
// hash_32(sport? + saddr, 8); with sh-fallback an unavailable bucket walks on to the next.
import type { IpvsDest } from '../dest.ts';
import {
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SCHED_SH_FALLBACK,
  SCHED_SH_PORT,
} from '../constants.ts';
import { hash32 } from '../hash.ts';
import { NO_DEST, unavailable } from './scheduler.ts';
import type { IpvsScheduler, SchedPacket, SchedService } from './scheduler.ts';

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/** ip_vs_sh_hashkey(). */
export function shHashKey(addr: number, port: number, offset: number): number {
  return (offset + hash32((port + addr) >>> 0, SH_TAB_BITS)) & SH_TAB_MASK;
}

/** The source port when the service hashes on it (TCP/UDP/SCTP only), else 0. */
export function hashPort(pkt: SchedPacket, flags: number, portFlag: number): number {
  if ((flags & portFlag) === 0) return 0;
  const p = pkt.proto;
  return p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_SCTP ? pkt.sport : 0;
}

export class SourceHashingScheduler implements IpvsScheduler {
  readonly name = 'sh';
  readonly buckets: (IpvsDest | null)[] = new Array<IpvsDest | null>(SH_TAB_SIZE).fill(null);

  /** ip_vs_sh_reassign(). */
  private reassign(svc: SchedService): void {
    const head = svc.head;
    const empty = head.next === head;
    let p = head;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (empty) {
        this.buckets[i] = null;
        continue;
      }
      if (p === head) p = p.next;
      const d = p as IpvsDest;
      this.buckets[i] = d;
      // Don't move to the next server until its weight is filled.
      if (++count >= d.weight) {
        p = p.next;
        count = 0;
      }
    }
  }

  initService(svc: SchedService): void {
    this.reassign(svc);
  }
  doneService(): void {
    this.buckets.fill(null);
  }
  addDest(svc: SchedService): void {
    this.reassign(svc);
  }
  delDest(svc: SchedService): void {
    this.reassign(svc);
  }
  updDest(svc: SchedService): void {
    this.reassign(svc);
  }

  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null {
    const port = hashPort(pkt, svc.flags, SCHED_SH_PORT);
    const dest =
      (svc.flags & SCHED_SH_FALLBACK) !== 0
        ? this.getFallback(pkt.saddr, port)
        : this.get(pkt.saddr, port);
    if (dest === null) svc.schedulerError(NO_DEST);
    return dest;
  }

  private get(addr: number, port: number): IpvsDest | null {
    const d = this.buckets[shHashKey(addr, port, 0)] ?? null;
    return d === null || unavailable(d) ? null : d;
  }

  /** ip_vs_sh_get_fallback(): from the original bucket, rehash with growing offsets. */
  private getFallback(addr: number, port: number): IpvsDest | null {
    const ihash = shHashKey(addr, port, 0);
    let d = this.buckets[ihash] ?? null;
    if (d === null) return null;
    if (!unavailable(d)) return d;
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const roffset = (offset + ihash) % SH_TAB_SIZE;
      d = this.buckets[shHashKey(addr, port, roffset)] ?? null;
      if (d === null) break;
      if (!unavailable(d)) return d;
    }
    return null;
  }
}
