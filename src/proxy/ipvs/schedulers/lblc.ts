// Locality-based least-connection (net/netfilter/ipvs/ip_vs_lblc.c): a cache maps each
// destination IP to the server last chosen for it; the cached server is kept unless it is
// gone, quiesced, or overloaded (activeconns > weight while some server is under half its
// weight). Otherwise weighted least-connection picks a new one and the cache remembers it.
import type { DestNode, IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler, connOverhead, leastLoaded } from './scheduler.ts';
import type { SchedPacket, SchedService } from './scheduler.ts';

/** sysctl lblc_expiration / lblcr_expiration default: 24 hours, in ms. */
export const LBLC_EXPIRATION_MS = 24 * 60 * 60 * 1000;

/** __ip_vs_lblc_schedule() / __ip_vs_lblcr_schedule(): weighted least-connection. */
export function weightedLeastConn(head: DestNode): IpvsDest | null {
  return leastLoaded(head, connOverhead, true);
}

/** is_overloaded(): busier than its weight while another server is under half of its own. */
export function localityOverloaded(dest: IpvsDest, head: DestNode): boolean {
  if (dest.activeConns <= dest.weight) return false;
  for (let n = head.next; n !== head; n = n.next) {
    const d = n as IpvsDest;
    if (d.activeConns * 2 < d.weight) return true;
  }
  return false;
}

interface LblcEntry {
  dest: IpvsDest;
  lastuse: number;
}

export class LocalityLeastConnectionScheduler extends StatelessScheduler {
  readonly name = 'lblc';
  /** Destination address -> cached server (the kernel's 1024-bucket ip_vs_lblc_table). */
  readonly cache = new Map<number, LblcEntry>();

  override doneService(): void {
    this.cache.clear();
  }

  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null {
    let en = this.cache.get(pkt.daddr);
    // The periodic full check drops entries unused for lblc_expiration.
    if (en !== undefined && pkt.now - en.lastuse >= LBLC_EXPIRATION_MS) {
      this.cache.delete(pkt.daddr);
      en = undefined;
    }
    if (en !== undefined) {
      en.lastuse = pkt.now;
      const d = en.dest;
      if (d.available && d.weight > 0 && !localityOverloaded(d, svc.head)) return d;
    }
    const dest = weightedLeastConn(svc.head);
    if (dest === null) {
      svc.schedulerError(NO_DEST);
      return null;
    }
    if (en !== undefined) en.dest = dest;
    else this.cache.set(pkt.daddr, { dest, lastuse: pkt.now });
    return dest;
  }
}
