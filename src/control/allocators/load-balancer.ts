// LoadBalancer ingress addresses from a configured pool. There is no cloud here: this
// simulates what MetalLB (layer 2) or a cloud controller does, handing out the lowest
// free pool address (or a requested spec.loadBalancerIP) into status.loadBalancer.ingress.
import { cidrSize, parseCidr, tryIpToU32, u32ToIp } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import { AllocationError } from './bitmap.ts';

export class LoadBalancerPool {
  readonly cidr: Cidr;
  private readonly first: number;
  private readonly size: number;
  private readonly used = new Set<number>();

  constructor(pool: string) {
    this.cidr = parseCidr(pool);
    const total = cidrSize(this.cidr);
    // Skip network and broadcast addresses of the pool.
    this.first = total > 2 ? this.cidr.base + 1 : this.cidr.base;
    this.size = total > 2 ? total - 2 : total;
  }

  get count(): number {
    return this.used.size;
  }

  allocate(ip: string): void {
    const n = tryIpToU32(ip);
    if (n === undefined || n < this.first || n >= this.first + this.size) {
      throw new AllocationError('notInRange', `${ip} is not in the load-balancer pool`);
    }
    if (this.used.has(n)) throw new AllocationError('allocated', `${ip} is already allocated`);
    this.used.add(n);
  }

  allocateNext(): string {
    for (let i = 0; i < this.size; i++) {
      if (!this.used.has(this.first + i)) {
        this.used.add(this.first + i);
        return u32ToIp(this.first + i);
      }
    }
    throw new AllocationError('full', 'load-balancer pool is exhausted');
  }

  release(ip: string): void {
    const n = tryIpToU32(ip);
    if (n !== undefined) this.used.delete(n);
  }
}
