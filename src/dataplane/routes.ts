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

/** Longest-prefix-match routing over a small table (tens of routes, hundreds at most). */
export class RoutingTable {
  private routes: Route[] = [];

  add(route: Route): void {
    this.routes = [...this.routes.filter((r) => !sameCidr(r.cidr, route.cidr)), route].sort(
      (a, b) => b.cidr.prefix - a.cidr.prefix,
    );
  }

  remove(cidr: Cidr): void {
    this.routes = this.routes.filter((r) => !sameCidr(r.cidr, cidr));
  }

  /** The best route for `dst`, or undefined (no route). */
  lookup(dst: number): Route | undefined {
    for (const r of this.routes) {
      if ((dst & prefixMask(r.cidr.prefix)) >>> 0 === r.cidr.base) return r;
    }
    return undefined;
  }

  list(): readonly Route[] {
    return this.routes;
  }
}

function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.base === b.base && a.prefix === b.prefix;
}
