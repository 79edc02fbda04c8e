// A simulated load-balancer controller (the part a cloud provider or MetalLB plays):
// LoadBalancer Services get an address from the configured pool in
// status.loadBalancer.ingress; a requested spec.loadBalancerIP is honoured when it is
// in the pool and free. An exhausted pool leaves EXTERNAL-IP <pending>, as in real life.
// Events are MetalLB's controller's (the pool is MetalLB-style): IPAllocated
// `Assigned IP ["192.168.100.240"]`, and a Warning AllocationFailed when no address fits.
import type { Service } from '../../api/types.ts';
import { AllocationError } from '../allocators/bitmap.ts';
import type { LoadBalancerPool } from '../allocators/load-balancer.ts';
import { type EventRecorder, EventSource } from '../events.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';

const SOURCE_COMPONENT = 'metallb-controller';

export class ServiceLoadBalancerController implements Controller {
  readonly name = 'service-lb';
  /** This controller's event broadcaster. */
  private readonly source = new EventSource(SOURCE_COMPONENT);
  private readonly queue = new WorkQueue();
  /** service key -> assigned address. */
  private readonly assigned = new Map<string, string>();
  /** LoadBalancer services still waiting for an address (retried when one frees up). */
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly pool: LoadBalancerPool,
    private readonly events: EventRecorder,
  ) {
    store.watch('Service', (ev) => {
      const key = ev.key;
      if (ev.type === 'DELETED') {
        this.pending.delete(key);
        const ip = this.assigned.get(key);
        if (ip !== undefined) this.release(key, ip);
        return;
      }
      // Its own status write changes nothing to reconcile (and would repeat a failure event).
      if (ev.type === 'MODIFIED' && ev.old?.spec === ev.object.spec) return;
      // Another implementation's Service (spec.loadBalancerClass): its status is that one's to
      // write (a manifest's or a status patch's ingress IPs stand, as many as it lists).
      if (ev.object.spec.loadBalancerClass !== undefined && !this.assigned.has(key)) return;
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

  /** MetalLB's allocator errors for what went wrong. */
  private allocationFailure(e: AllocationError, key: string, want: string | undefined): string {
    if (want === undefined || e.failure === 'full') return 'no available IPs';
    if (e.failure === 'allocated') {
      let owner = '';
      for (const [k, ip] of this.assigned) if (ip === want) owner = k;
      return `can't change sharing key for "${key}", address also in use by ${owner}`;
    }
    return `["${want}"] is not allowed in config`;
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
        this.events.event(this.source, svc, 'Normal', 'IPAllocated', `Assigned IP ["${ip}"]`);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        const why = this.allocationFailure(e, key, want);
        const message = `Failed to allocate IP for "${key}": ${why}`;
        this.events.event(this.source, svc, 'Warning', 'AllocationFailed', message);
      }
    }
    if (svc.spec.type === 'LoadBalancer' && ip === undefined) this.pending.add(key);
    else this.pending.delete(key);
    const ingress = ip === undefined ? undefined : [{ ip }];
    const status: NonNullable<Service['status']> = { loadBalancer: ingress ? { ingress } : {} };
    this.store.update({ ...svc, status });
  }
}
