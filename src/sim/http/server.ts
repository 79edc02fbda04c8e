// An HTTP/1.1 server over the simulated TCP: persistent connections (RFC 9112 §9.3),
// pipelined requests answered in order, HEAD without a body, 400 on a bad request,
// idle keep-alive timeout and a request cap per connection (nginx: 65 s, 100).
import { SECOND, Timer } from '../../control/clock.ts';
import type { SimHost } from '../host.ts';
import type { TcpConnection, TcpEvents } from '../tcp/connection.ts';
import type { TcpListener } from '../tcp/listener.ts';
import { httpDate } from '../../workloads/http-date.ts';
import type { HeadersInit, HttpRequestMessage } from './message.ts';
import { type HeaderList, nameIs } from '../../workloads/header-fields.ts';
import { slabBytes } from '../../packet/slab.ts';
import { REASONS, bodyBytes, encodeWithBody, keepsAlive } from './message.ts';
import { HttpParser } from './parser.ts';
import type { HttpParseError, ParsedHead, ParserEvents } from './parser.ts';

export interface HttpServerRequest extends HttpRequestMessage {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Requests already served on this connection before this one. */
  connectionRequests: number;
}

export interface HttpResponseInit {
  status: number;
  /** Default: the server's reason table, else RFC 9110's phrase. */
  reason?: string;
  headers?: HeadersInit;
  body?: Uint8Array | string;
}

export type HttpHandler = (
  req: HttpServerRequest,
  respond: (res: HttpResponseInit) => void,
) => void;

/**
 * A handler that answers at once: its return value is the response, as if it had called
 * respond() before returning (no respond function is made per request).
 */
export type HttpSyncHandler = (req: HttpServerRequest) => HttpResponseInit;

export interface HttpServerOptions {
  /** `Server:` header value sent first (e.g. "nginx/1.12.2"); none when undefined. */
  serverHeader?: string;
  /** Send `Date:` from the host's wall clock (default true). */
  date?: boolean;
  /** Idle time before a kept-alive connection is closed (nginx keepalive_timeout 65 s). */
  keepAliveTimeoutNs?: number;
  /** Requests per connection before `Connection: close` (nginx keepalive_requests 100). */
  maxRequests?: number;
  reasons?: Readonly<Record<number, string>>;
  /** 'always' (nginx) or only `Connection: close` when closing (Go's net/http). */
  connectionHeader?: 'always' | 'when-closing';
  /** Response to a request that cannot be parsed (default: a plain 400). */
  badRequest?: () => HttpResponseInit;
}

export interface HttpServerStats {
  connections: number;
  requests: number;
  badRequests: number;
  byStatus: Record<number, number>;
}

export class HttpServer {
  readonly listener: TcpListener;
  readonly stats: HttpServerStats = { connections: 0, requests: 0, badRequests: 0, byStatus: {} };
  /** Responses written lately for frozen responses (see responseBytes). */
  private readonly memo: ResponseMemo[] = [];
  private memoNext = 0;
  /** @internal The handler when it answers at once (createSyncHttpServer), else undefined. */
  readonly sync: HttpSyncHandler | undefined;
  private readonly handler: HttpHandler;

  constructor(
    readonly host: SimHost,
    readonly port: number,
    handler: HttpHandler | { sync: HttpSyncHandler },
    readonly options: HttpServerOptions = {},
  ) {
    if (typeof handler === 'function') {
      this.handler = handler;
      this.sync = undefined;
    } else {
      const sync = handler.sync;
      this.sync = sync;
      this.handler = (req, respond) => respond(sync(req));
    }
    this.listener = host.tcpListen(port, (c) => this.serve(c));
  }

  close(): void {
    this.listener.close();
  }

  private serve(conn: TcpConnection): void {
    this.stats.connections++;
    new ServerConnection(this, conn).next();
  }

