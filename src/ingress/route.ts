// One HTTP request through ingress-nginx's rendered configuration: pick the server by
// Host (exact, then *.wildcard, then the catch-all "_"), the location by nginx's rules,
// then apply what the annotations render: ssl redirect (308), basic auth (401),
// permanent redirect, app-root, rewrite-target (a URL target makes nginx answer 302).
import type { IngressConfig, Location, Server } from './config.ts';
import { parseBasicAuth, verifyUser } from './htpasswd.ts';
import { nginxPage } from './pages.ts';

export interface IngressRequest {
  scheme: 'http' | 'https';
  host: string;
  /** Request target: path plus optional `?query`. */
  uri: string;
  headers: Record<string, string>;
}

export type IngressDecision =
  | {
      kind: 'proxy';
      server: string;
      location: Location;
      service: { namespace: string; name: string; port: number | string };
      /** The URI sent upstream (after rewrite-target). */
      upstreamUri: string;
    }
  | {
      kind: 'respond';
      server: string;
      location?: Location;
      status: number;
      headers: Record<string, string>;
      body: string;
    };

function respond(
  server: string,
  status: number,
  headers: Record<string, string> = {},
  location?: Location,
): IngressDecision {
  return {
    kind: 'respond',
    server,
    status,
    headers: { 'Content-Type': 'text/html', ...headers },
    body: nginxPage(status),
    ...(location ? { location } : {}),
  };
}

function pickServer(cfg: IngressConfig, rawHost: string): Server | undefined {
  const host = rawHost.replace(/:\d+$/, '').toLowerCase();
  const exact = cfg.servers.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = cfg.servers.get(`*${host.slice(dot)}`);
    if (wild) return wild;
  }
  return cfg.servers.get('_');
}

/** Prefix pathType: element-wise prefix (`/foo` matches `/foo`, `/foo/`, `/foo/x`, not `/foobar`). */
function prefixMatch(prefix: string, path: string): boolean {
  const p = prefix.length > 1 ? prefix.replace(/\/$/, '') : prefix;
  return p === '/' || path === p || path.startsWith(`${p}/`);
}

/** nginx `location ~* "^path"`, compiled once per path. */
const regexCache = new Map<string, RegExp | null>();
function locationRegex(path: string): RegExp | null {
  let re = regexCache.get(path);
  if (re === undefined) {
    try {
      re = new RegExp(`^${path}`, 'i');
    } catch {
      re = null;
    }
    regexCache.set(path, re);
  }
  return re;
}

function pickLocation(server: Server, path: string): Location | undefined {
  const exact = server.locations.find((l) => l.pathType === 'Exact' && l.path === path);
  if (exact) return exact;
  // Locations are sorted longest first, so the first match is nginx's longest match.
  if (server.useRegex) {
    return server.locations.find(
      (l) => l.pathType !== 'Exact' && locationRegex(l.path)?.test(path),
    );
  }
  return server.locations.find((l) =>
    l.pathType === 'Prefix'
      ? prefixMatch(l.path, path)
      : l.pathType !== 'Exact' && path.startsWith(l.path),
  );
}

/** nginx `rewrite "(?i)PATH" TARGET break;`: the whole URI becomes TARGET with $n filled in. */
function rewrite(loc: Location, path: string, query: string): string {
  const target = loc.rewriteTarget ?? '';
  const m = locationRegex(loc.path)?.exec(path);
  const out = target.replace(/\$(\d)/g, (_, n: string) => m?.[Number(n)] ?? '');
  return query ? `${out}${out.includes('?') ? '&' : '?'}${query}` : out;
}

export function routeRequest(cfg: IngressConfig, req: IngressRequest): IngressDecision {
  const server = pickServer(cfg, req.host);
  const name = server?.host ?? '_';
  const q = req.uri.indexOf('?');
  const path = q < 0 ? req.uri : req.uri.slice(0, q);
  const query = q < 0 ? '' : req.uri.slice(q + 1);
  const loc = server === undefined ? undefined : pickLocation(server, path);
  // No server or location: the controller's default backend answers 404.
  if (server === undefined || loc === undefined) return respond(name, 404);

  const hostOnly = req.host.replace(/:\d+$/, '');
  if (req.scheme === 'http' && ((server.tls && loc.sslRedirect) || loc.forceSslRedirect)) {
    return respond(name, 308, { Location: `https://${hostOnly}${req.uri}` }, loc);
  }
  if (loc.permanentRedirect) return respond(name, 301, { Location: loc.permanentRedirect }, loc);
  if (loc.auth) {
    if (loc.auth.error) return respond(name, 503, {}, loc);
    const cred = parseBasicAuth(req.headers['authorization'] ?? req.headers['Authorization']);
    if (!cred || !verifyUser(loc.auth.users, cred.user, cred.password)) {
      return respond(name, 401, { 'WWW-Authenticate': `Basic realm="${loc.auth.realm}"` }, loc);
    }
  }
  if (loc.appRoot && path === '/') {
    return respond(name, 302, { Location: `${req.scheme}://${hostOnly}${loc.appRoot}` }, loc);
  }
  let upstreamUri = req.uri;
  if (loc.rewriteTarget !== undefined) {
    upstreamUri = rewrite(loc, path, query);
    // A replacement starting with a scheme makes nginx return a redirect (302) instead.
    if (/^https?:\/\//i.test(upstreamUri))
      return respond(name, 302, { Location: upstreamUri }, loc);
  }
  if (loc.service === undefined) return respond(name, 503, {}, loc);
  return {
    kind: 'proxy',
    server: name,
    location: loc,
    service: { namespace: loc.namespace, ...loc.service },
    upstreamUri,
  };
}
