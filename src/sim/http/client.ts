// An HTTP/1.1 client over the simulated TCP: one connection, requests sent one after
// another on it (keep-alive), responses framed by the parser, timings on the virtual
// clock, and failures reported with the stage they happened in (as curl needs them).
import type { TimerHandle } from '../../control/clock.ts';
import type { Addr } from '../../packet/index.ts';
import type { SimHost } from '../host.ts';
import type { TcpConnection, TcpEvents } from '../tcp/connection.ts';
import type { SocketError, SocketErrorCode } from '../tcp/errors.ts';
import type { HeadersInit } from './message.ts';
import { bodyBytes, encodeWithBody, hasHeader, headerHasToken, keepsAlive } from './message.ts';
import { type HeaderList, raised } from '../../workloads/header-fields.ts';
import { HttpParser } from './parser.ts';
import { EMPTY_BYTES } from '../../packet/slab.ts';
import type { HttpParseError, ParsedHead } from './parser.ts';

export interface HttpRequestSpec {
  method?: string;
  path?: string;
  /** Sent after Host, in this order. */
  headers?: HeadersInit;
  body?: Uint8Array | string;
  /** Host header value (default "ip" or "ip:port" when port is not 80); false = none. */
  host?: string | false;
  /** Whole-request limit from the start (curl -m), ns. */
  timeoutNs?: number;
}

export interface HttpRequestOptions extends HttpRequestSpec {
  ip: Addr;
  port: number;
  srcPort?: number;
  /** Limit on the TCP handshake (curl --connect-timeout), ns. */
  connectTimeoutNs?: number;
}

export interface HttpTiming {
  /** ns from the start to the end of the handshake (0 on a reused connection). */
  connect: number;
  firstByte: number;
  total: number;
}

export interface HttpResult {
  status: number;
  reason: string;
  version: string;
  headers: HeaderList;
  body: Uint8Array;
  /** The response head exactly as received; and the request head as sent. */
  rawHead: string;
  requestHead: string;
  timing: HttpTiming;
  remote: { ip: string; port: number };
  local: { ip: string; port: number };
  reusedConnection: boolean;
}

export type HttpErrorCode =
  SocketErrorCode | 'CONNECT_TIMEOUT' | 'TIMEOUT' | 'EMPTY_REPLY' | 'PARTIAL' | 'PARSE' | 'CLOSED';

export class HttpClientError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    readonly stage: 'connect' | 'receive',
    readonly elapsedNs: number,
    readonly detail: {
      socketError?: SocketError;
      parseError?: HttpParseError;
      /** The response head and body bytes received before the failure, if any. */
      head?: ParsedHead;
      body?: Uint8Array;
      requestHead?: string;
    } = {},
  ) {
    super(detail.socketError?.message ?? detail.parseError?.message ?? code);
    this.name = 'HttpClientError';
  }
}

export type HttpCallback = (err: HttpClientError | undefined, res?: HttpResult) => void;

/** Progress callbacks (curl -v prints from them). */
export interface HttpProgress {
  onConnect?(conn: TcpConnection): void;
  onRequestSent?(head: string, body: Uint8Array): void;
  onHead?(head: ParsedHead): void;
}

interface Pending {
  spec: HttpRequestSpec;
  cb: HttpCallback;
  progress: HttpProgress;
  start: number;
  requestHead: string;
  firstByte: number | undefined;
  timer: TimerHandle | undefined;
  /** Close the connection before the callback (httpRequest: one request, as curl). */
  closeAfter: boolean;
}

/** Shared defaults (read only): no progress callbacks, no connect options. */
const NO_PROGRESS: HttpProgress = Object.freeze({});
const NO_OPTIONS: { srcPort?: number } = Object.freeze({});

/** A plain request's head (see sendCurrent), by address, port, path and method. */
interface PlainHead {
  ip: number;
  port: number;
  path: string;
  method: string;
  upper: string;
  text: string;
  bytes: Uint8Array;
}
const PLAIN_SLOTS = 8;
const plainHeads: PlainHead[] = [];
let plainNext = 0;

