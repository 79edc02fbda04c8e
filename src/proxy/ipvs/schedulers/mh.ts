// Maglev hashing (net/netfilter/ipvs/ip_vs_mh.c; Eisenbud et al., NSDI'16 s3.4). Each server
// gets a permutation of the 4093-slot lookup table (offset and skip from hsiphash of its
// address+port); servers take turns claiming their next free preferred slot, weight/gcd turns
// each. A flow's slot is hsiphash(sport? + saddr) % 4093. When one of N servers leaves, only
// about 1/N of the slots change owner. Quiesced servers keep their slots (last_weight).
import type { IpvsDest } from '../dest.ts';
import { SCHED_MH_FALLBACK, SCHED_MH_PORT } from '../constants.ts';
import { MH_HASH1, MH_HASH2, fls, gcd, hsiphashU32 } from '../hash.ts';
import type { HsipKey } from '../hash.ts';
import { hashPort } from './sh.ts';
import { NO_DEST, unavailable } from './scheduler.ts';
import type { IpvsScheduler, SchedPacket, SchedService } from './scheduler.ts';

/** primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the default index 12. */
export const MH_TAB_SIZE = 4093;
/** IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2. */
const MH_TAB_BITS = 6;

/** ip_vs_mh_hashkey(): hsiphash of (offset + port + addr) as a u32. */
export function mhHashKey(addr: number, port: number, key: HsipKey, offset: number): number {
  return hsiphashU32((offset + port + addr) >>> 0, key);
}

export class MaglevHashingScheduler implements IpvsScheduler {
  readonly name = 'mh';
  readonly lookup: (IpvsDest | null)[] = new Array<IpvsDest | null>(MH_TAB_SIZE).fill(null);
  private g = 0;
  private rshift = 0;

  /** ip_vs_mh_gcd_weight(): gcd of the positive last weights (0 if none). */
  private gcdWeight(svc: SchedService): number {
    let g = 0;
    for (let n = svc.head.next; n !== svc.head; n = n.next) {
      const w = (n as IpvsDest).lastWeight;
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
    }
    return g;
  }

  /** ip_vs_mh_shift_weight(): keep max weight/gcd within IP_VS_MH_TAB_BITS bits. */
  private shiftWeight(svc: SchedService, g: number): number {
    if (g < 1) return 0;
    let weight = 0;
    for (let n = svc.head.next; n !== svc.head; n = n.next) {
      weight = Math.max(weight, (n as IpvsDest).lastWeight);
    }
    const shift = fls(Math.floor(weight / g)) - MH_TAB_BITS;
    return shift >= 0 ? shift : 0;
  }

  /** ip_vs_mh_reassign(): permutate, then populate the lookup table. */
  private reassign(svc: SchedService): void {
    this.g = this.gcdWeight(svc);
    this.rshift = this.shiftWeight(svc, this.g);
    if (svc.numDests > MH_TAB_SIZE) return; // -EINVAL in the kernel: table left as it was
    if (this.g < 1) {
      this.lookup.fill(null);
      return;
    }
    // ip_vs_mh_permutate(): offset, skip and turns per server, in list order.
    const dests: IpvsDest[] = [];
    const perm: number[] = [];
    const skip: number[] = [];
    const turns: number[] = [];
    for (let n = svc.head.next; n !== svc.head; n = n.next) {
      const d = n as IpvsDest;
      dests.push(d);
      perm.push(mhHashKey(d.addr, d.port, MH_HASH1, 0) % MH_TAB_SIZE);
      skip.push((mhHashKey(d.addr, d.port, MH_HASH2, 0) % (MH_TAB_SIZE - 1)) + 1);
      const lw = d.lastWeight;
      turns.push(Math.floor(lw / this.g) >> this.rshift || (lw !== 0 ? 1 : 0));
    }
    // ip_vs_mh_populate()
    const taken = new Uint8Array(MH_TAB_SIZE);
    let n = 0;
    let dtCount = 0;
    while (n < MH_TAB_SIZE) {
      for (let i = 0; i < dests.length;) {
        if (turns[i]! < 1) {
          i++; // ignore a server added with weight 0
          continue;
        }
        let c = perm[i]!;
        while (taken[c] !== 0) {
          c += skip[i]!;
          if (c >= MH_TAB_SIZE) c -= MH_TAB_SIZE;
        }
        perm[i] = c;
        taken[c] = 1;
        this.lookup[c] = dests[i]!;
        if (++n === MH_TAB_SIZE) return;
        if (++dtCount >= turns[i]!) {
          dtCount = 0;
          i++;
        }
      }
    }
  }

  initService(svc: SchedService): void {
    this.reassign(svc);
  }
  doneService(): void {
    this.lookup.fill(null);
  }
  addDest(svc: SchedService): void {
    this.reassign(svc);
  }
  delDest(svc: SchedService): void {
    this.reassign(svc);
  }
  updDest(svc: SchedService): void {
    this.reassign(svc);
  }

  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null {
    const port = hashPort(pkt, svc.flags, SCHED_MH_PORT);
    const dest =
      (svc.flags & SCHED_MH_FALLBACK) !== 0
        ? this.getFallback(pkt.saddr, port)
        : this.get(pkt.saddr, port);
    if (dest === null) svc.schedulerError(NO_DEST);
    return dest;
  }

  /** The slot a flow hashes to (tests and `trace`). */
  slotOf(addr: number, port: number): number {
    return mhHashKey(addr, port, MH_HASH1, 0) % MH_TAB_SIZE;
  }

  private get(addr: number, port: number): IpvsDest | null {
    const d = this.lookup[this.slotOf(addr, port)] ?? null;
    return d === null || unavailable(d) ? null : d;
  }

  /** ip_vs_mh_get_fallback(): rehash with growing offsets until an available server. */
  private getFallback(addr: number, port: number): IpvsDest | null {
    const ihash = this.slotOf(addr, port);
    let d = this.lookup[ihash] ?? null;
    if (d === null) return null;
    if (!unavailable(d)) return d;
    for (let offset = 0; offset < MH_TAB_SIZE; offset++) {
      const roffset = (offset + ihash) % MH_TAB_SIZE;
      d = this.lookup[mhHashKey(addr, port, MH_HASH1, roffset) % MH_TAB_SIZE] ?? null;
      if (d === null) break;
      if (!unavailable(d)) return d;
    }
    return null;
  }
}
