// The virtual-service table: services hashed on (protocol, address, port) plus a table of
// firewall-mark services, looked up in ip_vs_service_find()'s order (fwmark first, then the
// exact address:port, then a port-zero catch-all). The kernel chains 256 buckets
// (IP_VS_SVC_TAB_BITS); here it is an open-addressing table in typed arrays that doubles as
// it fills, so a lookup stays O(1) at 100,000 services.
import { IpvsArena } from './arena.ts';
import { VirtualService } from './service.ts';
import type { DestOpCounters, ServiceSpec } from './service.ts';

const EMPTY = 0;
const TOMB = 0xffffffff;

/** Port and protocol in one word; never 0 (protocol is never 0 here) and never TOMB. */
function portProto(proto: number, port: number): number {
  return ((port << 8) | proto) >>> 0;
}

function mix(addr: number, pp: number): number {
  let h = Math.imul(addr ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(pp, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

export class ServiceTable {
  private cap = 1024;
  /** [portProto, addr, service's arena slot, -] per hash slot: one cache line holds a probe run. */
  private keys = new Uint32Array(this.cap * 4);
  private used = 0; // live + tombstones
  private live = 0;
  private readonly fwmarks = new Map<number, VirtualService>();
  /** Services in creation order (the views sort them the way ipvsadm does). */
  private readonly all = new Set<VirtualService>();
  private portZero = 0;
  /** Destination add/edit/delete operations on every service (the sync-diff proof). */
  readonly destOps: DestOpCounters = { add: 0, edit: 0, del: 0 };
  /** The records of every service, list head and server of this table (arena.ts). */
  readonly arena = new IpvsArena();

  get size(): number {
    return this.all.size;
  }

  services(): IterableIterator<VirtualService> {
    return this.all.values();
  }

  /** Exact lookup by (protocol, address, port) (__ip_vs_service_find). */
  find(proto: number, addr: number, port: number): VirtualService | null {
    const slot = this.findSlot(proto, addr, port);
    return slot < 0 ? null : (this.arena.objs[slot] as VirtualService);
  }

  /** find() as the service's arena slot, or -1: one probe run in one cache line, no object. */
  findSlot(proto: number, addr: number, port: number): number {
    const pp = portProto(proto, port);
    const a = addr >>> 0;
    const mask = this.cap - 1;
    const keys = this.keys;
    for (let i = mix(a, pp) & mask; ; i = (i + 1) & mask) {
      const k = keys[4 * i]!;
      if (k === EMPTY) return -1;
      if (k === pp && keys[4 * i + 1] === a) return keys[4 * i + 2]!;
    }
  }

  /** lookup() as an arena slot, or -1. */
  lookupSlot(proto: number, addr: number, port: number, fwmark: number): number {
    if (fwmark !== 0 && this.fwmarks.size > 0) {
      const s = this.fwmarks.get(fwmark);
      if (s !== undefined) return s.slot;
    }
    const s = this.findSlot(proto, addr, port);
    if (s >= 0 || this.portZero === 0) return s;
    return this.findSlot(proto, addr, 0);
  }

  findFwmark(fwmark: number): VirtualService | null {
    return this.fwmarks.get(fwmark) ?? null;
  }

  /** ip_vs_service_find(): the service a new flow belongs to, or null. */
  lookup(proto: number, addr: number, port: number, fwmark: number): VirtualService | null {
    if (fwmark !== 0 && this.fwmarks.size > 0) {
      const s = this.fwmarks.get(fwmark);
      if (s !== undefined) return s;
    }
    const s = this.find(proto, addr, port);
    if (s !== null || this.portZero === 0) return s;
    return this.find(proto, addr, 0);
  }

  /** ip_vs_add_service(); throws "Service already exists". */
  add(spec: ServiceSpec): VirtualService {
    if (spec.fwmark) {
      if (this.fwmarks.has(spec.fwmark)) throw new Error('Service already exists');
      const svc = new VirtualService(spec, this.destOps, this.arena);
      this.fwmarks.set(spec.fwmark, svc);
      this.all.add(svc);
      return svc;
    }
    if (this.find(spec.protocol, spec.addr, spec.port) !== null) {
      throw new Error('Service already exists');
    }
    const svc = new VirtualService(spec, this.destOps, this.arena);
    this.insert(svc);
    this.all.add(svc);
    if (svc.port === 0) this.portZero++;
    return svc;
  }

  /** ip_vs_del_service(). */
  delete(svc: VirtualService): void {
    if (!this.all.delete(svc)) throw new Error('No such service');
    svc.destroy();
    if (svc.fwmark !== 0) {
      this.fwmarks.delete(svc.fwmark);
      return;
    }
    if (svc.port === 0) this.portZero--;
    const pp = portProto(svc.protocol, svc.port);
    const mask = this.cap - 1;
    for (let i = mix(svc.addr, pp) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[4 * i]!;
      if (k === EMPTY) return;
      if (k === pp && this.keys[4 * i + 1] === svc.addr) {
        this.keys[4 * i] = TOMB;
        this.live--;
        return;
      }
    }
  }

  /** `ipvsadm -C`. */
  clear(): void {
    for (const s of [...this.all]) this.delete(s);
  }

  private insert(svc: VirtualService): void {
    if ((this.used + 1) * 2 > this.cap)
      this.rehash(this.live * 4 > this.cap ? this.cap * 2 : this.cap);
    const pp = portProto(svc.protocol, svc.port);
    const mask = this.cap - 1;
    let i = mix(svc.addr, pp) & mask;
    while (this.keys[4 * i] !== EMPTY && this.keys[4 * i] !== TOMB) i = (i + 1) & mask;
    if (this.keys[4 * i] === EMPTY) this.used++;
    this.keys[4 * i] = pp;
    this.keys[4 * i + 1] = svc.addr;
    this.keys[4 * i + 2] = svc.slot;
    this.live++;
  }

  /** Grow (or just sweep tombstones at the same size). */
  private rehash(cap: number): void {
    const old = this.keys;
    this.cap = cap;
    this.keys = new Uint32Array(cap * 4);
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < old.length; i += 4) {
      const k = old[i]!;
      if (k !== EMPTY && k !== TOMB) this.insert(this.arena.objs[old[i + 2]!] as VirtualService);
    }
  }
}
