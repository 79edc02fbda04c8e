// Weighted least-connection (net/netfilter/ipvs/ip_vs_wlc.c): the smallest
// (activeconns*256 + inactconns) / weight, compared as h1*w2 > h2*w1 (no division).
import type { DestNode, IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler, connOverhead } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class WeightedLeastConnectionScheduler extends StatelessScheduler {
  readonly name = 'wlc';

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
    let loh = connOverhead(least);
    for (n = n.next; n !== head; n = n.next) {
      const d = n as IpvsDest;
      if (d.overloaded) continue;
      const doh = connOverhead(d);
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
