// Round-robin (net/netfilter/ipvs/ip_vs_rr.c). The cursor is a list node (possibly the head);
// each pick starts after it and wraps once. Weight 0 means quiesced: skipped. The cursor is
// the service's (svc.rrCursor, in its arena record), where ipvs.ts's slot-level copy of this
// walk (scheduleRr) reads and moves it too.
import type { DestNode, IpvsDest } from '../dest.ts';
import { NO_DEST, StatelessScheduler } from './scheduler.ts';
import type { SchedService } from './scheduler.ts';

export class RoundRobinScheduler extends StatelessScheduler {
  readonly name = 'rr';
  override initService(svc: SchedService): void {
    svc.rrCursor = svc.head;
  }

  override delDest(svc: SchedService, dest: IpvsDest): void {
    // dest is already unlinked; its next is still valid, so next.prev is the previous entry.
    if (svc.rrCursor === dest) svc.rrCursor = dest.next.prev;
  }

  schedule(svc: SchedService): IpvsDest | null {
    const head = svc.head;
    const p = svc.rrCursor;
    let n: DestNode = p;
    let pass = 0;
    do {
      for (n = n.next; n !== head; n = n.next) {
        const d = n as IpvsDest;
        if (!d.overloaded && d.weight > 0) {
          svc.rrCursor = d;
          return d;
        }
        if (n === p) {
          svc.schedulerError(NO_DEST);
          return null;
        }
      }
      pass++;
      // A cursor parked on the head needs no second pass.
    } while (pass < 2 && p !== head);
    svc.schedulerError(NO_DEST);
    return null;
  }
}
