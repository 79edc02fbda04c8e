// Pod addressing: each node gets a /24 (kube-controller-manager --node-cidr-mask-size)
// carved in node order from the cluster pod CIDR, and pods get addresses the way the
// CNI host-local IPAM plugin hands them out: .1 is the bridge gateway (cni0), the next
// address after the last one reserved is used, wrapping around. A replaced pod
// therefore gets a new IP even though its predecessor's address was freed.
import { cidrSize, formatCidr, parseCidr, tryIpToU32, u32ToIp } from '../packet/addr.ts';
import type { Cidr } from '../packet/addr.ts';

/** The `index`-th /maskSize subnet of `clusterCidr` (10.244.0.0/16, 24, 2 -> 10.244.2.0/24). */
export function nodePodCidr(clusterCidr: string, maskSize: number, index: number): string {
  const c = parseCidr(clusterCidr);
  if (maskSize < c.prefix || maskSize > 30) {
    throw new Error(`node CIDR mask /${maskSize} does not fit in ${clusterCidr}`);
  }
  const count = 2 ** (maskSize - c.prefix);
  if (index >= count) {
    throw new Error(
      `pod CIDR ${clusterCidr} has no room for node #${index + 1} (/${maskSize} each)`,
    );
  }
  return formatCidr({ base: (c.base + index * 2 ** (32 - maskSize)) >>> 0, prefix: maskSize });
}

/**
 * Dotted quad as one flat string: a template literal of 13+ characters is a tree of cons
 * strings, flattened (copied) again by the first map or parser that reads the pod's IP.
 */
function flatIp(n: number): string {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** host-local IPAM for one node's pod CIDR. */
export class HostLocalIpam {
  readonly cidr: Cidr;
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();
  private lastReserved: number;

  constructor(podCidr: string) {
    this.cidr = parseCidr(podCidr);
    // rangeStart = network+2 (network+1 is the gateway), rangeEnd = broadcast-1.
    this.first = this.cidr.base + 2;
    this.last = this.cidr.base + cidrSize(this.cidr) - 2;
    this.lastReserved = this.first - 1;
  }

  get gateway(): string {
    return u32ToIp(this.cidr.base + 1);
  }

  get count(): number {
    return this.used.size;
  }

  /** Next free address after the last one handed out; undefined if the range is full. */
  allocate(): string | undefined {
    const span = this.last - this.first + 1;
    for (let i = 1; i <= span; i++) {
      const n = this.first + ((this.lastReserved - this.first + i) % span);
      if (!this.used.has(n)) {
        this.used.add(n);
        this.lastReserved = n;
        return flatIp(n >>> 0);
      }
    }
    return undefined;
  }

  release(ip: string): void {
    const n = tryIpToU32(ip);
    if (n !== undefined) this.used.delete(n);
  }
}
