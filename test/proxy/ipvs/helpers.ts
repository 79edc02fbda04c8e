// Shared fixtures for the IPVS tests: a service with real servers, a reusable packet.
import { ipToU32, u32ToIp } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP } from '../../../src/proxy/ipvs/constants.ts';
import type { IpvsDest } from '../../../src/proxy/ipvs/dest.ts';
import type { SchedPacket } from '../../../src/proxy/ipvs/schedulers/index.ts';
import { VirtualService } from '../../../src/proxy/ipvs/service.ts';

/** A TCP service 10.96.0.1:80 whose servers are added in the order given (`ip` or `ip:weight`). */
export function service(scheduler: string, servers: readonly string[], flags = 0): VirtualService {
  const svc = new VirtualService({
    protocol: IPPROTO_TCP,
    addr: ipToU32('10.96.0.1'),
    port: 80,
    scheduler,
    flags,
  });
  for (const s of servers) {
    const [ip, w] = s.split(':');
    svc.addDest({ addr: ipToU32(ip!), port: 8080, weight: w === undefined ? 1 : Number(w) });
  }
  return svc;
}

export function packet(src: string, sport = 40000, dst = '10.96.0.1', now = 0): SchedPacket {
  return { proto: IPPROTO_TCP, saddr: ipToU32(src), sport, daddr: ipToU32(dst), dport: 80, now };
}

/** The server's address as a string, or null. */
export function ip(d: IpvsDest | null): string | null {
  return d === null ? null : u32ToIp(d.addr);
}

/** n picks from one packet. */
export function picks(
  svc: VirtualService,
  n: number,
  p = packet('192.168.1.1'),
): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) out.push(ip(svc.scheduler.schedule(svc, p)));
  return out;
}

/** Client addresses 172.16.x.y, deterministic. */
export function clients(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((ipToU32('172.16.0.0') + i * 7919) >>> 0);
  return out;
}
