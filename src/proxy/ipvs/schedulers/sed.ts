// Shortest expected delay (net/netfilter/ipvs/ip_vs_sed.c): the smallest
// (activeconns + 1) / weight. Unlike lc/wlc the kernel counts only ACTIVE connections here
// (ip_vs_sed_dest_overhead), plus one for the incoming job.
import type { IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler, leastLoaded } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

/** ip_vs_sed_dest_overhead() / ip_vs_nq_dest_overhead(). */
export function expectedDelayOverhead(d: IpvsDest): number {
  return d.activeConns + 1;
}

export class ShortestExpectedDelayScheduler extends StatelessScheduler {
  readonly name = 'sed';

  schedule(svc: SchedService): IpvsDest | null {
    const least = leastLoaded(svc.head, expectedDelayOverhead, true);
    if (least === null) svc.schedulerError(NO_DEST);
    return least;
  }
}
