// Destination hashing (net/netfilter/ipvs/ip_vs_dh.c): a 256-bucket table dealt round-robin
// over the list (weights ignored), refilled on every add/delete; the bucket of a flow is
// hash_32(daddr, 8). No fallback: an unavailable server means no destination.
import type { IpvsDest } from '../dest.ts';
import { hash32 } from '../hash.ts';
import { NO_DEST, unavailable } from './scheduler.ts';
import type { IpvsScheduler, SchedPacket, SchedService } from './scheduler.ts';

export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

/** ip_vs_dh_hashkey(). */
export function dhHashKey(addr: number): number {
  return hash32(addr, DH_TAB_BITS);
}

export class DestinationHashingScheduler implements IpvsScheduler {
  readonly name = 'dh';
  readonly buckets: (IpvsDest | null)[] = new Array<IpvsDest | null>(DH_TAB_SIZE).fill(null);

  /** ip_vs_dh_reassign(). */
  private reassign(svc: SchedService): void {
    const head = svc.head;
    const empty = head.next === head;
    let p = head;
    for (let i = 0; i < DH_TAB_SIZE; i++) {
      if (empty) {
        this.buckets[i] = null;
        continue;
      }
      if (p === head) p = p.next;
      this.buckets[i] = p as IpvsDest;
      p = p.next;
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
  /** dh has no upd_dest: a weight change does not refill the table. */
  updDest(): void {}

  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null {
    const d = this.buckets[dhHashKey(pkt.daddr)] ?? null;
    if (d === null || !d.available || unavailable(d)) {
      svc.schedulerError(NO_DEST);
      return null;
    }
    return d;
  }
}
