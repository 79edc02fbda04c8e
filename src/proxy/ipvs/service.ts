// A virtual service (struct ip_vs_service) with its real servers, following ip_vs_ctl.c:
// add/edit/delete of destinations call the scheduler's hooks in the kernel's order, a removed
// destination still referenced by connections goes to the "trash" (and is revived if added
// again), and weight 0 quiesces a server while its connections drain.
import {
  R_ACTIVE,
  R_ADDR,
  R_CONN_FLAGS,
  R_CURSOR,
  R_FLAGS,
  R_FWMARK,
  R_HEAD,
  R_INACT,
  R_LAST_WEIGHT,
  R_L_THRESHOLD,
  R_NETMASK,
  R_NEXT,
  R_PERSIST,
  R_PORT,
  R_PROTO,
  R_RR_NEXT,
  R_SCHED,
  R_TIMEOUT,
  R_U_THRESHOLD,
  R_WEIGHT,
  REC,
  SCHED_RR,
} from './arena.ts';
import type { IpvsArena } from './arena.ts';
import { DestFlag, IPPROTO_TCP, SvcFlag } from './constants.ts';
import {
  DestNode,
  destAt,
  destKey,
  listAddHeadSlot,
  listDel,
  listDelSlot,
  listToArray,
  newDestRecord,
} from './dest.ts';
import type { IpvsDest } from './dest.ts';
import { createScheduler } from './schedulers/index.ts';
import type { IpvsScheduler, SchedService } from './schedulers/index.ts';
import { IpvsStats } from './stats.ts';

/** What `ipvsadm -A/-E` says about a service. */
export interface ServiceSpec {
  readonly protocol: number;
  readonly addr: number;
  readonly port: number;
  /** Non-zero for a firewall-mark service (-f); then protocol/addr/port are 0. */
  readonly fwmark?: number;
  readonly scheduler: string;
  /** IP_VS_SVC_F_* (PERSISTENT, SCHED1..3). */
  readonly flags?: number;
  /** Persistence timeout in seconds (-p). */
  readonly timeout?: number;
  /** Persistence granularity (-M), default 255.255.255.255. */
  readonly netmask?: number;
}

/** What `ipvsadm -a/-e` says about a real server. */
export interface DestSpec {
  readonly addr: number;
  readonly port: number;
  readonly weight: number;
  /** Forwarding method (IP_VS_CONN_F_MASQ for kube-proxy). */
  readonly connFlags?: number;
  readonly uThreshold?: number;
  readonly lThreshold?: number;
}

/** Counters of destination operations: how the proxier proves a sync was a diff. */
export interface DestOpCounters {
  add: number;
  edit: number;
  del: number;
}

const NO_TRASH: ReadonlyMap<number, IpvsDest> = new Map();

/** Up to this many servers a lookup walks the list; past it a Map answers. */
const MAX_WALK = 16;

/** A virtual service; its counters and rates are its own fields (IpvsStats, `stats` is itself). */
export class VirtualService extends IpvsStats implements SchedService {
  readonly protocol: number;
  readonly addr: number;
  readonly port: number;
  readonly fwmark: number;
  schedulerName: string;
  scheduler: IpvsScheduler;
  /** The destination list's head, allocated right after the service: its record is next door. */
  readonly head: DestNode;
  numDests = 0;
  /** Times a scheduler found no usable destination, and its last reason. */
  noDestCount = 0;
  lastSchedulerError = '';
  /** Removed while still referenced by connections (ip_vs_dest_trash); made on first use. */
  private trashed: Map<number, IpvsDest> | undefined;
  /**
   * Servers by key, made once the list is longer than a short walk (ip_vs_lookup_dest() always
   * walks svc->destinations): most services have a few servers, and a Map each cost a full
   * sync ~10,000 Maps and a boxed key per server. Values are record slots.
   */
  private byKey: Map<number, number> | undefined;

  constructor(
    spec: ServiceSpec,
    private readonly ops: DestOpCounters = { add: 0, edit: 0, del: 0 },
    arena?: IpvsArena,
  ) {
    super(arena);
    this.head = new DestNode(this.arena);
    this.protocol = spec.fwmark ? 0 : spec.protocol;
    this.addr = spec.fwmark ? 0 : spec.addr >>> 0;
    this.port = spec.fwmark ? 0 : spec.port;
    this.fwmark = spec.fwmark ?? 0;
    const i = this.arena.i32;
    const r = this.slot * REC;
    i[r + R_PROTO] = this.protocol;
    i[r + R_ADDR] = this.addr;
    i[r + R_PORT] = this.port;
    i[r + R_FWMARK] = this.fwmark;
    i[r + R_HEAD] = this.head.slot;
    i[r + R_CURSOR] = this.head.slot;
    i[r + R_RR_NEXT] = -1;
    this.flags = (spec.flags ?? 0) | SvcFlag.HASHED;
    this.timeout = spec.timeout ?? 0;
    this.netmask = (spec.netmask ?? 0xffffffff) >>> 0;
    this.schedulerName = spec.scheduler;
    this.scheduler = createScheduler(spec.scheduler);
    i[r + R_SCHED] = spec.scheduler === 'rr' ? SCHED_RR : 0;
    this.scheduler.initService(this);
  }

