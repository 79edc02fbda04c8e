// The web view's side of the API server: the page (`/ui/`, built by web-bundle.ts), its
// login, and svclab's endpoints for it (web-contract.ts has their types, docs/web.md
// their contract).
//
// Access: the command prints a one-time login URL (`/ui/login?token=…`). Opening it
// exchanges the token (single use) for a session cookie (HttpOnly, Secure,
// SameSite=Strict, named after the port so two clusters on one machine keep theirs), and
// redirects to `/ui/`, so the token is in no later URL, log or history entry. A session
// may read the API (GET) and use svclab's own endpoints (POST under /svclab/); every
// request besides the page's own files must also carry the header `X-Svclab-Web: 1`,
// which a cross-site form or image cannot send. Writes to Kubernetes objects stay with
// the bearer token (kubectl).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { resolveNodes } from '../control/cluster-config.ts';
import { repoPath } from '../lab/repo.ts';
import { type JourneyDriver, runJourney } from './journey.ts';
import { findResource } from './resources.ts';
import type { RestHandlers } from './rest.ts';
import type { ClusterRuntime } from './runtime.ts';
import {
  HttpStatusError,
  badRequest,
  methodNotAllowed,
  notFoundPath,
  statusObject,
  toHttpError,
} from './status.ts';
import { webBundle } from './web-bundle.ts';
import type { BenchIndex, JourneyRequest, WebInfo } from './web-contract.ts';

/** The header every session request for data carries (the page's fetch sets it). */
export const WEB_HEADER = 'x-svclab-web';
/** Login tokens not yet used, at most (older ones are forgotten first). */
const MAX_PENDING_LOGINS = 16;
/** Sessions kept, at most (the oldest is dropped). */
const MAX_SESSIONS = 64;
/** Bytes buffered for a slow page before its watch is cut (it relists and watches again). */
const MAX_WATCH_BUFFER = 16 << 20;
/** A page's watch ends after this long; the page lists again and reopens it. */
const WATCH_TIMEOUT_MS = 30 * 60_000;

/**
 * The kinds the page follows through GET /svclab/v1/web/watch, by query name: one stream
 * for all of them, because a browser keeps at most six connections to a host and five
 * standard watches per tab would leave a second tab none.
 */
export const WEB_WATCH_KINDS: Record<string, [group: string, version: string, plural: string]> = {
  nodes: ['', 'v1', 'nodes'],
  pods: ['', 'v1', 'pods'],
  services: ['', 'v1', 'services'],
  endpointslices: ['discovery.k8s.io', 'v1', 'endpointslices'],
  ingresses: ['networking.k8s.io', 'v1', 'ingresses'],
};

export interface WebOptions {
  /** Journeys and the modes comparison need the network; without it they answer 501. */
  driver?: JourneyDriver;
  /** Where bench results are looked for (default bench/results of svclab's folder). */
  benchDir?: string;
}

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>svclab</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<div id="app"><p class="boot">svclab: loading…</p></div>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;

const LOGIN_FAILED_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>svclab: login</title></head>
<body><h1>This login link is used up or unknown</h1>
<p>A login link works once. Open the newest one the command printed, or get a fresh one
with <code>svclab web-login</code> (it asks the running cluster with the kubeconfig's token).</p>
</body></html>
`;

const UNAUTHORIZED_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>svclab: not logged in</title></head>
<body><h1>Not logged in</h1>
<p>Open the one-time login URL that <code>svclab serve</code> (or <code>svclab lab up</code>) printed,
or get a fresh one with <code>svclab web-login</code>.</p>
</body></html>
`;

function sendText(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...extra,
  });
  res.end(body);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Is this path one of the web view's (page or data)? */
export function isWebPath(path: string): boolean {
  return (
    path === '/ui' ||
    path.startsWith('/ui/') ||
    path.startsWith('/svclab/v1/web') ||
    path === '/svclab/v1/journeys' ||
    path === '/svclab/v1/compare' ||
    path === '/svclab/v1/bench' ||
    path.startsWith('/svclab/v1/bench/')
  );
}