/**
 * keepsAlive() of the last response head asked about. Parsed heads are frozen and shared by
 * every response with the same head bytes, so one head's answer never changes, and a
 * client fleet talking to one server mostly gets the same head.
 */
let lastHead: ParsedHead | undefined;
let lastKeepsAlive = true;
function headKeepsAlive(head: ParsedHead): boolean {
  if (head !== lastHead) {
    lastKeepsAlive = keepsAlive(head.version, head.headers);
    lastHead = head;
  }
  return lastKeepsAlive;
}

/** One client TCP connection carrying requests one at a time. */
export class HttpClientConnection implements TcpEvents {
  readonly conn: TcpConnection;
  connectedAt: number | undefined;
  /** False once either side has said it will close. */
  reusable = true;
  /** Requests after the current one (made on the second request queued at once). */
  private queue: Pending[] | undefined;
  private current: Pending | undefined;
  private currentHead: ParsedHead | undefined;
  private served = 0;
  private connectTimer: TimerHandle | undefined;
  private readonly parser: HttpParser;
  private readonly startedAt: number;

  constructor(
    readonly host: SimHost,
    ip: Addr,
    readonly port: number,
    opts: { srcPort?: number; connectTimeoutNs?: number } = {},
  ) {
    const clock = host.clock;
    this.startedAt = clock.now();
    this.conn = host.tcpConnect(
      ip,
      port,
      opts.srcPort === undefined ? NO_OPTIONS : { srcPort: opts.srcPort },
    );
    if (opts.connectTimeoutNs !== undefined) {
      this.connectTimer = clock.after(opts.connectTimeoutNs, () => {
        if (this.connectedAt !== undefined) return;
        this.failAll('CONNECT_TIMEOUT', 'connect');
        this.conn.destroy();
      });
    }
    // The connection is its parser's events object (onHead, onMessage, onError below) and
    // its socket's (tcpConnect, tcpData, tcpEnd, tcpClose): no closure per callback.
    this.parser = new HttpParser('response', this);
    this.conn.events = this;
  }

  /** @internal Socket event: the handshake completed. */
  tcpConnect(): void {
    const clock = this.host.clock;
    this.connectedAt = clock.now();
    clock.cancel(this.connectTimer);
    this.current?.progress.onConnect?.(this.conn);
    this.sendCurrent();
  }

  /** @internal Socket event: response bytes. */
  tcpData(d: Uint8Array): void {
    if (this.current !== undefined) this.current.firstByte ??= this.host.clock.now();
    this.parser.feed(d);
  }

  /** @internal Socket event: the server closed its side. */
  tcpEnd(): void {
    this.reusable = false;
    this.parser.finish();
    this.failAll('CLOSED', 'receive');
    this.conn.end();
  }

  /** @internal Socket event: the connection is over. */
  tcpClose(err?: SocketError): void {
    this.reusable = false;
    this.host.clock.cancel(this.connectTimer);
    if (err !== undefined) {
      this.failAll(err.code, this.connectedAt === undefined ? 'connect' : 'receive', err);
    } else this.failAll('CLOSED', 'receive');
  }

  /** @internal Parser event: a response head arrived. */
  onHead(h: ParsedHead): void {
    this.currentHead = h;
    this.current?.progress.onHead?.(h);
  }

  /** @internal Parser event: a whole response arrived. */
  onMessage(h: ParsedHead, body: Uint8Array): void {
    this.complete(h, body);
  }

  /** @internal Parser event: the response could not be parsed. */
  onError(e: HttpParseError): void {
    this.parseFailed(e);
  }

  /** Queue a request; it goes out when the connection is up and the previous one is done. */
  request(spec: HttpRequestSpec, cb: HttpCallback, progress: HttpProgress = NO_PROGRESS): void {
    this.enqueue(spec, cb, progress, false);
  }