  // IP_VS_SVC_F_* flags, persistence timeout and netmask live in the record (the packet path
  // reads them by slot).
  get flags(): number {
    return this.arena.i32[this.slot * REC + R_FLAGS]!;
  }
  set flags(v: number) {
    this.arena.i32[this.slot * REC + R_FLAGS] = v;
  }
  get timeout(): number {
    return this.arena.i32[this.slot * REC + R_TIMEOUT]!;
  }
  set timeout(v: number) {
    this.arena.i32[this.slot * REC + R_TIMEOUT] = v;
  }
  get netmask(): number {
    return this.arena.i32[this.slot * REC + R_NETMASK]! >>> 0;
  }
  set netmask(v: number) {
    this.arena.i32[this.slot * REC + R_NETMASK] = v;
  }

  /** rr's cursor (svc->sched_data): the last pick, or the head. */
  get rrCursor(): DestNode {
    return destAt(this.arena, this.arena.i32[this.slot * REC + R_CURSOR]!);
  }
  set rrCursor(n: DestNode) {
    this.arena.i32[this.slot * REC + R_CURSOR] = n.slot;
    this.arena.i32[this.slot * REC + R_RR_NEXT] = -1;
  }

  get stats(): IpvsStats {
    return this;
  }

  get persistent(): boolean {
    return (this.flags & SvcFlag.PERSISTENT) !== 0;
  }

  get isTcp(): boolean {
    return this.protocol === IPPROTO_TCP;
  }

  schedulerError(msg: string): void {
    this.noDestCount++;
    this.lastSchedulerError = msg;
  }

  /** The server's record slot (ip_vs_lookup_dest()), or -1: no handle made. */
  findDest(addr: number, port: number): number {
    if (this.byKey !== undefined) return this.byKey.get(destKey(addr, port)) ?? -1;
    const i32 = this.arena.i32;
    const head = this.head.slot;
    for (let n = i32[head * REC + R_NEXT]!; n !== head; n = i32[n * REC + R_NEXT]!) {
      if (i32[n * REC + R_PORT] === port && i32[n * REC + R_ADDR]! >>> 0 === addr >>> 0) return n;
    }
    return -1;
  }

  getDest(addr: number, port: number): IpvsDest | undefined {
    const n = this.findDest(addr, port);
    return n < 0 ? undefined : (destAt(this.arena, n) as IpvsDest);
  }

  /** Destinations in list order (newest first, as the kernel lists them before sorting). */
  dests(): IpvsDest[] {
    return listToArray(this.head);
  }

  /** Each server's destKey() in list order, read from the records (no handle made). */
  destKeys(): number[] {
    const out: number[] = [];
    const i32 = this.arena.i32;
    const head = this.head.slot;
    for (let n = i32[head * REC + R_NEXT]!; n !== head; n = i32[n * REC + R_NEXT]!) {
      out.push(destKey(i32[n * REC + R_ADDR]!, i32[n * REC + R_PORT]!));
    }
    return out;
  }

  /** ip_vs_add_dest(); throws "Destination already exists". */
  addDest(spec: DestSpec): IpvsDest {
    return destAt(this.arena, this.addDestSlot(spec)) as IpvsDest;
  }

  /**
   * addDest() returning the server's record slot: with a scheduler whose add hook does
   * nothing (rr and the least-connection family) no handle is made (a full sync's path).
   */
  addDestSlot(spec: DestSpec): number {
    const key = destKey(spec.addr, spec.port);
    if (this.findDest(spec.addr, spec.port) >= 0) throw new Error('Destination already exists');
    // ip_vs_trash_get_dest(): a dest still serving old connections comes back as it was.
    let slot: number;
    const trashed = this.trashed?.get(key);
    if (trashed !== undefined) {
      this.trashed!.delete(key);
      slot = trashed.slot;
    } else slot = newDestRecord(this.arena, spec.addr >>> 0, spec.port, spec.weight);
    this.update(slot, spec, true);
    if (this.byKey !== undefined) this.byKey.set(key, slot);
    else if (this.numDests > MAX_WALK) this.byKey = this.keyMap();
    this.ops.add++;
    return slot;
  }

  /** ip_vs_edit_dest(); throws "No such destination". */
  editDest(spec: DestSpec): IpvsDest {
    const slot = this.findDest(spec.addr, spec.port);
    if (slot < 0) throw new Error('No such destination');
    this.update(slot, spec, false);
    this.ops.edit++;
    return destAt(this.arena, slot) as IpvsDest;
  }

