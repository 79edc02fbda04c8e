// The Kubernetes API over HTTPS: kubectl, client libraries and the web view talk to the
// live cluster here. Loopback only, TLS from a CA made at start (kubectl sends tokens
// only over TLS), a bearer token on every request (401 as a Status otherwise), bodies
// bounded, every failure a metav1.Status. Routing follows
// kube-apiserver's URL layout: /api/v1/..., /apis/GROUP/VERSION/...,
// [namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]], ?watch=true or /watch/ for watches.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseDocument } from 'yaml';
import {
  AGGREGATED_V2,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  versionInfo,
} from './discovery.ts';
import { handleExecUpgrade } from './exec.ts';
import { openapiV2Document, openapiV3Reply, unknownFields } from './openapi/index.ts';
import { type ServedResource, findResource } from './resources.ts';
import { clusterMinor } from '../control/cluster-config.ts';
import { type Reply, RestHandlers, type Target, notFound } from './rest.ts';
import { type ClusterRuntime, NODE_TOOLS, type ToolResult } from './runtime.ts';
import {
  HttpStatusError,
  badRequest,
  methodNotAllowed,
  notFoundPath,
  statusObject,
  toHttpError,
} from './status.ts';
import { wantsTable } from './table.ts';
import { DEFAULT_WATCH_OPTIONS, type WatchOptions, serveWatch } from './watch.ts';
import { WebView, type WebOptions, isWebPath } from './web.ts';

/** kube-apiserver's default --max-request-body-bytes is 3 MiB. */
export const MAX_BODY_BYTES = 3 << 20;
/** A request body must arrive within this time. */
const BODY_TIMEOUT_MS = 30_000;

export interface ApiServerOptions {
  runtime: ClusterRuntime;
  /** The bearer token every request must carry. */
  token: string;
  /** The serving certificate and key (tls.ts makes them with a fresh CA). */
  tls: { certPem: string; keyPem: string };
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  watch?: Partial<WatchOptions>;
  /** One line per request (method, path, status), for --verbose. */
  log?: (line: string) => void;
  /** The web view's network (journeys); the page is served either way (web.ts). */
  web?: WebOptions;
}

export interface Route {
  group: string;
  version: string;
  rest: string[];
  watchPrefix: boolean;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: HttpStatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err.code, statusObject(err));
}

const tooLarge = (): HttpStatusError =>
  new HttpStatusError(
    413,
    'RequestEntityTooLarge',
    `Request entity too large: limit is ${MAX_BODY_BYTES}`,
  );

/** Read a body up to MAX_BODY_BYTES; 413 beyond it, 408 when it stalls. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new HttpStatusError(408, 'Timeout', 'the request body did not arrive in time'));
      req.destroy();
    }, BODY_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        clearTimeout(timer);
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const buf = await readBody(req);
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

/** An apply configuration: YAML (JSON is YAML too), one document, aliases bounded. */
async function readYaml(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw badRequest(`error decoding YAML: ${doc.errors[0]!.message}`);
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/** `/api/v1/...` or `/apis/G/V/...` split into group, version and the rest. */
export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);
  return { group, version, rest, watchPrefix };
}

/** The resource, namespace, name and subresource a route names. */
export function resolveTarget(route: Route, minor?: number): Target | undefined {
  const { group, version, rest } = route;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const res = findResource(group, version, rest[2]!, minor);
    if (res !== undefined && res.namespaced) {
      if (rest.length > 5) return undefined;
      const t: Target = { res, namespace: rest[1]! };
      if (rest[3] !== undefined) t.name = rest[3];
      if (rest[4] !== undefined) t.sub = rest[4];
      return t;
    }
  }
  const res = findResource(group, version, rest[0] ?? '', minor);
  if (res === undefined || rest.length > 3) return undefined;
  const t: Target = { res };
  if (rest[1] !== undefined) {
    if (res.namespaced) return undefined; // a namespaced object needs its namespace
    t.name = rest[1];
  }
  if (rest[2] !== undefined) t.sub = rest[2];
  return t;
}

