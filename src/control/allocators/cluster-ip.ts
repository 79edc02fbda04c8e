// ClusterIP allocation from the service CIDR (kube-apiserver --service-cluster-ip-range).
// Network and broadcast addresses are excluded; dynamic picks are random (seeded RNG)
// from the upper band, leaving the first min(max(16, size/16), 256) addresses for
// static IPs such as 10.96.0.1 (kubernetes) and 10.96.0.10 (kube-dns).
import { cidrSize, formatCidr, parseCidr, tryIpToU32, u32ToIp } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import type { Rng } from '../rng.ts';
import { AllocationBitmap, AllocationError, rangeOffset } from './bitmap.ts';

export class ClusterIPAllocator {
  readonly cidr: Cidr;
  private readonly bitmap: AllocationBitmap;
  /** Address of bitmap index 0 (network address + 1). */
  private readonly first: number;

  constructor(serviceCidr: string, rng: Rng) {
    this.cidr = parseCidr(serviceCidr);
    const total = cidrSize(this.cidr);
    // IPv4 ranges lose network and broadcast (a /31 or /32 keeps what it has).
    const usable = total > 2 ? total - 2 : total;
    this.first = total > 2 ? this.cidr.base + 1 : this.cidr.base;
    this.bitmap = new AllocationBitmap(usable, rangeOffset(total, 16, 256, 16), rng);
  }

  get size(): number {
    return this.bitmap.size;
  }

  get used(): number {
    return this.bitmap.count;
  }

  has(ip: string): boolean {
    const n = tryIpToU32(ip);
    return n !== undefined && this.bitmap.has(n - this.first);
  }

  /** Reserve an explicitly requested address. */
  allocate(ip: string): void {
    const n = tryIpToU32(ip);
    const i = n === undefined ? -1 : n - this.first;
    if (i < 0 || i >= this.bitmap.size) {
      throw new AllocationError(
        'notInRange',
        `provided IP (${ip}) is not in the valid range. The range of valid IPs is ${formatCidr(this.cidr)}`,
      );
    }
    if (!this.bitmap.allocate(i)) {
      throw new AllocationError('allocated', 'provided IP is already allocated');
    }
  }

  /** A random free address. */
  allocateNext(): string {
    const i = this.bitmap.allocateNext();
    if (i === undefined) throw new AllocationError('full', 'range is full');
    return u32ToIp(this.first + i);
  }

  release(ip: string): void {
    const n = tryIpToU32(ip);
    if (n !== undefined) this.bitmap.release(n - this.first);
  }
}
