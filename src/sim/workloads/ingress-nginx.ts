// The ingress-nginx controller as a pod: nginx listening on 80 and 443, configured from
// every Ingress in the cluster (src/ingress), proxying to the backend Service's endpoints
// directly (ingress-nginx balances over endpoints itself, round robin, not via the
// ClusterIP) with the X-Forwarded-* headers it adds.
//
// In simulation port 443 speaks plain HTTP and is treated as the TLS-terminated side
// (scheme https): the packets are real, the TLS records are not. The lab uses real TLS.
import type { Cluster } from '../../control/cluster.ts';
import { type IngressConfig, buildIngressConfig } from '../../ingress/config.ts';
import { nginxPage, reasonPhrase } from '../../ingress/pages.ts';
import { routeRequest } from '../../ingress/route.ts';
import {
  forwardedHeaders,
  keptFromUpstream,
  passedUpstream,
  pickEndpoint,
} from '../../ingress/upstream.ts';
import { httpRequest } from '../http/client.ts';
import { headerValue } from '../../workloads/header-fields.ts';
import { type HttpResponseInit, type HttpServerRequest, createHttpServer } from '../http/server.ts';
import type { SimHost } from '../host.ts';

export interface IngressNginx {
  /** Requests by final status. */
  statuses: Map<number, number>;
  config(): IngressConfig;
}

const SERVER = 'nginx';

export function startIngressNginx(host: SimHost, cluster: Cluster): IngressNginx {
  let cached: IngressConfig | undefined;
  const dirty = () => {
    cached = undefined;
  };
  cluster.store.watch('Ingress', dirty);
  cluster.store.watch('Secret', dirty);
  const config = (): IngressConfig =>
    (cached ??= buildIngressConfig(cluster.list('Ingress'), (ns, name) =>
      cluster.get('Secret', ns, name),
    ));
  const statuses = new Map<number, number>();
  const rr = new Map<string, number>();
  let requestId = 0;

  const handle = (
    scheme: 'http' | 'https',
    req: HttpServerRequest,
    respond: (r: HttpResponseInit) => void,
  ) => {
    const finish = (r: HttpResponseInit) => {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      respond(r);
    };
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) headers[k.toLowerCase()] = v;
    const hostHeader = headerValue(req.headers, 'host') ?? '';
    const d = routeRequest(config(), { scheme, host: hostHeader, uri: req.target, headers });
    if (d.kind === 'respond') {
      finish({
        status: d.status,
        reason: reasonPhrase(d.status),
        headers: d.headers,
        body: d.body,
      });
      return;
    }
    const ep = pickEndpoint(cluster, rr, d.service.namespace, d.service.name, d.service.port);
    if (ep === undefined) {
      finish({
        status: 503,
        reason: reasonPhrase(503),
        headers: { 'Content-Type': 'text/html' },
        body: nginxPage(503),
      });
      return;
    }
    const fwd = forwardedHeaders(++requestId, req.remoteAddress, hostHeader, req.localPort, scheme);
    const passed = req.headers.filter(([k]) => passedUpstream(k));
    httpRequest(
      host,
      {
        ip: ep.ip,
        port: ep.port,
        method: req.method,
        path: d.upstreamUri,
        host: hostHeader,
        headers: [...fwd, ...passed],
        body: req.body,
      },
      (err, res) => {
        if (err || res === undefined) {
          finish({
            status: 502,
            reason: reasonPhrase(502),
            headers: { 'Content-Type': 'text/html' },
            body: nginxPage(502),
          });
          return;
        }
        // nginx hides the upstream's Server and Date (proxy_hide_header) and sends its own.
        const keep = res.headers.filter(([k]) => keptFromUpstream(k));
        finish({ status: res.status, reason: res.reason, headers: keep, body: res.body });
      },
    );
  };

  const opts = { serverHeader: SERVER };
  createHttpServer(host, 80, (req, respond) => handle('http', req, respond), opts);
  createHttpServer(host, 443, (req, respond) => handle('https', req, respond), opts);
  return { statuses, config };
}