  /** @internal The handler's turn for one request (ServerConnection calls it). */
  handle(req: HttpServerRequest, respond: (res: HttpResponseInit) => void): void {
    this.handler(req, respond);
  }

  /** @internal */
  request(
    conn: TcpConnection,
    head: ParsedHead,
    body: Uint8Array,
    before: number,
  ): HttpServerRequest {
    return {
      method: head.method,
      target: head.target,
      version: head.version,
      headers: head.headers,
      body,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      localAddress: conn.localAddress,
      localPort: conn.localPort,
      connectionRequests: before,
    };
  }

  /**
   * @internal Status line and headers (Server and Date first, as nginx), then the body
   * unless HEAD. The bytes may be shared with other answers: not to be written to.
   */
  responseBytes(
    req: Pick<HttpRequestMessage, 'method' | 'version' | 'headers'>,
    res: HttpResponseInit,
    keepAlive: boolean,
  ): Uint8Array {
    const o = this.options;
    const body = bodyBytes(res.body);
    const dateText = o.date !== false ? cachedHttpDate(this.host.wallClockMs()) : '';
    // A frozen response (myapp's, shared by every request for its file) gives the same
    // bytes for the same keep-alive, HEAD-ness and Date text: written once, then handed out
    // as they are (the send queue keeps them by reference: writeShared).
    const frozen =
      Object.isFrozen(res) && (res.headers === undefined || Object.isFrozen(res.headers));
    const isHead = req.method === 'HEAD';
    if (frozen) {
      const m = this.memo;
      for (let i = 0; i < m.length; i++) {
        const e = m[i]!;
        if (e.res === res && e.keep === keepAlive && e.isHead === isHead && e.date === dateText) {
          this.stats.byStatus[res.status] = (this.stats.byStatus[res.status] ?? 0) + 1;
          return e.bytes;
        }
      }
    }
    const h = res.headers;
    const given: HeaderList = h === undefined ? [] : Array.isArray(h) ? h : Object.entries(h);
    // Which fields the handler gave, in one pass (names compare case-insensitively).
    let hasServer = false;
    let hasDate = false;
    let hasLength = false;
    let hasCoding = false;
    let hasConnection = false;
    for (let i = 0; i < given.length; i++) {
      const n = given[i]![0];
      if (nameIs(n, 'server')) hasServer = true;
      else if (nameIs(n, 'date')) hasDate = true;
      else if (nameIs(n, 'content-length')) hasLength = true;
      else if (nameIs(n, 'transfer-encoding')) hasCoding = true;
      else if (nameIs(n, 'connection')) hasConnection = true;
    }
    const reason = res.reason ?? o.reasons?.[res.status] ?? REASONS[res.status] ?? 'Unknown';
    const connection = keepAlive ? 'keep-alive' : 'close';
    const bodiless = res.status < 200 || res.status === 204 || res.status === 304;
    const say = o.connectionHeader !== 'when-closing' || !keepAlive;
    const sent = isHead || bodiless ? EMPTY : body;
    this.stats.byStatus[res.status] = (this.stats.byStatus[res.status] ?? 0) + 1;
    // formatHead() of these fields: Server and Date first (nginx), the handler's fields
    // (Connection rewritten), Content-Length unless the body is framed otherwise, then
    // Connection. ASCII heads are written byte by byte with no string built; anything
    // else (a non-ASCII field) takes the string.
    const w = HEAD;
    for (let pass = 0; pass < 2; pass++) {
      w.reset(pass === 1);
      w.str('HTTP/1.1 ');
      w.num(res.status);
      w.str(' ');
      w.str(reason);
      w.str('\r\n');
      if (o.serverHeader !== undefined && !hasServer) w.field('Server', o.serverHeader);
      if (o.date !== false && !hasDate) w.field('Date', dateText);
      for (let i = 0; i < given.length; i++) {
        const [n, v] = given[i]!;
        w.field(n, nameIs(n, 'connection') ? connection : v);
      }
      if (!bodiless && !hasLength && !hasCoding) {
        w.str('Content-Length: ');
        w.num(body.length);
        w.str('\r\n');
      }
      if (!hasConnection && say) w.field('Connection', connection);
      w.str('\r\n');
      const out = w.finish(sent);
      if (out === undefined) continue;
      if (frozen) {
        // A copy of its own: the memo outlives the slab `out` was carved from.
        const e = { res, keep: keepAlive, isHead, date: dateText, bytes: out.slice() };
        if (this.memo.length < RESPONSE_MEMO_SLOTS) this.memo.push(e);
        else this.memo[this.memoNext] = e;
        this.memoNext = (this.memoNext + 1) % RESPONSE_MEMO_SLOTS;
      }
      return out;
    }
    throw new Error('unreachable: the string pass always finishes');
  }
}

