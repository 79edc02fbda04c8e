// `kubectl exec`: the server side of the Kubernetes remote-command protocol over WebSocket
// (subprotocols v5.channel.k8s.io and v4.channel.k8s.io), as kube-apiserver and the
// kubelet speak it to client-go.
//
// kubectl (1.30+) first sends `GET .../pods/NAME/exec?command=…&container=…&stdin=true
// &stdout=true&stderr=true&tty=false` asking to upgrade to WebSocket with the single
// subprotocol v5.channel.k8s.io. Any answer other than 101 is an "upgrade failure", and
// kubectl then retries the same URL as `POST` with `Upgrade: SPDY/3.1`; that retry gets
// the same answer here (we do not speak SPDY), so kubectl prints what it says:
//   - a metav1.Status (JSON, kind Status) → `Error from server (Reason): message`
//   - plain text → `error: unable to upgrade connection: text`, as the kubelet's answers.
//
// After the upgrade, every binary message starts with a channel byte: 0 stdin, 1 stdout,
// 2 stderr, 3 error (one metav1.Status, JSON, at the end), 4 resize (JSON
// {"Width","Height"}); v5 adds 255: `[255, ch]` closes stream ch (kubectl sends [255, 0]
// when its stdin reaches EOF). The server writes the Status on channel 3 and closes the
// WebSocket (1000); client-go only finishes once the connection closes (its stream
// readers see EOF then), and decodes everything read on channel 3 as the Status:
//   - Success: {"metadata":{},"status":"Success"}
//   - exit code N: reason NonZeroExitCode, details.causes [{reason: ExitCode, message: N}]
//     → kubectl prints `command terminated with exit code N` and exits N
//   - anything else: its message → kubectl prints `error: message` and exits 1.
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Pod } from '../api/types.ts';
import type { ClusterRuntime, ExecRequest, ExecStreams } from './runtime.ts';

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
/** In the server's order of preference; the client's order decides among them. */
const SUPPORTED = [PROTOCOL_V5, PROTOCOL_V4];

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 };

/** One stdin message at most (client-go writes 32 KiB ones). */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Stdin read ahead of the command: the socket is paused above this... */
const STDIN_HIGH_WATER = 1 << 20;
/** ...and the exec fails if a client still pushes this much past the pause. */
export const MAX_STDIN_BUFFERED = 10 << 20;
/** Output queued on a socket the client does not read: the exec is stopped past this. */
export const MAX_OUTPUT_BUFFERED = 64 << 20;
/** Output frames are cut to this size. */
const FRAME_BYTES = 64 << 10;
/** The server's own liveness ping (client-go also pings every 5 s). */
const PING_INTERVAL_MS = 30_000;

// ---- Status objects ------------------------------------------------------------------

interface StatusJson {
  kind?: string;
  apiVersion?: string;
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code?: number;
}

/** A Status as the API server answers an HTTP request (kind and apiVersion set). */
function httpStatus(code: number, reason: string, message: string, details?: object): StatusJson {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details: details as Record<string, unknown> }),
    code,
  };
}

/** The Status the kubelet writes on channel 3 when the command ended (json.Marshal form). */
export function exitStatus(code: number, command: readonly string[]): StatusJson {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The Status for an exec that could not run; kubectl prints `error: <message>`. */
export function errorStatus(message: string, reason = 'InternalError', code = 500): StatusJson {
  return { metadata: {}, status: 'Failure', message, reason, code };
}

// ---- the request ---------------------------------------------------------------------

/** A query boolean as the API server converts it: absent, "0" or "false" is false. */
function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}

export interface ExecOptions {
  command: string[];
  container: string | undefined;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** PodExecOptions from the query string (`command` repeated). */
export function parseExecQuery(url: string | undefined): ExecOptions {
  const q = new URL(url ?? '/', 'http://localhost').searchParams;
  const container = q.get('container') ?? '';
  const tty = queryBool(q, 'tty');
  return {
    command: q.getAll('command'),
    container: container === '' ? undefined : container,
    stdin: queryBool(q, 'stdin'),
    stdout: queryBool(q, 'stdout'),
    // The kubelet: "Access to exec with tty and stderr is not supported, bypassing stderr".
    stderr: queryBool(q, 'stderr') && !tty,
    tty,
  };
}

/** The subprotocol to answer with: the first of the client's offers we speak. */
export function pickProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if (SUPPORTED.includes(p)) return p;
  return undefined;
}

function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  const raw = Array.isArray(h) ? h.join(',') : (h ?? '');
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

type Refusal =
  { kind: 'status'; status: StatusJson } | { kind: 'text'; code: number; text: string };

const refuse = (code: number, reason: string, message: string, details?: object): Refusal => ({
  kind: 'status',
  status: httpStatus(code, reason, message, details),
});

