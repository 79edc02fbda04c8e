// The cluster's DNS data, indexed the way CoreDNS's `kubernetes` plugin looks it up:
// services by namespace/name, the ready endpoints of each, and reverse (PTR) names.
import type { EndpointSlice, Service } from '../api/types.ts';

export interface DnsEndpoint {
  ip: string;
  /** The endpoint's DNS label: its hostname, else the IP with dashes (CoreDNS's default). */
  hostname: string;
}

export interface DnsService {
  service: Service;
  endpoints: DnsEndpoint[];
}

export interface DnsIndex {
  zone: string;
  /** `ns/name` → service. */
  services: Map<string, DnsService>;
  namespaces: Set<string>;
  /** IPv4 address → PTR target (fully qualified, trailing dot stripped). */
  reverse: Map<string, string>;
}

export interface DnsClusterView {
  zone: string;
  namespaces: Iterable<string>;
  services: Iterable<Service>;
  endpointSlices: Iterable<EndpointSlice>;
}

export const dashedIp = (ip: string): string => ip.replaceAll('.', '-');

/** Builds the index; call again when services or endpoint slices change. */
export function buildDnsIndex(view: DnsClusterView): DnsIndex {
  const zone = view.zone.replace(/\.$/, '').toLowerCase();
  const services = new Map<string, DnsService>();
  const namespaces = new Set(view.namespaces);
  for (const svc of view.services) {
    const ns = svc.metadata.namespace ?? 'default';
    namespaces.add(ns);
    services.set(`${ns}/${svc.metadata.name}`, { service: svc, endpoints: [] });
  }
  for (const slice of view.endpointSlices) {
    if (slice.addressType !== 'IPv4') continue;
    const ns = slice.metadata.namespace ?? 'default';
    const owner = slice.metadata.labels?.['kubernetes.io/service-name'];
    const entry = owner === undefined ? undefined : services.get(`${ns}/${owner}`);
    if (entry === undefined) continue;
    const publishNotReady = entry.service.spec.publishNotReadyAddresses === true;
    for (const ep of slice.endpoints) {
      // EndpointSlice: a nil `ready` means ready (discovery.k8s.io/v1 semantics).
      if (ep.conditions.ready === false && !publishNotReady) continue;
      for (const ip of ep.addresses) {
        entry.endpoints.push({ ip, hostname: ep.hostname ?? dashedIp(ip) });
      }
    }
  }
  const reverse = new Map<string, string>();
  for (const [key, { service, endpoints }] of services) {
    const [ns, name] = key.split('/') as [string, string];
    const fqdn = `${name}.${ns}.svc.${zone}`;
    const ip = service.spec.clusterIP;
    if (ip && ip !== 'None') reverse.set(ip, fqdn);
    // Endpoint PTRs exist only for headless services, as in CoreDNS.
    if (ip === 'None') for (const ep of endpoints) reverse.set(ep.ip, `${ep.hostname}.${fqdn}`);
  }
  return { zone, services, namespaces, reverse };
}
