// Never queue (net/netfilter/ipvs/ip_vs_nq.c): an idle server (no active connections) is taken
// at once, first in list order; otherwise shortest expected delay, (activeconns + 1) / weight.
import type { IpvsDest } from '../dest.ts';
import { expectedDelayOverhead } from './sed.ts';
import { NO_DEST, StatelessScheduler } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class NeverQueueScheduler extends StatelessScheduler {
  readonly name = 'nq';

  schedule(svc: SchedService): IpvsDest | null {
    const head = svc.head;
    let least: IpvsDest | null = null;
    let loh = 0;
    for (let n = head.next; n !== head; n = n.next) {
      const d = n as IpvsDest;
      if (d.overloaded || d.weight === 0) continue;
      const doh = expectedDelayOverhead(d);
      // Return the server directly if it is idle.
      if (d.activeConns === 0) return d;
      if (least === null || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    if (least === null) svc.schedulerError(NO_DEST);
    return least;
  }
}
