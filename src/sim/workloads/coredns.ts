// CoreDNS as a pod: the `kubernetes` plugin's answers (src/dns) served on UDP and TCP
// port 53, from the cluster's current Services and EndpointSlices.
import type { Cluster } from '../../control/cluster.ts';
import { type DnsIndex, buildDnsIndex } from '../../dns/index.ts';
import { type DnsServerStats, answerQuery, newDnsServerStats } from '../../dns/server.ts';
import type { SimHost } from '../host.ts';

export interface CoreDnsOptions {
  /** Record TTL (the kubernetes plugin's default is 5 s). */
  ttl?: number;
  port?: number;
}

export interface CoreDns {
  stats: DnsServerStats;
  index(): DnsIndex;
}

export function startCoreDns(host: SimHost, cluster: Cluster, o: CoreDnsOptions = {}): CoreDns {
  const port = o.port ?? 53;
  const stats = newDnsServerStats();
  let cached: DnsIndex | undefined;
  let serial = 0;
  const dirty = () => {
    cached = undefined;
  };
  cluster.store.watch('Service', dirty);
  cluster.store.watch('EndpointSlice', dirty);
  cluster.store.watch('Namespace', dirty);
  const index = (): DnsIndex => {
    if (cached === undefined) {
      cached = buildDnsIndex({
        zone: cluster.config.clusterDomain,
        namespaces: cluster.list('Namespace').map((n) => n.metadata.name),
        services: cluster.list('Service'),
        endpointSlices: cluster.list('EndpointSlice'),
      });
      // The SOA serial is the time of the last change, in epoch seconds, as in CoreDNS.
      serial = Math.floor(host.wallClockMs() / 1000);
    }
    return cached;
  };
  const opts = (transport: 'udp' | 'tcp') => ({ ttl: o.ttl ?? 5, serial, transport });

  const udp = host.udpBind(port);
  udp.onMessage = (bytes, rinfo) => {
    const idx = index();
    const out = answerQuery(idx, bytes, opts('udp'), stats);
    if (out !== undefined) udp.send(rinfo.ip, rinfo.port, out);
  };

  // DNS over TCP: each message is prefixed by its two-byte length (RFC 1035 §4.2.2).
  host.tcpListen(port, (conn) => {
    let buf = new Uint8Array(0);
    conn.onData = (data) => {
      const next = new Uint8Array(buf.length + data.length);
      next.set(buf);
      next.set(data, buf.length);
      buf = next;
      while (buf.length >= 2) {
        const len = (buf[0]! << 8) | buf[1]!;
        if (buf.length < 2 + len) break;
        const idx = index();
        const out = answerQuery(idx, buf.subarray(2, 2 + len), opts('tcp'), stats);
        buf = buf.slice(2 + len);
        if (out !== undefined) {
          const framed = new Uint8Array(out.length + 2);
          framed[0] = out.length >> 8;
          framed[1] = out.length & 0xff;
          framed.set(out, 2);
          conn.write(framed);
        }
      }
    };
    conn.onEnd = () => conn.end();
  });
  return { stats, index };
}