export class WebView {
  private readonly logins: string[] = [];
  private readonly sessions: string[] = [];
  private port = 0;

  private readonly runtime: ClusterRuntime;

  constructor(
    private readonly rest: RestHandlers,
    private readonly opts: WebOptions = {},
  ) {
    this.runtime = rest.runtime;
  }

  /** Set once the server listens: the cookie's name and the login URLs carry it. */
  listening(port: number): void {
    this.port = port;
  }

  private get cookieName(): string {
    return `svclab-session-${this.port}`;
  }

  /** A fresh one-time login URL (print it; never log it). */
  loginUrl(): string {
    const token = randomBytes(24).toString('base64url');
    this.logins.push(token);
    if (this.logins.length > MAX_PENDING_LOGINS) this.logins.shift();
    return `https://127.0.0.1:${this.port}/ui/login?token=${token}`;
  }

  /** Whether the request carries a live session cookie. */
  hasSession(req: IncomingMessage): boolean {
    const c = cookies(req).get(this.cookieName);
    return c !== undefined && this.sessions.some((s) => sameSecret(s, c));
  }

  /**
   * What a session (no bearer token) may do: GET the page and its files; GET the API and
   * POST svclab's web endpoints with the X-Svclab-Web header. Throws 401/403 otherwise.
   */
  checkSession(req: IncomingMessage, method: string, path: string): void {
    if (!this.hasSession(req)) throw new HttpStatusError(401, 'Unauthorized', 'Unauthorized');
    const page =
      path === '/ui' || path.startsWith('/ui/') || path.startsWith('/svclab/v1/bench/charts/');
    if (page && method === 'GET') return;
    if (req.headers[WEB_HEADER] !== '1') {
      throw new HttpStatusError(
        403,
        'Forbidden',
        `a web session's requests carry ${WEB_HEADER}: 1`,
      );
    }
    if (method === 'GET') return;
    if (method === 'POST' && path.startsWith('/svclab/v1/') && path !== '/svclab/v1/web/login')
      return;
    throw new HttpStatusError(
      403,
      'Forbidden',
      'a web session reads the cluster; writes need the kubeconfig (kubectl)',
    );
  }

  /** `/ui/login?token=…` (no other credential needed): the token for a session cookie. */
  login(res: ServerResponse, url: URL): void {
    const given = url.searchParams.get('token') ?? '';
    const i = this.logins.findIndex((t) => sameSecret(t, given));
    if (i < 0) {
      sendText(res, 401, LOGIN_FAILED_HTML, 'text/html; charset=utf-8');
      return;
    }
    this.logins.splice(i, 1);
    const session = randomBytes(32).toString('base64url');
    this.sessions.push(session);
    if (this.sessions.length > MAX_SESSIONS) this.sessions.shift();
    res.writeHead(303, {
      Location: '/ui/',
      'Set-Cookie': `${this.cookieName}=${session}; Path=/; HttpOnly; Secure; SameSite=Strict`,
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Length': 0,
    });
    res.end();
  }

  /** An unauthenticated browser asking for the page: say how to log in. */
  notLoggedIn(res: ServerResponse): void {
    sendText(res, 401, UNAUTHORIZED_HTML, 'text/html; charset=utf-8');
  }