  /**
   * @internal request(), then close() just before the callback (whichever way it ends):
   * what httpRequest does, with no closure per request.
   */
  requestThenClose(spec: HttpRequestSpec, cb: HttpCallback, progress: HttpProgress): void {
    this.enqueue(spec, cb, progress, true);
  }

  private enqueue(
    spec: HttpRequestSpec,
    cb: HttpCallback,
    progress: HttpProgress,
    closeAfter: boolean,
  ): void {
    const start = this.host.clock.now();
    const p: Pending = {
      spec,
      cb,
      progress,
      start,
      requestHead: '',
      firstByte: undefined,
      timer: undefined,
      closeAfter,
    };
    if (spec.timeoutNs !== undefined) {
      p.timer = this.host.clock.after(spec.timeoutNs, () => {
        this.failAll('TIMEOUT', this.connectedAt === undefined ? 'connect' : 'receive');
        this.conn.destroy();
      });
    }
    const q = this.queue;
    if (this.current === undefined && (q === undefined || q.length === 0)) {
      // What push() then advance() would do, with no list for the one request.
      this.current = p;
      if (this.connectedAt !== undefined) this.sendCurrent();
      return;
    }
    (this.queue ??= []).push(p);
    if (this.current === undefined) this.advance();
  }

  /** Close our side (FIN); kept-alive connections end here. */
  close(): void {
    this.reusable = false;
    this.conn.end();
  }

  private advance(): void {
    this.current = this.queue?.shift();
    if (this.current !== undefined && this.connectedAt !== undefined) this.sendCurrent();
  }

  private sendCurrent(): void {
    const p = this.current;
    if (p === undefined || p.requestHead !== '') return;
    const spec = p.spec;
    // The plain request (no fields, no body, the default Host) repeats across connections
    // to one address: its head text and bytes are made once and shared by every send.
    if (spec.headers === undefined && spec.body === undefined && spec.host === undefined) {
      const c = this.conn;
      const path = spec.path ?? '/';
      const m = spec.method ?? 'GET';
      for (let i = 0; i < plainHeads.length; i++) {
        const e = plainHeads[i]!;
        if (e.ip !== c.remoteIp || e.port !== this.port || e.path !== path || e.method !== m)
          continue;
        p.requestHead = e.text;
        this.parser.expect(e.upper);
        c.writeShared(e.bytes);
        p.progress.onRequestSent?.(e.text, EMPTY_BYTES);
        return;
      }
      this.sendFresh(p);
      const e = {
        ip: c.remoteIp,
        port: this.port,
        path,
        method: m,
        upper: raised(m),
        text: p.requestHead,
        bytes: encodeWithBody(p.requestHead, EMPTY_BYTES),
      };
      plainHeads[plainNext] = e;
      plainNext = (plainNext + 1) % PLAIN_SLOTS;
      return;
    }
    this.sendFresh(p);
  }

  private sendFresh(p: Pending): void {
    const method = raised(p.spec.method ?? 'GET');
    const body = bodyBytes(p.spec.body);
    const h = p.spec.headers;
    const given: HeaderList = h === undefined ? [] : Array.isArray(h) ? h : Object.entries(h);
    const hostValue =
      p.spec.host ??
      (this.port === 80 ? this.conn.remoteAddress : `${this.conn.remoteAddress}:${this.port}`);
    // formatHead() of Host (unless given), the given fields and Content-Length (when there is
    // a body and none was given), written out directly.
    let head = `${method} ${p.spec.path ?? '/'} HTTP/1.1\r\n`;
    if (hostValue !== false && !hasHeader(given, 'host')) head += `Host: ${hostValue}\r\n`;
    for (let i = 0; i < given.length; i++) {
      const [n, v] = given[i]!;
      head += `${n}: ${v}\r\n`;
    }
    if (body.length > 0 && !hasHeader(given, 'content-length')) {
      head += `Content-Length: ${body.length}\r\n`;
    }
    p.requestHead = `${head}\r\n`;
    if (headerHasToken(given, 'connection', 'close')) this.reusable = false;
    this.parser.expect(method);
    // Fresh bytes nothing else holds: the send queue keeps them as they are.
    this.conn.writeShared(encodeWithBody(p.requestHead, body));
    p.progress.onRequestSent?.(p.requestHead, body);
  }

