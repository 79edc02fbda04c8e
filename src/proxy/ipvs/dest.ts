// A real server (struct ip_vs_dest) and the service's circular destination list with its
// head sentinel (struct list_head). The schedulers walk this list exactly as the kernel
// walks svc->destinations, so "start after the last pick" and "newest first" behave alike:
// __ip_vs_update_dest() adds with list_add_rcu(), i.e. at the HEAD of the list.
// Every field lives in the node's arena record (arena.ts); the properties here read and write
// it. A server's record is made without its handle (newDestRecord) and the handle on first
// request (destAt), so the list can be walked either by slot or by object.
import {
  R_ACTIVE,
  R_ADDR,
  R_CONN_FLAGS,
  R_FLAGS,
  R_INACT,
  R_LAST_WEIGHT,
  R_L_THRESHOLD,
  R_NEXT,
  R_PERSIST,
  R_PORT,
  R_PREV,
  R_U_THRESHOLD,
  R_WEIGHT,
  REC,
} from './arena.ts';
import type { IpvsArena } from './arena.ts';
import { ConnFlag, DestFlag } from './constants.ts';
import { IpvsStats } from './stats.ts';

/**
 * A list link; the head sentinel is a bare DestNode, every other node an IpvsDest. A node
 * carries its own counters (IpvsStats as the base class, `stats` is the node itself). The
 * links are slots in the arena record.
 */
export class DestNode extends IpvsStats {
  /** Index of the record's first Int32 word. */
  protected get r(): number {
    return this.slot * REC;
  }

  /** @param slot an existing record to adopt (links kept); by default a new self-linked one. */
  constructor(arena?: IpvsArena, slot = -1) {
    super(arena, slot);
    if (slot >= 0) return;
    this.arena.i32[this.r + R_NEXT] = this.slot;
    this.arena.i32[this.r + R_PREV] = this.slot;
  }

  get next(): DestNode {
    return destAt(this.arena, this.arena.i32[this.r + R_NEXT]!);
  }
  set next(n: DestNode) {
    this.arena.i32[this.r + R_NEXT] = n.slot;
  }
  get prev(): DestNode {
    return destAt(this.arena, this.arena.i32[this.r + R_PREV]!);
  }
  set prev(n: DestNode) {
    this.arena.i32[this.r + R_PREV] = n.slot;
  }
}

/** Key of a destination inside one service: address and port in one number. */
export function destKey(addr: number, port: number): number {
  return (addr >>> 0) * 65536 + port;
}

/**
 * A server's record without its handle, self-linked (struct ip_vs_dest as ip_vs_new_dest()
 * leaves it: available, masquerading). Returns the slot.
 */
export function newDestRecord(
  arena: IpvsArena,
  addr: number,
  port: number,
  weight: number,
): number {
  const slot = arena.alloc(undefined);
  const i = arena.i32;
  const r = slot * REC;
  i[r + R_NEXT] = slot;
  i[r + R_PREV] = slot;
  i[r + R_ADDR] = addr;
  i[r + R_PORT] = port;
  i[r + R_WEIGHT] = weight;
  i[r + R_LAST_WEIGHT] = weight;
  i[r + R_FLAGS] = DestFlag.AVAILABLE;
  i[r + R_CONN_FLAGS] = ConnFlag.MASQ;
  return slot;
}

/**
 * The list node at `slot`: a head's object, or a server's handle, made now if it has none
 * yet. A released record has no node; asking for one is a bug.
 */
export function destAt(arena: IpvsArena, slot: number): DestNode {
  const o = arena.objs[slot] as DestNode | null | undefined;
  if (o !== undefined) {
    if (o === null) throw new Error(`ipvs: record ${slot} was released`);
    return o;
  }
  return new IpvsDest(0, 0, 0, arena, slot);
}

export class IpvsDest extends DestNode {
  /** @param slot an existing server record to adopt (newDestRecord); then the rest is unread. */
  constructor(addr: number, port: number, weight: number, arena?: IpvsArena, slot = -1) {
    super(arena, slot);
    if (slot >= 0) return;
    const i = this.arena.i32;
    i[this.r + R_ADDR] = addr;
    i[this.r + R_PORT] = port;
    i[this.r + R_WEIGHT] = weight;
    i[this.r + R_LAST_WEIGHT] = weight;
    i[this.r + R_FLAGS] = DestFlag.AVAILABLE;
    i[this.r + R_CONN_FLAGS] = ConnFlag.MASQ;
  }

  get addr(): number {
    return this.arena.i32[this.r + R_ADDR]! >>> 0;
  }
  get port(): number {
    return this.arena.i32[this.r + R_PORT]!;
  }
  get weight(): number {
    return this.arena.i32[this.r + R_WEIGHT]!;
  }
  set weight(v: number) {
    this.arena.i32[this.r + R_WEIGHT] = v;
  }
  /** Latest non-zero weight (mh keeps a quiesced server's table slots with it). */
  get lastWeight(): number {
    return this.arena.i32[this.r + R_LAST_WEIGHT]!;
  }
  set lastWeight(v: number) {
    this.arena.i32[this.r + R_LAST_WEIGHT] = v;
  }
  get flags(): number {
    return this.arena.i32[this.r + R_FLAGS]!;
  }
  set flags(v: number) {
    this.arena.i32[this.r + R_FLAGS] = v;
  }
  /** Forwarding method and other per-connection flags (IP_VS_CONN_F_MASQ for kube-proxy). */
  get connFlags(): number {
    return this.arena.i32[this.r + R_CONN_FLAGS]!;
  }
  set connFlags(v: number) {
    this.arena.i32[this.r + R_CONN_FLAGS] = v;
  }
  /** Upper/lower connection thresholds (0 = none), ipvsadm -x/-y. */
  get uThreshold(): number {
    return this.arena.i32[this.r + R_U_THRESHOLD]!;
  }
  set uThreshold(v: number) {
    this.arena.i32[this.r + R_U_THRESHOLD] = v;
  }
  get lThreshold(): number {
    return this.arena.i32[this.r + R_L_THRESHOLD]!;
  }
  set lThreshold(v: number) {
    this.arena.i32[this.r + R_L_THRESHOLD] = v;
  }
  get activeConns(): number {
    return this.arena.i32[this.r + R_ACTIVE]!;
  }
  set activeConns(v: number) {
    this.arena.i32[this.r + R_ACTIVE] = v;
  }
  get inactConns(): number {
    return this.arena.i32[this.r + R_INACT]!;
  }
  set inactConns(v: number) {
    this.arena.i32[this.r + R_INACT] = v;
  }
  get persistConns(): number {
    return this.arena.i32[this.r + R_PERSIST]!;
  }
  set persistConns(v: number) {
    this.arena.i32[this.r + R_PERSIST] = v;
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

/** listAddHead() by slots (`i32` the arena's words). */
export function listAddHeadSlot(i32: Int32Array, head: number, node: number): void {
  const first = i32[head * REC + R_NEXT]!;
  i32[node * REC + R_PREV] = head;
  i32[node * REC + R_NEXT] = first;
  i32[first * REC + R_PREV] = node;
  i32[head * REC + R_NEXT] = node;
}

/** listDel() by slots: the node's own links stay, as in listDel(). */
export function listDelSlot(i32: Int32Array, node: number): void {
  const next = i32[node * REC + R_NEXT]!;
  const prev = i32[node * REC + R_PREV]!;
  i32[prev * REC + R_NEXT] = next;
  i32[next * REC + R_PREV] = prev;
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