/**
 * A response head written twice over the same calls: first into a scratch buffer, one
 * byte per ASCII character (then copied out beside the body); if a character is not
 * ASCII or the head outgrows the scratch, the second pass builds the string and encodes
 * it (encodeWithBody), as formatHead() + encodeText() would.
 */
class HeadWriter {
  private readonly buf = new Uint8Array(8192);
  private at = 0;
  private ok = true;
  private asText = false;
  private text = '';

  reset(asText: boolean): void {
    this.at = 0;
    this.ok = true;
    this.asText = asText;
    this.text = '';
  }

  str(s: string): void {
    if (this.asText) {
      this.text += s;
      return;
    }
    if (!this.ok) return;
    const n = s.length;
    const buf = this.buf;
    let at = this.at;
    if (at + n > buf.length) {
      this.ok = false;
      return;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.ok = false;
        return;
      }
      buf[at++] = c;
    }
    this.at = at;
  }

  /** A number as a template literal prints it. */
  num(v: number): void {
    this.str(`${v}`);
  }

  field(name: string, value: string): void {
    this.str(`${name}`);
    this.str(': ');
    this.str(`${value}`);
    this.str('\r\n');
  }

  /** The head and `body` in one buffer, or undefined: take the string pass. */
  finish(body: Uint8Array): Uint8Array | undefined {
    if (this.asText) return encodeWithBody(this.text, body);
    if (!this.ok) return undefined;
    const n = this.at;
    const out = slabBytes(n + body.length);
    const buf = this.buf;
    for (let i = 0; i < n; i++) out[i] = buf[i]!;
    if (body.length > 0) out.set(body, n);
    return out;
  }
}

const HEAD = new HeadWriter();

/** Responses remembered per server (a workload answers with a few frozen responses). */
const RESPONSE_MEMO_SLOTS = 4;

interface ResponseMemo {
  res: HttpResponseInit;
  keep: boolean;
  isHead: boolean;
  date: string;
  /** The whole response (head, then the body unless HEAD or bodiless); never written to. */
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** httpDate() of the last second asked for, kept: the Date header changes once a second. */
let dateSecond = NaN;
let dateText = '';
function cachedHttpDate(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== dateSecond) {
    dateText = httpDate(ms);
    dateSecond = sec;
  }
  return dateText;
}

/**
 * One accepted connection: its parser, the parsed requests waiting for their turn ('bad'
 * stands for an unparsable one), and the keep-alive timer. It is the parser's events
 * object itself, so a connection costs one object and three socket callbacks.
 */
class ServerConnection implements ParserEvents, TcpEvents {
  /** Made when a request must wait (pipelining): one at a time needs no list. */
  private queue: Array<HttpServerRequest | 'bad'> | undefined;
  private busy = false;
  private closing = false;
  private peerDone = false;
  private served = 0;
  /** The keep-alive timer, re-armed in place while the connection waits between requests. */
  private idle: Timer | undefined;
  private readonly parser: HttpParser;

  constructor(
    private readonly server: HttpServer,
    private readonly conn: TcpConnection,
  ) {
    this.parser = new HttpParser('request', this);
    conn.events = this;
  }

