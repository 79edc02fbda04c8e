// A real server (struct ip_vs_dest) and the service's circular destination list with its
// head sentinel (struct list_head). The schedulers walk this list exactly as the kernel
// walks svc->destinations, so "start after the last pick" and "newest first" behave alike:
// __ip_vs_update_dest() adds with list_add_rcu(), i.e. at the HEAD of the list.
import { ConnFlag, DestFlag } from './constants.ts';
import { IpvsStats } from './stats.ts';

/**
 * A list link; the head sentinel is a bare DestNode, every other node an IpvsDest. A node
 * carries its own counters (IpvsStats as the base class, `stats` is the node itself): a
 * new connection's first packet then reads one object per server, not two.
 */
export class DestNode extends IpvsStats {
  next: DestNode = this;
  prev: DestNode = this;
}

/** Key of a destination inside one service: address and port in one number. */
export function destKey(addr: number, port: number): number {
  return (addr >>> 0) * 65536 + port;
}

export class IpvsDest extends DestNode {
  weight: number;
  /** Latest non-zero weight (mh keeps a quiesced server's table slots with it). */
  lastWeight: number;
  flags: number = DestFlag.AVAILABLE;
  /** Forwarding method and other per-connection flags (IP_VS_CONN_F_MASQ for kube-proxy). */
  connFlags: number = ConnFlag.MASQ;
  /** Upper/lower connection thresholds (0 = none), ipvsadm -x/-y. */
  uThreshold = 0;
  lThreshold = 0;
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;

  constructor(
    readonly addr: number,
    readonly port: number,
    weight: number,
  ) {
    super();
    this.weight = weight;
    this.lastWeight = weight;
  }

  /** The server's counters and rates (the object itself). */
  get stats(): IpvsStats {
    return this;
  }

  get key(): number {
    return destKey(this.addr, this.port);
  }

  get available(): boolean {
    return (this.flags & DestFlag.AVAILABLE) !== 0;
  }

  get overloaded(): boolean {
    return (this.flags & DestFlag.OVERLOAD) !== 0;
  }

  /** ip_vs_dest_totalconns(). */
  get totalConns(): number {
    return this.activeConns + this.inactConns;
  }
}

/** list_add_rcu(new, head): insert right after the head, i.e. first. */
export function listAddHead(head: DestNode, node: DestNode): void {
  const first = head.next;
  node.prev = head;
  node.next = first;
  first.prev = node;
  head.next = node;
}

/** list_del_rcu(): unlink; like the kernel, `node.next` stays valid for a cursor parked on it. */
export function listDel(node: DestNode): void {
  node.prev.next = node.next;
  node.next.prev = node.prev;
}

/** The list's destinations in list order (views and tests; not for the hot path). */
export function listToArray(head: DestNode): IpvsDest[] {
  const out: IpvsDest[] = [];
  for (let n = head.next; n !== head; n = n.next) out.push(n as IpvsDest);
  return out;
}
