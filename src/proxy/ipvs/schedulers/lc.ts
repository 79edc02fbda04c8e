// Least-connection (net/netfilter/ipvs/ip_vs_lc.c): the server with the smallest
// activeconns*256 + inactconns; weight 0 (quiesced) and overloaded servers are skipped.
// Ties go to the first in list order (newest first).
import type { IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler, connOverhead, leastLoaded } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class LeastConnectionScheduler extends StatelessScheduler {
  readonly name = 'lc';

  schedule(svc: SchedService): IpvsDest | null {
    const least = leastLoaded(svc.head, connOverhead, false);
    if (least === null) svc.schedulerError(NO_DEST);
    return least;
  }
}
