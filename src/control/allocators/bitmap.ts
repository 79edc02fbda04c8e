// A bitmap over [0, size) with Kubernetes' allocation strategy
// (pkg/registry/core/service/allocator: randomScanStrategyWithOffset, KEP-3070):
// dynamic picks start at a random point in the upper band [offset, size) and scan
// forward, falling back to the lower band [0, offset) only when the upper one is full,
// so the lower band stays free for explicitly requested values.
import type { Rng } from '../rng.ts';

export class AllocationBitmap {
  private readonly words: Uint32Array;
  private used = 0;

  constructor(
    readonly size: number,
    private readonly offset: number,
    private readonly rng: Rng,
  ) {
    if (size < 0 || offset < 0 || offset > size) throw new RangeError('bad bitmap geometry');
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  get count(): number {
    return this.used;
  }

  has(i: number): boolean {
    return i >= 0 && i < this.size && (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Mark `i` used; false if out of range or taken. */
  allocate(i: number): boolean {
    if (i < 0 || i >= this.size || this.has(i)) return false;
    this.words[i >>> 5]! |= 1 << (i & 31);
    this.used++;
    return true;
  }

  release(i: number): void {
    if (!this.has(i)) return;
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    this.used--;
  }

  /** A free index chosen with the upper-band random-scan strategy, or undefined if full. */
  allocateNext(): number | undefined {
    if (this.used >= this.size) return undefined;
    const upper = this.size - this.offset;
    let at: number | undefined;
    if (upper > 0) at = this.scan(this.offset, upper, this.rng.int(upper));
    if (at === undefined && this.offset > 0)
      at = this.scan(0, this.offset, this.rng.int(this.offset));
    if (at !== undefined) this.allocate(at);
    return at;
  }

  /** First free index in [base, base+len) scanning from base+start with wrap-around. */
  private scan(base: number, len: number, start: number): number | undefined {
    for (let i = 0; i < len;) {
      const at = base + ((start + i) % len);
      const word = this.words[at >>> 5]!;
      // Skip a whole full word when aligned (keeps exhaustion scans fast).
      if (word === 0xffffffff && (at & 31) === 0 && i + 32 <= len && at + 32 <= base + len) {
        i += 32;
        continue;
      }
      if ((word & (1 << (at & 31))) === 0) return at;
      i++;
    }
    return undefined;
  }
}

/** min(max(min, size/step), max), 0 for tiny ranges (calculateRangeOffset). */
export function rangeOffset(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / step)), max);
}

export type AllocationFailure = 'full' | 'allocated' | 'notInRange';

/** An allocator refusal; the service registry turns it into the API server's message. */
export class AllocationError extends Error {
  constructor(
    readonly failure: AllocationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AllocationError';
  }
}