  /** @internal Socket event (never: the connection is already established). */
  tcpConnect(): void {}

  /** @internal Socket event: request bytes. */
  tcpData(d: Uint8Array): void {
    if (!this.closing) this.parser.feed(d);
  }

  /** @internal Socket event: the client closed its side. */
  tcpEnd(): void {
    this.peerDone = true;
    this.parser.finish();
    this.next();
  }

  /** @internal Socket event: the connection is over. */
  tcpClose(): void {
    if (this.idle !== undefined) this.server.host.clock.disarm(this.idle);
  }

  onMessage(head: ParsedHead, body: Uint8Array): void {
    const waiting = this.queue === undefined ? 0 : this.queue.length;
    const before = this.served + waiting + (this.busy ? 1 : 0);
    const req = this.server.request(this.conn, head, body, before);
    // Nothing ahead of it: served now, as push() then next() would, with no list.
    if (waiting === 0 && !this.busy && !this.closing) return this.run(req);
    (this.queue ??= []).push(req);
    this.next();
  }

  onError(e: HttpParseError): void {
    // A cut-off request at EOF needs no answer; anything else gets a 400.
    if (e.code !== 'INCOMPLETE') (this.queue ??= []).push('bad');
    this.next();
  }

  /** @internal */
  close(): void {
    this.closing = true;
    this.conn.end();
  }

  next(): void {
    if (this.busy || this.closing) return;
    this.run(this.queue?.shift());
  }

  /** The turn of `req`, the first in line (undefined: none waiting). */
  private run(req: HttpServerRequest | 'bad' | undefined): void {
    const server = this.server;
    const o = server.options;
    const clock = server.host.clock;
    const conn = this.conn;
    if (this.idle !== undefined) clock.disarm(this.idle);
    if (req === undefined) {
      if (this.peerDone) return this.close();
      this.idle ??= Timer.of(closeIdle, this);
      clock.arm(this.idle, o.keepAliveTimeoutNs ?? 65 * SECOND);
      return;
    }
    if (req === 'bad') {
      server.stats.badRequests++;
      const res = o.badRequest?.() ?? { status: 400, body: 'Bad Request\n' };
      conn.writeShared(server.responseBytes(BAD, res, false));
      return this.close();
    }
    this.busy = true;
    server.stats.requests++;
    const sync = server.sync;
    if (sync !== undefined) {
      // What the respond() below does when called once before the handler returns.
      const res = sync(req);
      if (conn.state !== 'CLOSED') this.answer(req, res);
      return;
    }
    let answered = false;
    server.handle(req, (res) => {
      if (answered || conn.state === 'CLOSED') return;
      answered = true;
      this.answer(req, res);
    });
  }

  /** The response to `req`, the request being served: written, then the next one's turn. */
  private answer(req: HttpServerRequest, res: HttpResponseInit): void {
    const server = this.server;
    this.busy = false;
    this.served++;
    const keep =
      this.served < (server.options.maxRequests ?? 100) && keepsAlive(req.version, req.headers);
    this.conn.writeShared(server.responseBytes(req, res, keep));
    if (keep) this.next();
    else this.close();
  }
}

/** The keep-alive timer's function (Timer.of passes the connection). */
function closeIdle(c: ServerConnection): void {
  c.close();
}

const BAD = { method: 'GET', version: 'HTTP/1.1', headers: [] as HeaderList };

export function createHttpServer(
  host: SimHost,
  port: number,
  handler: HttpHandler,
  options: HttpServerOptions = {},
): HttpServer {
  return new HttpServer(host, port, handler, options);
}

/** createHttpServer() with a handler that answers at once (see HttpSyncHandler). */
export function createSyncHttpServer(
  host: SimHost,
  port: number,
  handler: HttpSyncHandler,
  options: HttpServerOptions = {},
): HttpServer {
  return new HttpServer(host, port, { sync: handler }, options);
}
