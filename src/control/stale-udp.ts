// kube-proxy's conntrack.CleanStaleEntries (pkg/proxy/conntrack/cleanup.go), run at the end
// of every sync in every mode: a UDP flow has no end, so an entry that still points at an
// endpoint that went away (or, not DNATed, at a service that had none) would blackhole its
// client until the entry times out. Entries to a UDP service IP (ClusterIP, LoadBalancer,
// externalIPs) or NodePort whose reply source is not a serving endpoint are deleted.
import type { EndpointSlice, Service } from '../api/types.ts';
import type { Conntrack } from '../conntrack/conntrack.ts';
import { IPPROTO_UDP } from '../conntrack/constants.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import { SERVICE_NAME_LABEL } from './controllers/endpointslice.ts';
import { serviceIgnored, sliceIgnored } from './proxy-feed.ts';

/** Serving endpoint IPs per UDP service IP and per UDP NodePort, as kube-proxy maps them. */
export interface UdpServiceEndpoints {
  readonly byIP: Map<number, Set<number>>;
  readonly byNodePort: Map<number, Set<number>>;
}

export function udpServiceEndpoints(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
): UdpServiceEndpoints {
  const byIP = new Map<number, Set<number>>();
  const byNodePort = new Map<number, Set<number>>();
  const udp = new Map<string, Service>();
  for (const s of services) {
    if (serviceIgnored(s) || !s.spec.ports.some((p) => p.protocol === 'UDP')) continue;
    udp.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
  }
  if (udp.size === 0) return { byIP, byNodePort };
  // Serving endpoint IPs per service and UDP port name.
  const serving = new Map<string, Set<number>>();
  for (const sl of slices) {
    if (sliceIgnored(sl)) continue;
    const svc = `${sl.metadata.namespace}/${sl.metadata.labels![SERVICE_NAME_LABEL]}`;
    if (!udp.has(svc)) continue;
    for (const p of sl.ports) {
      if (p.protocol !== 'UDP') continue;
      const key = `${svc}:${p.name ?? ''}`;
      let set = serving.get(key);
      if (set === undefined) serving.set(key, (set = new Set()));
      for (const e of sl.endpoints) {
        const ready = e.conditions.ready ?? true;
        if (!(e.conditions.serving ?? ready)) continue;
        const ip = tryIpToU32(e.addresses[0] ?? '');
        if (ip !== undefined) set.add(ip);
      }
    }
  }
  for (const [key, s] of udp) {
    for (const p of s.spec.ports) {
      if (p.protocol !== 'UDP') continue;
      const eps = serving.get(`${key}:${p.name ?? ''}`) ?? new Set<number>();
      const ips = [
        s.spec.clusterIP,
        ...(s.spec.externalIPs ?? []),
        ...(s.status?.loadBalancer.ingress ?? []).map((i) => i.ip ?? ''),
      ];
      for (const a of ips) {
        const ip = tryIpToU32(a ?? '');
        if (ip === undefined) continue;
        // Several UDP ports of one service share its IP: any of their endpoints is valid.
        const have = byIP.get(ip);
        byIP.set(ip, have === undefined ? eps : new Set([...have, ...eps]));
      }
      if (p.nodePort) byNodePort.set(p.nodePort, eps);
    }
  }
  return { byIP, byNodePort };
}

/** Delete the stale UDP entries; returns how many. `nowMs` is the conntrack clock. */
export function cleanStaleUdpEntries(
  ct: Conntrack,
  nowMs: number,
  services: readonly Service[],
  slices: readonly EndpointSlice[],
): number {
  if (ct.count === 0) return 0;
  const m = udpServiceEndpoints(services, slices);
  if (m.byIP.size === 0 && m.byNodePort.size === 0) return 0;
  return ct.deleteIf(nowMs, IPPROTO_UDP, (origDst, origDport, replySrc) => {
    const a = m.byIP.get(origDst >>> 0);
    if (a !== undefined && !a.has(replySrc >>> 0)) return true;
    const b = m.byNodePort.get(origDport);
    return b !== undefined && !b.has(replySrc >>> 0);
  });
}
