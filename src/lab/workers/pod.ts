// A pod's containers as a real process, run inside the pod's network namespace by the
// lab daemon (`ip netns exec NS node --import tsx pod.ts SPEC`):
//   myapp      nginx 1.12.2's answers (src/workloads/myapp.ts) on POD_IP:80
//   coredns    DNS on POD_IP:53 over UDP and TCP; each query goes over the IPC channel
//              to the daemon, which holds the live cluster and answers it (src/dns)
//   ingress-nginx  nginx on POD_IP:80 and :443 (real TLS): each request is routed by the
//              daemon (src/lab/ingress.ts: the live Ingresses) and proxied to the endpoint
//              it names, through the lab's dataplane like any pod's traffic
//   http-echo  the echo on each declared TCP port
// It says 'listening' once every socket is bound, and exits when the daemon goes away.
import { createSocket } from 'node:dgram';
import {
  type IncomingMessage,
  type ServerResponse,
  createServer,
  request as httpRequest,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type Server as NetServer, type Socket, createServer as createTcpServer } from 'node:net';
import { type SecureContext, createSecureContext } from 'node:tls';
import { nginxPage, reasonPhrase } from '../../ingress/pages.ts';
import { forwardedHeaders, keptFromUpstream, passedUpstream } from '../../ingress/upstream.ts';
import { httpDate } from '../../workloads/http-date.ts';
import { httpEchoHandler } from '../../workloads/http-echo.ts';
import type { HeaderList, WorkloadHandler } from '../../workloads/http.ts';
import { myappHandler, nginxPageResponse } from '../../workloads/myapp.ts';
import { NGINX_REASONS, NGINX_VERSION } from '../../workloads/nginx.ts';
import type {
  DaemonMessage,
  IngressRouteAnswer,
  IngressRouteQuery,
  WorkerMessage,
  WorkerSpec,
} from './protocol.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
const send = (m: WorkerMessage) => process.send?.(m);

// The daemon holds the other end: without it the pod has no network anyway.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

function collectBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

function rawHeaders(req: IncomingMessage): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

interface ServeOptions {
  nginx: boolean;
}

/** One HTTP server on ip:port answering with `handle`, headers in the handler's order. */
function serveHttp(port: number, handle: WorkloadHandler, o: ServeOptions): Promise<void> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void collectBody(req).then((body) => {
      const r = handle({
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        version: `HTTP/${req.httpVersion}`,
        headers: rawHeaders(req),
        body,
        remoteAddress: req.socket.remoteAddress ?? '',
        remotePort: req.socket.remotePort ?? 0,
      });
      res.sendDate = false;
      const headers: HeaderList = o.nginx
        ? [
            ['Server', NGINX_VERSION],
            ['Date', httpDate(Date.now())],
          ]
        : [];
      headers.push(...r.headers);
      const reason = o.nginx ? NGINX_REASONS[r.status] : undefined;
      res.writeHead(r.status, reason ?? '', headers.flat());
      res.end(req.method === 'HEAD' ? undefined : r.body);
    });
  });
  if (o.nginx) {
    // nginx answers an unparsable request with its own 400 page and closes.
    server.on('clientError', (_err, socket: Socket) => {
      const r = nginxPageResponse(400);
      let head = `HTTP/1.1 400 Bad Request\r\nServer: ${NGINX_VERSION}\r\nDate: ${httpDate(Date.now())}\r\n`;
      for (const [n, v] of r.headers) head += `${n}: ${v}\r\n`;
      head += 'Connection: close\r\n\r\n';
      socket.end(Buffer.concat([Buffer.from(head), Buffer.from(r.body ?? new Uint8Array())]));
    });
    server.keepAliveTimeout = 65_000;
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, spec.ip, () => resolve());
  });
}

// Questions to the daemon (DNS answers, ingress routes and certificates), by id.
let nextId = 1;
const pending = new Map<number, (m: DaemonMessage) => void>();
process.on('message', (m: DaemonMessage) => {
  const done = pending.get(m.id);
  pending.delete(m.id);
  done?.(m);
});

function askDaemon(msg: (id: number) => WorkerMessage): Promise<DaemonMessage> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    send(msg(id));
  });
}

async function ask(transport: 'udp' | 'tcp', query: Buffer): Promise<Buffer | undefined> {
  const m = await askDaemon((id) => ({
    type: 'dns-query',
    id,
    transport,
    data: query.toString('base64'),
  }));
  if (m.type !== 'dns-answer' || m.data === null) return undefined;
  return Buffer.from(m.data, 'base64');
}

async function serveDns(port: number): Promise<void> {
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    void ask('udp', msg).then((a) => {
      if (a !== undefined) udp.send(a, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, spec.ip, () => resolve());
  });
  // DNS over TCP: each message is prefixed by its two-byte length (RFC 1035 §4.2.2).
  const tcp = createTcpServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const q = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void ask('tcp', Buffer.from(q)).then((a) => {
          if (a === undefined) return;
          const framed = Buffer.alloc(a.length + 2);
          framed.writeUInt16BE(a.length, 0);
          a.copy(framed, 2);
          conn.write(framed);
        });
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, spec.ip, () => resolve());
  });
}