/** The container the exec runs in, or why not (the API server's then the kubelet's checks). */
function checkTarget(
  opts: ExecOptions,
  target: { namespace: string; pod: string },
  runtime: ClusterRuntime,
): { container: string } | Refusal {
  let pod: Pod | undefined;
  try {
    pod = runtime.cluster.get('Pod', target.namespace, target.pod);
  } catch {
    pod = undefined;
  }
  if (pod === undefined)
    return refuse(404, 'NotFound', `pods "${target.pod}" not found`, {
      name: target.pod,
      kind: 'pods',
    });
  const names = pod.spec.containers.map((c) => c.name);
  const initNames = (pod.spec.initContainers ?? []).map((c) => c.name);
  let container = opts.container;
  if (container === undefined) {
    if (names.length === 0)
      return refuse(400, 'BadRequest', `a container name must be specified for pod ${target.pod}`);
    if (names.length > 1) {
      let msg = `a container name must be specified for pod ${target.pod}, choose one of: [${names.join(' ')}]`;
      if (initNames.length > 0) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
      return refuse(400, 'BadRequest', msg);
    }
    container = names[0]!;
  } else if (!names.includes(container) && !initNames.includes(container)) {
    return refuse(400, 'BadRequest', `container ${container} is not valid for pod ${target.pod}`);
  }
  if (pod.spec.nodeName === undefined || pod.spec.nodeName === '')
    return refuse(400, 'BadRequest', `pod ${target.pod} does not have a host assigned`);
  // The kubelet finds no running container (a plain-text 500).
  if (pod.status.phase !== 'Running' || !names.includes(container))
    return { kind: 'text', code: 500, text: `container not found ("${container}")` };
  return { container };
}

function writeRefusal(socket: Duplex, r: Refusal): void {
  const code = r.kind === 'status' ? r.status.code! : r.code;
  const body = r.kind === 'status' ? JSON.stringify(r.status) : r.text;
  const type = r.kind === 'status' ? 'application/json' : 'text/plain; charset=utf-8';
  const head =
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
    `Content-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Cache-Control: no-cache, private\r\n` +
    `Connection: close\r\n\r\n`;
  try {
    socket.end(head + body);
  } catch {
    socket.destroy();
  }
  // A client that never reads its answer does not keep the socket.
  setTimeout(() => socket.destroy(), 5000).unref();
}

// ---- the session ---------------------------------------------------------------------

let server: WebSocketServer | undefined;

function wsServer(): WebSocketServer {
  server ??= new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_BYTES + 1,
    handleProtocols: (offered) => pickProtocol(offered) ?? false,
  });
  return server;
}

