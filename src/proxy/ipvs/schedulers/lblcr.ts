// Locality-based least-connection with replication (net/netfilter/ipvs/ip_vs_lblcr.c): each
// destination IP maps to a SET of servers. The least-loaded member serves; if it is overloaded
// a least-connection pick joins the set; a set unchanged for lblcr_expiration loses its
// most-loaded member.
import type { IpvsDest } from '../dest.ts';
import { LBLC_EXPIRATION_MS, localityOverloaded, weightedLeastConn } from './lblc.ts';
import { NO_DEST, StatelessScheduler, connOverhead } from './scheduler.ts';
import type { SchedPacket, SchedService } from './scheduler.ts';

interface DestSet {
  /** Newest first (list_add_rcu). */
  members: IpvsDest[];
  lastmod: number;
  lastuse: number;
}

/** ip_vs_dest_set_min(): weighted least-connection among available members. */
function setMin(set: DestSet): IpvsDest | null {
  const m = set.members;
  let i = 0;
  let least: IpvsDest | null = null;
  for (; i < m.length; i++) {
    const d = m[i]!;
    if (d.overloaded) continue;
    if (d.weight > 0 && d.available) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = connOverhead(least);
  for (i++; i < m.length; i++) {
    const d = m[i]!;
    if (d.overloaded) continue;
    const doh = connOverhead(d);
    if (loh * d.weight > doh * least.weight && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** ip_vs_dest_set_max(): weighted most-connection member. */
function setMax(set: DestSet): IpvsDest | null {
  const m = set.members;
  let i = 0;
  let most: IpvsDest | null = null;
  for (; i < m.length; i++) {
    if (m[i]!.weight > 0) {
      most = m[i]!;
      break;
    }
  }
  if (most === null) return null;
  let moh = connOverhead(most);
  for (i++; i < m.length; i++) {
    const d = m[i]!;
    const doh = connOverhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

function setInsert(set: DestSet, dest: IpvsDest, now: number): void {
  if (set.members.includes(dest)) return;
  set.members.unshift(dest);
  set.lastmod = now;
}

export class LocalityLeastConnectionReplicationScheduler extends StatelessScheduler {
  readonly name = 'lblcr';
  readonly cache = new Map<number, DestSet>();

  override doneService(): void {
    this.cache.clear();
  }

  schedule(svc: SchedService, pkt: SchedPacket): IpvsDest | null {
    const now = pkt.now;
    let en = this.cache.get(pkt.daddr);
    if (en !== undefined && now - en.lastuse >= LBLC_EXPIRATION_MS) {
      this.cache.delete(pkt.daddr);
      en = undefined;
    }
    if (en === undefined) {
      const dest = weightedLeastConn(svc.head);
      if (dest === null) {
        svc.schedulerError(NO_DEST);
        return null;
      }
      this.cache.set(pkt.daddr, { members: [dest], lastmod: now, lastuse: now });
      return dest;
    }
    en.lastuse = now;
    let dest = setMin(en);
    // More than one member and the set unchanged for long enough: shrink it.
    if (en.members.length > 1 && now > en.lastmod + LBLC_EXPIRATION_MS) {
      const m = setMax(en);
      if (m !== null) {
        en.members.splice(en.members.indexOf(m), 1);
        en.lastmod = now;
      }
    }
    if (dest !== null && !localityOverloaded(dest, svc.head)) return dest;
    dest = weightedLeastConn(svc.head);
    if (dest === null) {
      svc.schedulerError(NO_DEST);
      return null;
    }
    setInsert(en, dest, now);
    return dest;
  }
}
