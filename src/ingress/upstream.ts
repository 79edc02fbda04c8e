// What ingress-nginx does around a proxied request, shared by the simulation's and the
// lab's controller pods: the backend endpoint (ingress-nginx balances over a Service's
// ready endpoints itself, round robin, not through the ClusterIP), the X-Forwarded-*
// headers its proxy_set_header adds, and the upstream headers it hides.
import type { Cluster } from '../control/cluster.ts';

/** Round-robin positions per Service port (`ns/name:port`). */
export type RoundRobin = Map<string, number>;

/** The backend endpoint for a Service port, round robin over ready endpoints. */
export function pickEndpoint(
  cluster: Cluster,
  rr: RoundRobin,
  ns: string,
  name: string,
  port: number | string,
): { ip: string; port: number } | undefined {
  const svc = cluster.get('Service', ns, name);
  const sp = svc?.spec.ports.find((p) =>
    typeof port === 'number' ? p.port === port : p.name === port,
  );
  if (svc === undefined || sp === undefined) return undefined;
  const targets: { ip: string; port: number }[] = [];
  for (const slice of cluster.list('EndpointSlice', ns)) {
    if (slice.metadata.labels?.['kubernetes.io/service-name'] !== name) continue;
    const epPort = slice.ports.find((p) => (p.name ?? '') === (sp.name ?? ''));
    if (epPort === undefined) continue;
    for (const ep of slice.endpoints) {
      if (ep.conditions.ready === false) continue;
      for (const ip of ep.addresses) targets.push({ ip, port: epPort.port });
    }
  }
  if (targets.length === 0) return undefined;
  targets.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const key = `${ns}/${name}:${sp.port}`;
  const i = rr.get(key) ?? 0;
  rr.set(key, i + 1);
  return targets[i % targets.length];
}

/** The headers ingress-nginx's proxy_set_header adds upstream, in its order. */
export function forwardedHeaders(
  requestId: number,
  remoteAddress: string,
  hostHeader: string,
  localPort: number,
  scheme: 'http' | 'https',
): [string, string][] {
  return [
    ['X-Request-ID', requestId.toString(16).padStart(32, '0')],
    ['X-Real-IP', remoteAddress],
    ['X-Forwarded-For', remoteAddress],
    ['X-Forwarded-Host', hostHeader.replace(/:\d+$/, '')],
    ['X-Forwarded-Port', String(localPort)],
    ['X-Forwarded-Proto', scheme],
    ['X-Forwarded-Scheme', scheme],
    ['X-Scheme', scheme],
  ];
}

/** Request headers passed upstream as they came (Host and Connection are nginx's own). */
export const passedUpstream = (name: string): boolean => !/^(host|connection)$/i.test(name);

/** Upstream response headers nginx passes on (proxy_hide_header; it sends its own Server and Date). */
export const keptFromUpstream = (name: string): boolean =>
  !/^(server|date|connection|keep-alive|transfer-encoding)$/i.test(name);