  private complete(head: ParsedHead, body: Uint8Array): void {
    const p = this.current;
    if (p === undefined) return;
    const now = this.host.clock.now();
    this.host.clock.cancel(p.timer);
    if (!headKeepsAlive(head)) this.reusable = false;
    const reused = this.served++ > 0;
    this.currentHead = undefined;
    const c = this.conn;
    const result: HttpResult = {
      status: head.status,
      reason: head.reason,
      version: head.version,
      headers: head.headers,
      body,
      rawHead: head.raw,
      requestHead: p.requestHead,
      timing: {
        connect: reused ? 0 : (this.connectedAt ?? now) - Math.max(p.start, this.startedAt),
        firstByte: (p.firstByte ?? now) - p.start,
        total: now - p.start,
      },
      remote: { ip: c.remoteAddress, port: c.remotePort },
      local: { ip: c.localAddress, port: c.localPort },
      reusedConnection: reused,
    };
    this.current = undefined;
    if (p.closeAfter) this.close();
    p.cb(undefined, result);
    if (!this.reusable) this.conn.end();
    this.advance();
  }

  private parseFailed(e: HttpParseError): void {
    const p = this.current;
    if (p === undefined) return;
    const nothing = p.firstByte === undefined;
    const code = e.code === 'INCOMPLETE' ? (nothing ? 'EMPTY_REPLY' : 'PARTIAL') : 'PARSE';
    this.failCurrent(code, 'receive', undefined, e);
    this.conn.destroy();
  }

  private failAll(code: HttpErrorCode, stage: 'connect' | 'receive', err?: SocketError): void {
    // A request whose response never started at EOF is an empty reply (curl 52).
    if (code === 'CLOSED' && this.current !== undefined && this.current.firstByte === undefined) {
      if (this.current.requestHead !== '') code = 'EMPTY_REPLY';
    }
    while (this.current !== undefined) {
      this.failCurrent(code, stage, err);
      this.current = this.queue?.shift();
    }
  }

  private failCurrent(
    code: HttpErrorCode,
    stage: 'connect' | 'receive',
    socketError?: SocketError,
    parseError?: HttpParseError,
  ): void {
    const p = this.current;
    if (p === undefined) return;
    this.current = undefined;
    this.host.clock.cancel(p.timer);
    const head = this.currentHead;
    this.currentHead = undefined;
    const detail = {
      requestHead: p.requestHead,
      ...(head !== undefined ? { head, body: this.parser.partialBody() } : {}),
      ...(socketError !== undefined ? { socketError } : {}),
      ...(parseError !== undefined ? { parseError } : {}),
    };
    const err = new HttpClientError(code, stage, this.host.clock.now() - p.start, detail);
    if (p.closeAfter) this.close();
    p.cb(err);
  }
}

/** One request on a fresh connection, closed afterwards (what curl does). */
export function httpRequest(
  host: SimHost,
  opts: HttpRequestOptions,
  cb: HttpCallback,
  progress: HttpProgress = NO_PROGRESS,
): HttpClientConnection {
  // opts carries srcPort and connectTimeoutNs under the names the constructor reads.
  const c = new HttpClientConnection(host, opts.ip, opts.port, opts);
  c.requestThenClose(opts, cb, progress);
  return c;
}

/** Promise form of httpRequest; resolves once the simulation has run far enough. */
export function httpRequestAsync(host: SimHost, opts: HttpRequestOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) =>
    httpRequest(host, opts, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}
