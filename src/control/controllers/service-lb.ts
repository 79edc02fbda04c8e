// A simulated load-balancer controller (the part a cloud provider or MetalLB plays):
// LoadBalancer Services get an address from the configured pool in
// status.loadBalancer.ingress; a requested spec.loadBalancerIP is honoured when it is
// in the pool and free. An exhausted pool leaves EXTERNAL-IP <pending>, as in real life.
import type { Service } from '../../api/types.ts';
import { AllocationError } from '../allocators/bitmap.ts';
import type { LoadBalancerPool } from '../allocators/load-balancer.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';

export class ServiceLoadBalancerController implements Controller {
  readonly name = 'service-lb';
  private readonly queue = new WorkQueue();
  /** service key -> assigned address. */
  private readonly assigned = new Map<string, string>();
  /** LoadBalancer services still waiting for an address (retried when one frees up). */
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly pool: LoadBalancerPool,
  ) {
    store.watch('Service', (ev) => {
      const key = ev.key;
      if (ev.type === 'DELETED') {
        this.pending.delete(key);
        const ip = this.assigned.get(key);
        if (ip !== undefined) this.release(key, ip);
        return;
      }
      if (ev.object.spec.type === 'LoadBalancer' || this.assigned.has(key)) this.queue.add(key);
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private release(key: string, ip: string): void {
    this.pool.release(ip);
    this.assigned.delete(key);
    for (const k of this.pending) this.queue.add(k);
  }

  private sync(key: string): void {
    const svc = this.store.getByKey('Service', key);
    if (svc === undefined) return;
    let ip = this.assigned.get(key);
    const want = svc.spec.loadBalancerIP || undefined;
    if (
      svc.spec.type !== 'LoadBalancer' ||
      (ip !== undefined && want !== undefined && want !== ip)
    ) {
      if (ip !== undefined) this.release(key, ip);
      ip = undefined;
    }
    if (svc.spec.type === 'LoadBalancer' && ip === undefined) {
      try {
        if (want !== undefined) this.pool.allocate(want);
        ip = want ?? this.pool.allocateNext();
        this.assigned.set(key, ip);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
      }
    }
    if (svc.spec.type === 'LoadBalancer' && ip === undefined) this.pending.add(key);
    else this.pending.delete(key);
    const ingress = ip === undefined ? undefined : [{ ip }];
    const status: NonNullable<Service['status']> = { loadBalancer: ingress ? { ingress } : {} };
    this.store.update({ ...svc, status });
  }
}