  /** Serve a web path (the caller has checked the credential). */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    readJson: () => Promise<unknown>,
  ): Promise<void> {
    if (path === '/ui') {
      res.writeHead(308, { Location: '/ui/', 'Content-Length': 0 });
      res.end();
      return;
    }
    if (path === '/svclab/v1/web/login') {
      if (method !== 'POST') throw methodNotAllowed(method);
      sendText(res, 200, JSON.stringify({ url: this.loginUrl() }), 'application/json');
      return;
    }
    if (path.startsWith('/ui/')) {
      if (method !== 'GET') throw methodNotAllowed(method);
      const file = path.slice(4);
      if (file === '' || file === 'index.html') {
        sendText(res, 200, INDEX_HTML, 'text/html; charset=utf-8', {
          'Content-Security-Policy': PAGE_CSP,
        });
        return;
      }
      if (file === 'app.js' || file === 'app.css') {
        const b = await webBundle();
        const p = file === 'app.js' ? b.js : b.css;
        if (!existsSync(p)) throw notFoundPath();
        sendText(
          res,
          200,
          readFileSync(p),
          file === 'app.js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
        );
        return;
      }
      throw notFoundPath();
    }
    if (path === '/svclab/v1/web/watch') {
      if (method !== 'GET') throw methodNotAllowed(method);
      this.watch(res, new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
      return;
    }
    const list = /^\/svclab\/v1\/web\/list\/([a-z]+)$/.exec(path);
    if (list !== null) {
      // The page's lists, in the versions it reads at every cluster release (a v1.15
      // cluster serves no networking.k8s.io/v1 or discovery.k8s.io/v1 to kubectl).
      if (method !== 'GET') throw methodNotAllowed(method);
      const spec = Object.hasOwn(WEB_WATCH_KINDS, list[1]!) ? WEB_WATCH_KINDS[list[1]!] : undefined;
      if (spec === undefined) throw notFoundPath();
      const r = this.rest.list({ res: findResource(...spec)! }, new URLSearchParams(), false);
      sendText(res, r.status, r.text ?? JSON.stringify(r.body), 'application/json');
      return;
    }
    if (path === '/svclab/v1/web') {
      if (method !== 'GET') throw methodNotAllowed(method);
      sendText(res, 200, JSON.stringify(this.info()), 'application/json');
      return;
    }
    if (path === '/svclab/v1/journeys') {
      if (method !== 'POST') throw methodNotAllowed(method);
      const driver = this.needDriver();
      const body = (await readJson()) as Partial<JourneyRequest> | undefined;
      if (typeof body?.from !== 'string' || typeof body.to !== 'string') {
        throw badRequest('expected {"from": SOURCE, "to": TARGET}');
      }
      if (body.from.length > 300 || body.to.length > 300) throw badRequest('from/to too long');
      const journey = await runJourney(this.runtime.cluster, driver, {
        from: body.from,
        to: body.to,
      });
      sendText(res, 200, JSON.stringify(journey), 'application/json');
      return;
    }
    if (path === '/svclab/v1/compare') {
      if (method !== 'POST') throw methodNotAllowed(method);
      this.needDriver();
      const body = ((await readJson()) ?? {}) as Record<string, unknown>;
      const { compareModes } = await import('./compare.ts');
      const result = compareModes(this.runtime.cluster, body);
      sendText(res, 200, JSON.stringify(result), 'application/json');
      return;
    }
    if (path === '/svclab/v1/bench') {
      if (method !== 'GET') throw methodNotAllowed(method);
      const index = this.benchIndex();
      if (index === undefined) {
        throw new HttpStatusError(404, 'NotFound', 'no `svclab bench` run found');
      }
      sendText(res, 200, JSON.stringify(index), 'application/json');
      return;
    }
    const chart = /^\/svclab\/v1\/bench\/charts\/([a-z0-9-]+)\.svg$/.exec(path);
    if (chart !== null && method === 'GET') {
      const dir = this.latestBenchRun();
      const p = dir === undefined ? undefined : join(dir, `${chart[1]}.svg`);
      if (p === undefined || !existsSync(p)) throw notFoundPath();
      sendText(res, 200, readFileSync(p), 'image/svg+xml', {
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      return;
    }
    throw notFoundPath();
  }

  /**
   * One stream of watch events for several kinds: `?pods=RV&services=RV…` (each the
   * resourceVersion of the page's list of that kind), lines of
   * `{"kind": "pods", "type": "ADDED"|"MODIFIED"|"DELETED"|"ERROR", "object": …}` with
   * objects as the API serves them. An ERROR (410 Gone: history compacted) ends it.
   */
  private watch(res: ServerResponse, q: URLSearchParams): void {
    const wanted = Object.entries(WEB_WATCH_KINDS).filter(([k]) => q.has(k));
    if (wanted.length === 0) {
      throw badRequest(`name the kinds to watch: ${Object.keys(WEB_WATCH_KINDS).join(', ')}`);
    }
    for (const [k] of wanted) {
      if (!/^\d*$/.test(q.get(k)!)) throw badRequest(`invalid resource version for ${k}`);
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-store',
    });
    res.flushHeaders();
    const stops: (() => void)[] = [];
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      for (const stop of stops) stop();
      clearTimeout(timer);
      res.end();
    };
    const timer = setTimeout(close, WATCH_TIMEOUT_MS);
    const write = (line: string): void => {
      if (closed) return;
      res.write(line);
      if (res.writableLength > MAX_WATCH_BUFFER) close();
    };
    res.on('close', close);
    const store = this.runtime.cluster.store;
    for (const [kind, [group, version, plural]] of wanted) {
      const served = findResource(group, version, plural)!;
      const rv = q.get(kind)!;
      try {
        stops.push(
          store.watch(
            served.stored,
            (e) =>
              write(
                `{"kind":"${kind}","type":"${e.type}","object":${JSON.stringify(this.rest.served(e.object, served))}}\n`,
              ),
            rv === '' || rv === '0' ? undefined : rv,
          ),
        );
      } catch (err) {
        const status = statusObject(toHttpError(err));
        write(`{"kind":"${kind}","type":"ERROR","object":${JSON.stringify(status)}}\n`);
        close();
        return;
      }
    }
  }

  private needDriver(): JourneyDriver {
    const d = this.opts.driver;
    if (d === undefined) {
      throw new HttpStatusError(
        501,
        'NotImplemented',
        'this server has no network to send requests through',
      );
    }
    return d;
  }

  info(): WebInfo {
    const d = this.opts.driver;
    return {
      runtime: d?.runtime ?? 'sim',
      mode: d?.mode ?? 'unknown',
      nodes: resolveNodes(this.runtime.cluster.config).map((n) => ({
        name: n.name,
        ip: n.ip,
        podCIDR: n.podCIDR,
      })),
      sources: d?.sources() ?? [],
      externalIP: d?.externalIP ?? '',
      compare: d?.runtime === 'sim',
    };
  }

  /** The newest run folder under bench/results holding results.json (latest/ included). */
  private latestBenchRun(): string | undefined {
    const base = this.opts.benchDir ?? repoPath('bench', 'results');
    let best: { dir: string; t: number } | undefined;
    let entries: string[];
    try {
      entries = readdirSync(base);
    } catch {
      return undefined;
    }
    for (const e of entries) {
      const f = join(base, e, 'results.json');
      let t: number;
      try {
        t = Date.parse((JSON.parse(readFileSync(f, 'utf8')) as { date?: string }).date ?? '');
        if (Number.isNaN(t)) t = statSync(f).mtimeMs;
      } catch {
        continue;
      }
      if (best === undefined || t > best.t) best = { dir: join(base, e), t };
    }
    return best?.dir;
  }

  private benchIndex(): BenchIndex | undefined {
    const dir = this.latestBenchRun();
    if (dir === undefined) return undefined;
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
      date?: string;
      commit?: string;
      argv?: string[];
    };
    const charts = readdirSync(dir)
      .filter((f) => /^[a-z0-9-]+\.svg$/.test(f))
      .sort()
      .map((f) => ({
        suite: f.slice(0, -4),
        url: `/svclab/v1/bench/charts/${f}`,
      }));
    const summaryFile = join(dir, 'summary.md');
    return {
      date: r.date ?? '',
      commit: r.commit ?? '',
      argv: r.argv ?? [],
      charts,
      ...(existsSync(summaryFile) ? { summary: readFileSync(summaryFile, 'utf8') } : {}),
    };
  }
}
