// NodePort allocation (kube-apiserver --service-node-port-range, default 30000-32767):
// explicit ports honoured, dynamic ones random from the upper band of the range,
// leaving the first min(max(16, size/32), 128) ports for explicit requests.
import type { Rng } from '../rng.ts';
import { AllocationBitmap, AllocationError, rangeOffset } from './bitmap.ts';

export interface PortRange {
  min: number;
  max: number;
}

/** Parse `30000-32767`. */
export function parsePortRange(s: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(s.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new Error(`invalid port range: ${s}`);
  return { min, max };
}

export class NodePortAllocator {
  private readonly bitmap: AllocationBitmap;

  constructor(
    readonly range: PortRange,
    rng: Rng,
  ) {
    const size = range.max - range.min + 1;
    this.bitmap = new AllocationBitmap(size, rangeOffset(size, 16, 128, 32), rng);
  }

  get used(): number {
    return this.bitmap.count;
  }

  has(port: number): boolean {
    return this.bitmap.has(port - this.range.min);
  }

  allocate(port: number): void {
    if (!Number.isInteger(port) || port < this.range.min || port > this.range.max) {
      throw new AllocationError(
        'notInRange',
        `provided port is not in the valid range. The range of valid ports is ${this.range.min}-${this.range.max}`,
      );
    }
    if (!this.bitmap.allocate(port - this.range.min)) {
      throw new AllocationError('allocated', 'provided port is already allocated');
    }
  }

  allocateNext(): number {
    const i = this.bitmap.allocateNext();
    if (i === undefined) throw new AllocationError('full', 'range is full');
    return this.range.min + i;
  }

  release(port: number): void {
    this.bitmap.release(port - this.range.min);
  }
}
