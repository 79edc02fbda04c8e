// A node's interfaces and its routing table (longest prefix match), as a Kubernetes node
// with a host-gw style CNI has them: one interface per local pod (a /32 route each),
// the uplink to the node network, other nodes' pod CIDRs via those nodes' IPs, and a
// default route out of the uplink.
import { type Cidr, prefixMask } from '../packet/addr.ts';

export const enum IfaceKind {
  /** The node's own stack: packets it generates enter here, local delivery leaves here. */
  Local = 0,
  /** The node network (eth0). */
  Uplink = 1,
  /** A pod's veth. */
  Pod = 2,
}

export interface Iface {
  readonly index: number;
  readonly name: string;
  readonly kind: IfaceKind;
  /** The address the node uses on this interface (ICMP errors, MASQUERADE source). */
  readonly addr: number;
}

export interface Route {
  readonly cidr: Cidr;
  readonly ifIndex: number;
  /** Next hop; 0 = on-link (deliver to the destination itself). */
  readonly gateway: number;
}

/**
 * Longest-prefix-match routing over a small table (tens of routes, hundreds at most).
 * Host (/32) routes — one per local pod — sit in a Map; the few shorter prefixes are
 * scanned longest first with their masks precomputed.
 */
export class RoutingTable {
  private routes: Route[] = [];
  private hosts = new Map<number, Route>();
  private nets: Route[] = [];
  private netBase = new Uint32Array(0);
  private netMask = new Uint32Array(0);
  /** Bumped by every change, so a cached route knows when it may be stale. */
  generation = 0;

  add(route: Route): void {
    this.routes = [...this.routes.filter((r) => !sameCidr(r.cidr, route.cidr)), route].sort(
      (a, b) => b.cidr.prefix - a.cidr.prefix,
    );
    this.reindex();
  }

  remove(cidr: Cidr): void {
    this.routes = this.routes.filter((r) => !sameCidr(r.cidr, cidr));
    this.reindex();
  }

  /** The best route for `dst`, or undefined (no route). */
  lookup(dst: number): Route | undefined {
    const d = dst >>> 0;
    const h = this.hosts.get(d);
    if (h !== undefined) return h;
    const base = this.netBase;
    const mask = this.netMask;
    for (let i = 0; i < base.length; i++) {
      if ((d & mask[i]!) >>> 0 === base[i]) return this.nets[i];
    }
    return undefined;
  }

  list(): readonly Route[] {
    return this.routes;
  }

  private reindex(): void {
    const hosts = new Map<number, Route>();
    const nets: Route[] = [];
    for (const r of this.routes) {
      if (r.cidr.prefix === 32) {
        // The first /32 for an address wins, as the sorted scan would pick it.
        if (!hosts.has(r.cidr.base >>> 0)) hosts.set(r.cidr.base >>> 0, r);
      } else nets.push(r);
    }
    this.hosts = hosts;
    this.nets = nets;
    this.netBase = Uint32Array.from(nets, (r) => r.cidr.base);
    this.netMask = Uint32Array.from(nets, (r) => prefixMask(r.cidr.prefix));
    this.generation++;
  }
}

function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.base === b.base && a.prefix === b.prefix;
}