function checkSub(res: ServedResource, sub: string | undefined): void {
  if (sub === undefined) return;
  if (!(res.subresources as string[]).includes(sub)) throw notFoundPath();
}

export class ApiServer {
  readonly rest: RestHandlers;
  private server: Server | undefined;
  private readonly token: Buffer;
  private readonly watchOpts: WatchOptions;
  /** The web page, its login and its endpoints (web.ts). */
  readonly web: WebView;

  constructor(private readonly opts: ApiServerOptions) {
    this.rest = new RestHandlers(opts.runtime, unknownFields);
    this.web = new WebView(this.rest, opts.web);
    this.token = Buffer.from(opts.token);
    this.watchOpts = { ...DEFAULT_WATCH_OPTIONS, ...opts.watch };
  }

  /** The cluster's minor release: which group versions discovery and the routes serve. */
  private get minor(): number {
    return clusterMinor(this.opts.runtime.cluster.config);
  }

  /** Listen on 127.0.0.1; resolves to the port. */
  listen(): Promise<number> {
    const server = createServer(
      { cert: this.opts.tls.certPem, key: this.opts.tls.keyPem },
      (req, res) => void this.handle(req, res),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    server.headersTimeout = 30_000;
    server.requestTimeout = 0; // watches and log follows are long; bodies have their own bound
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, '127.0.0.1', () => {
        const port = (server.address() as AddressInfo).port;
        this.web.listening(port);
        resolve(port);
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    if (s === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (h === undefined || !h.startsWith('Bearer ')) return false;
    const given = Buffer.from(h.slice(7).trim());
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const fail = (err: HttpStatusError): void => {
      const body = JSON.stringify(statusObject(err));
      socket.end(
        `HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!this.authorized(req))
      return fail(new HttpStatusError(401, 'Unauthorized', 'Unauthorized'));
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = parseRoute(url.pathname);
    const t = route === undefined ? undefined : resolveTarget(route, this.minor);
    if (t === undefined || t.res.stored !== 'Pod' || t.sub !== 'exec' || t.name === undefined) {
      return fail(notFoundPath());
    }
    this.opts.log?.(`UPGRADE ${url.pathname}`);
    handleExecUpgrade(
      req,
      socket,
      head,
      { namespace: t.namespace!, pod: t.name },
      this.opts.runtime,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // The web login's query is a credential: never logged.
    const shown = url.pathname === '/ui/login' ? url.pathname : `${url.pathname}${url.search}`;
    res.on('finish', () => this.opts.log?.(`${method} ${shown} ${res.statusCode}`));
    try {
      if (!this.authorized(req)) {
        // The browser: a one-time login, then a session cookie (web.ts).
        const path = url.pathname.replace(/\/+$/, '') || '/';
        if (path === '/ui/login' && method === 'GET') return this.web.login(res, url);
        if (!this.web.hasSession(req) && method === 'GET' && (path === '/ui' || path === '/ui/')) {
          return this.web.notLoggedIn(res);
        }
        this.web.checkSession(req, method, path);
      }
      await this.route(req, res, method, url);
    } catch (err) {
      sendStatus(res, toHttpError(err));
    }
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const accept = req.headers.accept;
    if (method === 'GET' && (path === '/openapi/v3' || path.startsWith('/openapi/v3/'))) {
      const r = openapiV3Reply(req.url ?? path, req.headers);
      if (r === undefined) throw notFoundPath();
      res.writeHead(r.status, r.headers);
      res.end(r.body);
      return;
    }
    if (method === 'GET') {
      const fixed = this.fixedPath(path, accept);
      if (fixed !== undefined) {
        sendJson(res, 200, fixed.body, fixed.contentType);
        return;
      }
    }
    if (isWebPath(path)) {
      await this.web.handle(req, res, method, url.pathname, () => readJson(req));
      return;
    }
    const tool = /^\/svclab\/v1\/nodes\/([^/]+)\/tool$/.exec(path);
    if (tool !== null) {
      if (method !== 'POST') throw methodNotAllowed(method);
      sendJson(res, 200, await this.nodeTool(decodeURIComponent(tool[1]!), await readJson(req)));
      return;
    }
    const route = parseRoute(path);
    if (route === undefined) throw notFoundPath();
    if (route.rest.length === 0) {
      if (method !== 'GET') throw methodNotAllowed(method);
      const list = apiResourceList(route.group, route.version, this.minor);
      if (list === undefined) throw notFoundPath();
      sendJson(res, 200, list);
      return;
    }
    const t = resolveTarget(route, this.minor);
    if (t === undefined) throw notFoundPath();
    checkSub(t.res, t.sub);
    const q = url.searchParams;
    const table = wantsTable(accept);
    const watch = route.watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1';
    const reply = await this.verb(req, res, method, t, q, table, watch);
    if (reply === undefined) return;
    if (reply.text !== undefined) sendJson(res, reply.status, reply.text, reply.contentType);
    else sendJson(res, reply.status, reply.body, reply.contentType);
  }

  private async verb(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    t: Target,
    q: URLSearchParams,
    table: boolean,
    watch: boolean,
  ): Promise<Reply | undefined> {
    const r = this.rest;
    const allowed = (verb: string): void => {
      if (!t.res.verbs.includes(verb)) throw methodNotAllowed(method);
    };
    if (t.sub === 'log') {
      if (method !== 'GET') throw methodNotAllowed(method);
      this.serveLog(t, q, res);
      return undefined;
    }
    if (t.sub === 'exec') throw badRequest('Upgrade request required');
    switch (method) {
      case 'GET':
        if (watch) {
          allowed('watch');
          if (t.name !== undefined)
            q.set(
              'fieldSelector',
              [q.get('fieldSelector'), `metadata.name=${t.name}`].filter(Boolean).join(','),
            );
          serveWatch(
            r,
            { res: t.res, ...(t.namespace === undefined ? {} : { namespace: t.namespace }) },
            q,
            table,
            res,
            this.watchOpts,
          );
          return undefined;
        }
        if (t.name === undefined) {
          allowed('list');
          return r.list(t, q, table);
        }
        allowed('get');
        return r.get(t, q, table);
      case 'POST':
        allowed('create');
        if (t.name !== undefined) throw methodNotAllowed(method);
        return r.create(t, await readJson(req), q);
      case 'PUT':
        allowed('update');
        if (t.name === undefined) throw methodNotAllowed(method);
        return r.update(t, await readJson(req), q);
      case 'PATCH': {
        allowed('patch');
        if (t.name === undefined) throw methodNotAllowed(method);
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (type === 'application/apply-patch+yaml') {
          return r.applyServerSide(t, await readYaml(req), q);
        }
        const body = await readJson(req);
        return r.patch(t, req.headers['content-type'] ?? '', body, q);
      }
      case 'DELETE': {
        const body = await readJson(req);
        if (t.name === undefined) {
          allowed('deletecollection');
          return r.deleteCollection(t, body, q);
        }
        allowed('delete');
        return r.delete(t, body, q);
      }
      default:
        throw methodNotAllowed(method);
    }
  }

  /**
   * svclab's own endpoint: a node tool's output (`svclab iptables-save --server`). The
   * body is `{"argv": ["ipvsadm", "-Ln"]}`; only NODE_TOOLS run, on a node that exists.
   */
  private nodeTool(node: string, body: unknown): Promise<ToolResult> {
    const argv = (body as { argv?: unknown } | undefined)?.argv;
    if (
      !Array.isArray(argv) ||
      argv.length === 0 ||
      argv.length > 64 ||
      !argv.every((a): a is string => typeof a === 'string' && a.length <= 4096)
    ) {
      throw badRequest('expected {"argv": [TOOL, ARGS...]} with at most 64 short strings');
    }
    if (!NODE_TOOLS.includes(argv[0]!)) {
      throw badRequest(`not a node tool: ${argv[0]} (${NODE_TOOLS.join(', ')})`);
    }
    if (this.opts.runtime.cluster.store.get('Node', undefined, node) === undefined) {
      throw new HttpStatusError(404, 'NotFound', `nodes "${node}" not found`, {
        name: node,
        kind: 'nodes',
      });
    }
    return this.opts.runtime.nodeTool(node, argv);
  }

  /** Paths that are not resources: version, health, discovery roots, OpenAPI. */
  private fixedPath(
    path: string,
    accept: string | undefined,
  ): { body: unknown; contentType?: string } | undefined {
    const aggregated =
      accept !== undefined &&
      accept.includes('as=APIGroupDiscoveryList') &&
      accept.includes('v=v2;');
    switch (path) {
      case '/version':
        return { body: versionInfo(this.opts.runtime.cluster.config.kubernetesVersion) };
      case '/healthz':
      case '/livez':
      case '/readyz':
        return { body: 'ok', contentType: 'text/plain; charset=utf-8' };
      case '/api':
        return aggregated
          ? { body: aggregatedDiscovery(true, this.minor), contentType: AGGREGATED_V2 }
          : { body: apiVersions() };
      case '/apis':
        return aggregated
          ? { body: aggregatedDiscovery(false, this.minor), contentType: AGGREGATED_V2 }
          : { body: apiGroupList(this.minor) };
      case '/openapi/v2':
        return { body: openapiV2Document() };
    }
    const m = /^\/apis\/([^/]+)$/.exec(path);
    if (m !== null) {
      const g = apiGroup(m[1]!, this.minor);
      if (g === undefined) throw notFoundPath();
      return { body: g };
    }
    return undefined;
  }

  /** GET pods/NAME/log: the workload's log as text; `follow=true` streams new lines. */
  private serveLog(t: Target, q: URLSearchParams, res: ServerResponse): void {
    const pod = this.opts.runtime.cluster.store.get('Pod', t.namespace, t.name!);
    if (pod === undefined) throw notFound(t.res, t.name!);
    const container = q.get('container') ?? undefined;
    const names = pod.spec.containers.map((c) => c.name);
    if (container !== undefined && !names.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${t.name}`);
    }
    if (container === undefined && names.length > 1) {
      throw badRequest(
        `a container name must be specified for pod ${t.name}, choose one of: [${names.join(' ')}]`,
      );
    }
    const tail = q.get('tailLines');
    const tailLines = tail === null ? undefined : Number(tail);
    const opts = container === undefined ? {} : { container };
    const log = this.opts.runtime.logs(t.namespace!, t.name!, opts);
    let lines = log?.lines ?? [];
    if (tailLines !== undefined && Number.isInteger(tailLines) && tailLines >= 0) {
      lines = lines.slice(Math.max(0, lines.length - tailLines));
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    if (lines.length > 0) res.write(`${lines.join('\n')}\n`);
    if (q.get('follow') !== 'true') {
      res.end();
      return;
    }
    // Follow: poll the (bounded) log for lines past the absolute index already sent.
    let sent = log === undefined ? 0 : log.dropped + log.lines.length;
    const timer = setInterval(() => {
      const now = this.opts.runtime.logs(t.namespace!, t.name!, opts);
      if (now !== undefined) {
        const from = Math.max(0, sent - now.dropped);
        const fresh = now.lines.slice(from);
        if (fresh.length > 0) res.write(`${fresh.join('\n')}\n`);
        sent = now.dropped + now.lines.length;
      }
      if (this.opts.runtime.cluster.store.get('Pod', t.namespace, t.name!) === undefined) {
        clearInterval(timer);
        res.end();
      }
    }, 200);
    res.on('close', () => clearInterval(timer));
  }
}
