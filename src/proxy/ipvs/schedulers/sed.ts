// Shortest expected delay (net/netfilter/ipvs/ip_vs_sed.c): the smallest
// (activeconns + 1) / weight. Unlike lc/wlc the kernel counts only ACTIVE connections here
// (ip_vs_sed_dest_overhead), plus one for the incoming job.
import type { DestNode, IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

/** ip_vs_sed_dest_overhead() / ip_vs_nq_dest_overhead(). */
export function expectedDelayOverhead(d: IpvsDest): number {
  return d.activeConns + 1;
}

export class ShortestExpectedDelayScheduler extends StatelessScheduler {
  readonly name = 'sed';

  schedule(svc: SchedService): IpvsDest | null {
    const head = svc.head;
    let n: DestNode = head.next;
    let least: IpvsDest | null = null;
    for (; n !== head; n = n.next) {
      const d = n as IpvsDest;
      if (!d.overloaded && d.weight > 0) {
        least = d;
        break;
      }
    }
    if (least === null) {
      svc.schedulerError(NO_DEST);
      return null;
    }
    let loh = expectedDelayOverhead(least);
    for (n = n.next; n !== head; n = n.next) {
      const d = n as IpvsDest;
      if (d.overloaded) continue;
      const doh = expectedDelayOverhead(d);
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