  /** ip_vs_del_dest(); throws "No such destination". */
  delDest(addr: number, port: number): IpvsDest {
    const key = destKey(addr, port);
    const slot = this.findDest(addr, port);
    if (slot < 0) throw new Error('No such destination');
    const dest = destAt(this.arena, slot) as IpvsDest;
    this.byKey?.delete(key);
    this.unlink(dest);
    if (dest.totalConns + dest.persistConns > 0) (this.trashed ??= new Map()).set(key, dest);
    else this.arena.release(dest.slot);
    this.ops.del++;
    return dest;
  }

  /** Drop trashed destinations no connection uses any more. */
  purgeTrash(): void {
    for (const [k, d] of this.trash) if (d.totalConns + d.persistConns === 0) this.dropTrashed(k);
  }

  /** The trashed destinations by key. */
  get trash(): ReadonlyMap<number, IpvsDest> {
    return this.trashed ?? NO_TRASH;
  }

  /** A trashed destination's last connection is gone: forget it (ip_vs_dest_put_and_free). */
  dropTrashed(key: number): void {
    const d = this.trashed?.get(key);
    if (d === undefined) return;
    this.trashed!.delete(key);
    this.arena.release(d.slot);
  }

  /** ip_vs_edit_service(): new scheduler (rebound) and/or flags, timeout, netmask. */
  edit(spec: ServiceSpec): void {
    if (spec.scheduler !== this.schedulerName) {
      this.scheduler.doneService(this);
      this.schedulerName = spec.scheduler;
      this.scheduler = createScheduler(spec.scheduler);
      this.arena.i32[this.slot * REC + R_SCHED] = spec.scheduler === 'rr' ? SCHED_RR : 0;
      this.scheduler.initService(this);
    }
    this.flags = (spec.flags ?? 0) | SvcFlag.HASHED;
    this.timeout = spec.timeout ?? 0;
    this.netmask = (spec.netmask ?? 0xffffffff) >>> 0;
  }

  /** __ip_vs_del_service(): unlink every destination and release the scheduler. */
  destroy(): void {
    const i32 = this.arena.i32;
    const head = this.head.slot;
    for (let n = i32[head * REC + R_NEXT]!; n !== head;) {
      const next = i32[n * REC + R_NEXT]!;
      const r = n * REC;
      i32[r + R_FLAGS] = i32[r + R_FLAGS]! & ~DestFlag.AVAILABLE;
      listDelSlot(i32, n);
      this.numDests--;
      i32[this.slot * REC + R_RR_NEXT] = -1;
      if (i32[r + R_ACTIVE]! + i32[r + R_INACT]! + i32[r + R_PERSIST]! > 0) {
        const d = destAt(this.arena, n) as IpvsDest;
        (this.trashed ??= new Map()).set(d.key, d);
      } else this.arena.release(n);
      n = next;
    }
    this.byKey = undefined;
    this.scheduler.doneService(this);
  }

  /** __ip_vs_update_dest() on the server's record. */
  private update(slot: number, spec: DestSpec, add: boolean): void {
    const i32 = this.arena.i32;
    const r = slot * REC;
    // Keep last_weight at the latest non-zero weight (mh keeps a quiesced server's slots).
    if (add || spec.weight !== 0) i32[r + R_LAST_WEIGHT] = spec.weight;
    i32[r + R_WEIGHT] = spec.weight;
    if (spec.connFlags !== undefined) i32[r + R_CONN_FLAGS] = spec.connFlags;
    let flags = i32[r + R_FLAGS]! | DestFlag.AVAILABLE;
    const u = spec.uThreshold ?? 0;
    if (u === 0 || u > i32[r + R_U_THRESHOLD]!) flags &= ~DestFlag.OVERLOAD;
    i32[r + R_FLAGS] = flags;
    i32[r + R_U_THRESHOLD] = u;
    i32[r + R_L_THRESHOLD] = spec.lThreshold ?? 0;
    if (add) {
      listAddHeadSlot(i32, this.head.slot, slot);
      this.numDests++;
      i32[this.slot * REC + R_RR_NEXT] = -1;
      if (this.scheduler.noAddHooks !== true)
        this.scheduler.addDest(this, destAt(this.arena, slot) as IpvsDest);
    } else if (this.scheduler.noAddHooks !== true) {
      this.scheduler.updDest(this, destAt(this.arena, slot) as IpvsDest);
    }
  }

  /** Servers by key, from the list (once it outgrows a walk). */
  private keyMap(): Map<number, number> {
    const m = new Map<number, number>();
    const i32 = this.arena.i32;
    const head = this.head.slot;
    for (let n = i32[head * REC + R_NEXT]!; n !== head; n = i32[n * REC + R_NEXT]!) {
      m.set(destKey(i32[n * REC + R_ADDR]!, i32[n * REC + R_PORT]!), n);
    }
    return m;
  }

  /** __ip_vs_unlink_dest(): not available, off the list, then the scheduler is told. */
  private unlink(dest: IpvsDest): void {
    dest.flags &= ~DestFlag.AVAILABLE;
    listDel(dest);
    this.numDests--;
    this.arena.i32[this.slot * REC + R_RR_NEXT] = -1;
    this.scheduler.delDest(this, dest);
  }
}