/** Stdin as the runtime reads it: chunks in order, ends on close-stream or disconnect. */
class StdinQueue implements AsyncIterable<Uint8Array> {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private discarding = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly onHigh: () => void,
    private readonly onLow: () => void,
  ) {}

  get bytes(): number {
    return this.queued;
  }

  push(b: Uint8Array): void {
    if (this.ended || this.discarding || b.length === 0) return;
    this.chunks.push(b);
    this.queued += b.length;
    if (this.queued > STDIN_HIGH_WATER) this.onHigh();
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          const b = this.chunks.shift();
          if (b !== undefined) {
            this.queued -= b.length;
            if (this.queued <= STDIN_HIGH_WATER / 2) this.onLow();
            return { done: false, value: b };
          }
          if (this.ended || this.discarding) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      // The runtime stops reading: what the client still sends is dropped.
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        this.discarding = true;
        this.chunks = [];
        this.queued = 0;
        this.onLow();
        return { done: true, value: undefined };
      },
    };
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function runSession(
  ws: WebSocket,
  protocol: string,
  execReq: ExecRequest,
  opts: ExecOptions,
  runtime: ClusterRuntime,
): void {
  const abort = new AbortController();
  let finished = false;

  const sendFrame = (channel: number, data: Uint8Array): void => {
    if (ws.readyState !== ws.OPEN) return;
    const frame = Buffer.allocUnsafe(data.length + 1);
    frame[0] = channel;
    frame.set(data, 1);
    ws.send(frame, { binary: true });
  };

  /** Ends the exec: the Status on channel 3, then a normal close. */
  const finish = (status: StatusJson): void => {
    if (finished) return;
    finished = true;
    clearInterval(pinger);
    stdin?.end();
    // A paused socket would not read the client's answer to our close.
    if (paused) ws.resume();
    sendFrame(CHANNEL.error, Buffer.from(JSON.stringify(status)));
    if (ws.readyState === ws.OPEN) ws.close(1000);
    if (!abort.signal.aborted) abort.abort();
  };

  const output = (channel: number, wanted: boolean) => (chunk: Uint8Array | string) => {
    if (finished || !wanted) return;
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let off = 0; off < b.length; off += FRAME_BYTES)
      sendFrame(channel, b.subarray(off, Math.min(b.length, off + FRAME_BYTES)));
    if (ws.bufferedAmount > MAX_OUTPUT_BUFFERED) {
      // The client does not read what the command writes; stop rather than hoard it.
      finished = true;
      abort.abort();
      ws.terminate();
    }
  };

  let paused = false;
  const stdin = opts.stdin
    ? new StdinQueue(
        () => {
          if (!paused) ws.pause();
          paused = true;
        },
        () => {
          if (paused) ws.resume();
          paused = false;
        },
      )
    : undefined;

  const protocolError = (message: string) =>
    finish(errorStatus(`protocol error: ${message}`, 'BadRequest', 400));

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (finished) return;
    if (!isBinary) return protocolError('text message on a binary channel protocol');
    const b = toBuffer(data);
    if (b.length === 0) return;
    const channel = b[0]!;
    if (channel === CHANNEL.stdin) {
      if (stdin === undefined) return;
      if (b.length - 1 > MAX_MESSAGE_BYTES) return protocolError('stdin message too large');
      // A copy: the runtime may keep chunks past this call.
      stdin.push(new Uint8Array(b.subarray(1)));
      if (stdin.bytes > MAX_STDIN_BUFFERED)
        finish(errorStatus('stdin: more than 10 MiB sent ahead of the command', 'BadRequest', 400));
    } else if (channel === CHANNEL.close && protocol === PROTOCOL_V5) {
      // [255, ch]: the client closed its end of stream ch (only stdin is the client's).
      if (b.length === 2 && b[1] === CHANNEL.stdin) stdin?.end();
    }
    // Resize (4) has nowhere to go (the runtimes take no terminal size); output channels
    // from the client are ignored, as wsstream ignores frames for channels it does not read.
  });

  // Too large a message, a bad frame: ws closes with 1002/1009 and emits 'error' first.
  ws.on('error', () => undefined);
  ws.on('close', () => {
    clearInterval(pinger);
    stdin?.end();
    if (!finished) {
      finished = true;
      abort.abort();
    }
  });

  let alive = true;
  ws.on('pong', () => (alive = true));
  ws.on('ping', () => (alive = true));
  ws.on('message', () => (alive = true));
  const pinger = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, PING_INTERVAL_MS);
  pinger.unref();

  // The kubelet's greeting: an empty message on the lowest channel the client reads.
  sendFrame(
    opts.stdout ? CHANNEL.stdout : opts.stderr ? CHANNEL.stderr : CHANNEL.error,
    Buffer.alloc(0),
  );

  const streams: ExecStreams = {
    stdout: output(CHANNEL.stdout, opts.stdout),
    // With a tty, the command's stderr is the same terminal as its stdout.
    stderr: opts.tty ? output(CHANNEL.stdout, opts.stdout) : output(CHANNEL.stderr, opts.stderr),
    ...(stdin === undefined ? {} : { stdin }),
    signal: abort.signal,
  };

  let running: Promise<number>;
  try {
    running = Promise.resolve(runtime.exec(execReq, streams));
  } catch (err) {
    running = Promise.reject(err);
  }
  running.then(
    (code) => {
      const rc = Number.isInteger(code) ? code & 0xff : 1;
      finish(exitStatus(rc, execReq.command));
    },
    (err: unknown) => finish(errorStatus(err instanceof Error ? err.message : String(err))),
  );
}

/** Handles an 'upgrade' for .../pods/NAME/exec (auth is checked by the caller). */
export function handleExecUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: { namespace: string; pod: string },
  runtime: ClusterRuntime,
): void {
  socket.on('error', () => undefined);
  let opts: ExecOptions;
  try {
    opts = parseExecQuery(req.url);
  } catch {
    return writeRefusal(socket, refuse(400, 'BadRequest', 'malformed exec query'));
  }
  if (opts.command.length === 0)
    return writeRefusal(
      socket,
      refuse(400, 'BadRequest', 'you must specify at least one command for the container'),
    );
  if (!opts.stdin && !opts.stdout && !opts.stderr)
    return writeRefusal(socket, {
      kind: 'text',
      code: 400,
      text: 'you must specify at least 1 of stdin, stdout, stderr',
    });
  const checked = checkTarget(opts, target, runtime);
  if ('kind' in checked) return writeRefusal(socket, checked);

  if (!isWebSocketUpgrade(req)) {
    // kubectl's SPDY retry after a failed WebSocket upgrade, or an old client.
    const what = req.headers.upgrade ?? 'no upgrade';
    return writeRefusal(
      socket,
      refuse(
        400,
        'BadRequest',
        `svclab serves exec over WebSocket only (${SUPPORTED.join(', ')}), not ${what}: ` +
          'use kubectl 1.30 or newer without KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false',
      ),
    );
  }
  const offered = offeredProtocols(req);
  const protocol = pickProtocol(offered);
  if (protocol === undefined)
    return writeRefusal(
      socket,
      refuse(
        400,
        'BadRequest',
        `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${SUPPORTED.join(' ')}]`,
      ),
    );

  const execReq: ExecRequest = {
    namespace: target.namespace,
    pod: target.pod,
    container: checked.container,
    command: opts.command,
    stdin: opts.stdin,
    tty: opts.tty,
  };
  try {
    wsServer().handleUpgrade(req, socket, head, (ws) =>
      runSession(ws, ws.protocol || protocol, execReq, opts, runtime),
    );
  } catch {
    socket.destroy();
  }
}
