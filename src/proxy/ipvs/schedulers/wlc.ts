// Weighted least-connection (net/netfilter/ipvs/ip_vs_wlc.c): the smallest
// (activeconns*256 + inactconns) / weight, compared as h1*w2 > h2*w1 (no division).
import type { IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler, connOverhead, leastLoaded } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class WeightedLeastConnectionScheduler extends StatelessScheduler {
  readonly name = 'wlc';

  schedule(svc: SchedService): IpvsDest | null {
    const least = leastLoaded(svc.head, connOverhead, true);
    if (least === null) svc.schedulerError(NO_DEST);
    return least;
  }
}
