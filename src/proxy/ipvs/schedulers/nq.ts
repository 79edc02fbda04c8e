// Never queue (net/netfilter/ipvs/ip_vs_nq.c): an idle server (no active connections) is taken
// at once, first in list order; otherwise shortest expected delay, (activeconns + 1) / weight.
import type { IpvsDest } from '../dest.ts';
import { expectedDelayOverhead } from './sed.ts';
import { NO_DEST, StatelessScheduler, leastLoaded } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class NeverQueueScheduler extends StatelessScheduler {
  readonly name = 'nq';

  schedule(svc: SchedService): IpvsDest | null {
    const least = leastLoaded(svc.head, expectedDelayOverhead, true, true);
    if (least === null) svc.schedulerError(NO_DEST);
    return least;
  }
}