/** ingress-nginx's Server header (server_tokens off). */
const INGRESS_SERVER = 'nginx';

/** nginx's own answer (redirects, 401, 404, 502, 503). */
function nginxRespond(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  res.sendDate = false;
  const h: HeaderList = [
    ['Server', INGRESS_SERVER],
    ['Date', httpDate(Date.now())],
    ...Object.entries(headers),
  ];
  res.writeHead(status, reasonPhrase(status), h.flat());
  res.end(body);
}

let requestId = 0;

/** One request through ingress-nginx: routed by the daemon, then answered or proxied. */
function ingressRequest(scheme: 'http' | 'https', req: IncomingMessage, res: ServerResponse): void {
  void collectBody(req).then(async (body) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of rawHeaders(req)) headers[k.toLowerCase()] = v;
    const hostHeader = headers['host'] ?? '';
    const query: IngressRouteQuery = { scheme, host: hostHeader, uri: req.url ?? '/', headers };
    const m = await askDaemon((id) => ({ type: 'ingress-route', id, query }));
    if (m.type !== 'ingress-route') return nginxRespond(res, 500, {}, '');
    const a: IngressRouteAnswer = m.answer;
    if (a.kind === 'respond') return nginxRespond(res, a.status, a.headers, a.body);
    const fwd = forwardedHeaders(
      ++requestId,
      req.socket.remoteAddress ?? '',
      hostHeader,
      req.socket.localPort ?? 0,
      scheme,
    );
    const up = httpRequest(
      {
        host: a.ip,
        port: a.port,
        method: req.method,
        path: a.uri,
        setHost: false,
        headers: [
          'Host',
          hostHeader,
          ...fwd.flat(),
          ...rawHeaders(req)
            .filter(([k]) => passedUpstream(k))
            .flat(),
        ],
      },
      (r) => {
        res.sendDate = false;
        const h: HeaderList = [
          ['Server', INGRESS_SERVER],
          ['Date', httpDate(Date.now())],
        ];
        for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
          if (keptFromUpstream(r.rawHeaders[i]!)) h.push([r.rawHeaders[i]!, r.rawHeaders[i + 1]!]);
        }
        res.writeHead(r.statusCode ?? 502, r.statusMessage ?? '', h.flat());
        r.pipe(res);
      },
    );
    up.on('error', () => nginxRespond(res, 502, { 'Content-Type': 'text/html' }, nginxPage(502)));
    up.end(body);
  });
}

/** A TLS context per certificate the daemon hands out, by host. */
const contexts = new Map<string, { pem: string; ctx: SecureContext }>();

async function contextFor(host: string): Promise<SecureContext | undefined> {
  const m = await askDaemon((id) => ({ type: 'ingress-cert', id, host }));
  if (m.type !== 'ingress-cert' || m.cert === null || m.key === null) return undefined;
  const hit = contexts.get(host);
  if (hit !== undefined && hit.pem === m.cert) return hit.ctx;
  const ctx = createSecureContext({ cert: m.cert, key: m.key });
  contexts.set(host, { pem: m.cert, ctx });
  return ctx;
}

function listen(server: NetServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, spec.ip, () => resolve());
  });
}

async function serveIngress(): Promise<void> {
  await listen(
    createServer((req, res) => ingressRequest('http', req, res)),
    80,
  );
  // A client that sends no server name (an address in the URL) gets the default
  // certificate, as nginx's default server: the daemon's answer for no host.
  const def = await askDaemon((id) => ({ type: 'ingress-cert', id, host: '' }));
  const defaults =
    def.type === 'ingress-cert' && def.cert !== null && def.key !== null
      ? { cert: def.cert, key: def.key }
      : {};
  const https = createHttpsServer(
    {
      ...defaults,
      SNICallback: (servername, cb) => {
        contextFor(servername).then(
          (ctx) => cb(null, ctx),
          (e: unknown) => cb(e as Error),
        );
      },
    },
    (req, res) => ingressRequest('https', req, res),
  );
  await listen(https, 443);
}

async function main(): Promise<void> {
  const ports: number[] = [];
  switch (spec.kind) {
    case 'myapp':
      await serveHttp(
        80,
        myappHandler({ image: spec.image, podName: spec.pod, startedAtMs: spec.startedAtMs }),
        { nginx: true },
      );
      ports.push(80);
      break;
    case 'coredns':
      await serveDns(53);
      ports.push(53);
      break;
    case 'ingress-nginx':
      await serveIngress();
      ports.push(80, 443);
      break;
    default:
      for (const p of spec.ports) {
        await serveHttp(
          p,
          httpEchoHandler({ name: spec.pod, addresses: [spec.ip], nowMs: () => Date.now() }),
          { nginx: false },
        );
        ports.push(p);
      }
  }
  send({ type: 'listening', ports });
}

main().catch((e: unknown) => {
  send({ type: 'error', message: String((e as Error).message ?? e) });
  process.exit(1);
});
