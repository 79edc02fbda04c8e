// Cluster DNS for the lab: the CoreDNS pods' workers forward each query here, and the
// daemon answers it from the live cluster with src/dns (the kubernetes plugin's
// semantics), the index rebuilt only after Services, EndpointSlices or Namespaces change.
import type { Cluster } from '../control/cluster.ts';
import { type DnsIndex, buildDnsIndex } from '../dns/index.ts';
import { type DnsServerStats, answerQuery, newDnsServerStats } from '../dns/server.ts';

export class LabDns {
  readonly stats: DnsServerStats = newDnsServerStats();
  private cached: DnsIndex | undefined;
  private serial = 0;

  constructor(private readonly cluster: Cluster) {
    const dirty = () => {
      this.cached = undefined;
    };
    cluster.store.watch('Service', dirty);
    cluster.store.watch('EndpointSlice', dirty);
    cluster.store.watch('Namespace', dirty);
  }

  private index(): DnsIndex {
    if (this.cached === undefined) {
      this.cached = buildDnsIndex({
        zone: this.cluster.config.clusterDomain,
        namespaces: this.cluster.list('Namespace').map((n) => n.metadata.name),
        services: this.cluster.list('Service'),
        endpointSlices: this.cluster.list('EndpointSlice'),
      });
      // The SOA serial is the time of the last change, in epoch seconds, as in CoreDNS.
      this.serial = Math.floor(Date.now() / 1000);
    }
    return this.cached;
  }

  answer(query: Uint8Array, transport: 'udp' | 'tcp'): Uint8Array | undefined {
    const idx = this.index();
    return answerQuery(idx, query, { ttl: 5, serial: this.serial, transport }, this.stats);
  }
}
