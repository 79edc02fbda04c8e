// Weighted round-robin (net/netfilter/ipvs/ip_vs_wrr.c): passes over the list with a falling
// current weight cw = mw, mw - di, ... 1, where di is the gcd of the weights and mw the maximum
// weight less (di - 1). A server of weight w is picked w/di times per cycle.
import type { DestNode, IpvsDest } from '../dest.ts';
import { gcd } from '../hash.ts';
import { NO_DEST } from './scheduler.ts';
import type { IpvsScheduler, SchedService } from './scheduler.ts';

function gcdWeight(head: DestNode): number {
  let g = 0;
  for (let n = head.next; n !== head; n = n.next) {
    const w = (n as IpvsDest).weight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g || 1;
}

function maxWeight(head: DestNode): number {
  let m = 0;
  for (let n = head.next; n !== head; n = n.next) m = Math.max(m, (n as IpvsDest).weight);
  return m;
}

export class WeightedRoundRobinScheduler implements IpvsScheduler {
  readonly name = 'wrr';
  // struct ip_vs_wrr_mark
  private cl: DestNode | null = null;
  private cw = 0;
  private mw = 0;
  private di = 1;

  initService(svc: SchedService): void {
    this.cl = svc.head;
    this.di = gcdWeight(svc.head);
    this.mw = maxWeight(svc.head) - (this.di - 1);
    this.cw = this.mw;
  }

  doneService(): void {}

  private destChanged(svc: SchedService): void {
    this.cl = svc.head;
    this.di = gcdWeight(svc.head);
    this.mw = maxWeight(svc.head) - (this.di - 1);
    if (this.cw > this.mw || !this.cw) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.floor(this.cw / this.di) * this.di + 1;
  }

  addDest(svc: SchedService): void {
    this.destChanged(svc);
  }
  delDest(svc: SchedService): void {
    this.destChanged(svc);
  }
  updDest(svc: SchedService): void {
    this.destChanged(svc);
  }

  schedule(svc: SchedService): IpvsDest | null {
    const head = svc.head;
    let n: DestNode = this.cl ?? head;
    if (this.mw === 0) {
      this.cl = n;
      svc.schedulerError(NO_DEST);
      return null;
    }
    const last = n;
    let lastPass = false;
    let restarted = false;
    let stop: DestNode | null = null;
    for (;;) {
      for (n = n.next; n !== head; n = n.next) {
        const d = n as IpvsDest;
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = d;
          return d;
        }
        if (n === stop) return this.overloaded(svc, n);
      }
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // Stop if the last pass (weight >= 1) already covered every server.
        if (lastPass || last === head) return this.overloaded(svc, n);
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      // The first traversal checked w >= 1 only after `last`; now check up to `last`.
      if (lastPass && restarted && last !== head) stop = last;
    }
  }

  private overloaded(svc: SchedService, at: DestNode): null {
    this.cl = at;
    svc.schedulerError(`${NO_DEST}: all destinations are overloaded`);
    return null;
  }
}
