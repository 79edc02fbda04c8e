// kube-proxy's graceful termination of real servers (pkg/proxy/ipvs/graceful_termination.go):
// a real server leaving a TCP service is first set to weight 0 (quiesced: existing connections
// go on, new ones go elsewhere) and deleted once it has no active or inactive connections;
// the check runs every minute. UDP and SCTP servers are deleted at once (expire_nodest_conn
// then drops their flows on the next packet).
import { IPPROTO_TCP } from './constants.ts';
import type { Ipvs } from './ipvs.ts';
import type { VirtualService } from './service.ts';

/** rsCheckDeleteInterval. */
export const RS_CHECK_DELETE_INTERVAL_MS = 60_000;

interface Item {
  readonly svc: VirtualService;
  readonly addr: number;
  readonly port: number;
}

/** GetUniqueRSName: `vs/ip:port`. */
export function rsName(vsKey: string, addr: number, port: number): string {
  return `${vsKey}/${addr}:${port}`;
}

export class GracefulTermination {
  private readonly list = new Map<string, Item>();
  private lastCheck = -Infinity;

  constructor(private readonly ipvs: Ipvs) {}

  get size(): number {
    return this.list.size;
  }

  inTerminationList(name: string): boolean {
    return this.list.has(name);
  }

  /** GracefulDeleteRS: delete now if drained (or not TCP), else quiesce and queue. */
  gracefulDelete(name: string, svc: VirtualService, addr: number, port: number): void {
    const item = { svc, addr, port };
    // Counts may still include connections whose timer ran out but were not reaped yet (the
    // kernel reaps on time): such a server is quiesced now and deleted at the next check.
    if (this.tryDelete(item)) return;
    svc.editDest({ addr, port, weight: 0 });
    this.list.set(name, item);
  }

  /** MoveRSOutofGracefulDeleteList: the endpoint came back; delete the RS so it can be re-added. */
  moveOut(name: string): void {
    const item = this.list.get(name);
    if (item === undefined) return;
    this.list.delete(name);
    if (item.svc.getDest(item.addr, item.port) !== undefined)
      item.svc.delDest(item.addr, item.port);
  }

  /** Forget items of a virtual service that was deleted. */
  dropService(svc: VirtualService): void {
    for (const [k, it] of this.list) if (it.svc === svc) this.list.delete(k);
  }

  /** tryDeleteRs, at most once per interval on the caller's clock (or always with force). */
  check(now: number, force = false): number {
    if (!force && now - this.lastCheck < RS_CHECK_DELETE_INTERVAL_MS) return 0;
    this.lastCheck = now;
    if (this.list.size === 0) return 0;
    this.ipvs.expire(now);
    let n = 0;
    for (const [k, it] of this.list) {
      if (this.tryDelete(it)) {
        this.list.delete(k);
        n++;
      }
    }
    return n;
  }

  /** deleteRsFunc(): true when the RS is gone (deleted now or already). */
  private tryDelete(it: Item): boolean {
    const d = it.svc.getDest(it.addr, it.port);
    if (d === undefined) return true;
    // IsRsGracefulTerminationNeeded: only TCP waits for its connections.
    if (it.svc.protocol === IPPROTO_TCP && d.activeConns + d.inactConns !== 0) return false;
    it.svc.delDest(it.addr, it.port);
    return true;
  }
}
