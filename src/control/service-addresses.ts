// Addresses the node network's router sends into the cluster although no node owns them:
// LoadBalancer ingress IPs (a MetalLB-like speaker announces them) and externalIPs.
import { tryIpToU32 } from '../packet/addr.ts';
import type { Cluster } from './cluster.ts';

export function isRoutedServiceAddress(cluster: Cluster, ip: number): boolean {
  for (const svc of cluster.list('Service')) {
    for (const i of svc.status?.loadBalancer.ingress ?? [])
      if (i.ip && tryIpToU32(i.ip) === ip) return true;
    for (const e of svc.spec.externalIPs ?? []) if (tryIpToU32(e) === ip) return true;
  }
  return false;
}
