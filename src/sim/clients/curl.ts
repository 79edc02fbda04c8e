// A curl-like client on a simulated host that prints what curl 7.88.1 prints in a
// terminal: the body, the -v transcript (`*   Trying`, `> ` request and `< ` response
// lines, `* Connection #0 ... left intact`), and failures as `curl: (N) ...`.
// Not emulated: the progress meter (shown only when stdout is not a terminal).
import type { SimHost } from '../host.ts';
import { httpRequest } from '../http/client.ts';
import type { HttpClientError, HttpResult } from '../http/client.ts';
import type { HeaderList } from '../../workloads/header-fields.ts';
import { decodeText, hasHeader } from '../http/message.ts';
import { headerValue } from '../../workloads/header-fields.ts';
import { strerror } from '../tcp/errors.ts';
import type { SocketErrorCode } from '../tcp/errors.ts';
import { parseCurlArgs, parseCurlUrl } from './curl-args.ts';
import type { CurlOptions, ParsedUrl } from './curl-args.ts';
import { podResolvConf, resolveName } from './resolver.ts';
import type { ResolvConf } from './resolver.ts';

export interface CurlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as a terminal shows them. */
  transcript: string;
  response: HttpResult | undefined;
  error: HttpClientError | undefined;
}

export interface CurlEnv {
  /** The pod's resolv.conf for names (default: a pod in "default"). */
  resolvConf?: ResolvConf;
  /** stdout is a terminal (default). When false, -v also prints `{ [N bytes data]`. */
  tty?: boolean;
}

class Output {
  stdout = '';
  stderr = '';
  transcript = '';
  out(s: string): void {
    this.stdout += s;
    this.transcript += s;
  }
  err(s: string): void {
    this.stderr += s;
    this.transcript += s;
  }
}

/** Run `curl ARGS...` on `host`; `done` gets its exit code and output. */
export function curl(
  host: SimHost,
  args: readonly string[],
  done: (r: CurlResult) => void,
  env: CurlEnv = {},
): void {
  const io = new Output();
  const finish = (exitCode: number, response?: HttpResult, error?: HttpClientError) =>
    done({ exitCode, ...io, response, error });
  const o = parseCurlArgs(args);
  if (typeof o === 'string') {
    io.err(`${o}\ncurl: try 'curl --help' or 'curl --manual' for more information\n`);
    return finish(2);
  }
  const url = parseCurlUrl(o.url);
  const fail = (code: number, msg: string, error?: HttpClientError) => {
    if (o.verbose) io.err(`* ${msg}\n* Closing connection 0\n`);
    if (!o.silent || o.showError) io.err(`curl: (${code}) ${msg}\n`);
    // What did arrive of the body reaches stdout last (stdio flushes it at exit).
    const partial = error?.detail.body;
    if (partial !== undefined && o.output === undefined) io.out(decodeText(partial));
    if (o.writeOut !== undefined) io.out(writeOut(o.writeOut, undefined, error));
    finish(code, undefined, error);
  };
  if (url === undefined) return fail(3, `URL using bad/illegal format or missing URL`);
  // https: the simulation carries HTTP to port 443 where the ingress terminates TLS; the
  // packets are real, the TLS records are not (the Linux lab speaks real TLS).
  if (url.scheme !== 'http' && url.scheme !== 'https') {
    return fail(1, `Protocol "${url.scheme}" not supported or disabled in libcurl`);
  }
  if (o.method === 'POST' && o.data !== undefined) {
    io.err('Note: Unnecessary use of -X or --request, POST is already inferred.\n');
  }
  const conf = env.resolvConf ?? podResolvConf('default');
  const pinned = o.resolve
    .map((e) => e.split(':'))
    .find((e) => e[0] === url.host && Number(e[1]) === url.port);
  if (pinned?.[2] !== undefined) {
    if (o.verbose)
      io.err(
        `* Added ${url.host}:${url.port}:${pinned[2]} to DNS cache\n* Hostname ${url.host} was found in DNS cache\n`,
      );
    const showData = env.tty === false || o.output !== undefined;
    attempt(
      host,
      { o, url, ips: [pinned[2]], io, fail, finish, showData, start: host.clock.now() },
      0,
    );
    return;
  }
  resolveName(host, url.host, conf, (r) => {
    if (r.ips.length === 0) return fail(6, `Could not resolve host: ${url.host}`);
    const showData = env.tty === false || o.output !== undefined;
    attempt(host, { o, url, ips: r.ips, io, fail, finish, showData, start: host.clock.now() }, 0);
  });
}

interface Attempt {
  o: CurlOptions;
  url: ParsedUrl;
  ips: string[];
  io: Output;
  fail: (code: number, msg: string, error?: HttpClientError) => void;
  finish: (code: number, res?: HttpResult, err?: HttpClientError) => void;
  /** Print `} [N bytes data]` / `{ [N bytes data]` (curl does when not writing to a tty). */
  showData: boolean;
  start: number;
}

/** Connect to ips[i]; on a connect failure curl moves on to the next address. */
function attempt(host: SimHost, a: Attempt, i: number): void {
  const { o, url, io, showData } = a;
  const ip = a.ips[i]!;
  if (o.verbose) io.err(`*   Trying ${ip}:${url.port}...\n`);
  const method = o.method ?? (o.head ? 'HEAD' : o.data !== undefined ? 'POST' : 'GET');
  httpRequest(
    host,
    {
      ip,
      port: url.port,
      method,
      path: url.path,
      host: false,
      headers: requestHeaders(o, url),
      ...(o.data !== undefined ? { body: o.data } : {}),
      ...(o.maxTimeNs !== undefined ? { timeoutNs: o.maxTimeNs } : {}),
      ...(o.connectTimeoutNs !== undefined ? { connectTimeoutNs: o.connectTimeoutNs } : {}),
    },
    (err, res) => {
      const ms = Math.floor((host.clock.now() - a.start) / 1e6);
      if (err === undefined) return success(a, res!);
      if (err.stage === 'connect' && isSocketError(err.code) && i + 1 < a.ips.length) {
        if (o.verbose)
          io.err(`* connect to ${ip} port ${url.port} failed: ${strerror(err.code)}\n`);
        return attempt(host, a, i + 1);
      }
      failure(a, ip, ms, err);
    },
    {
      onConnect: () => {
        if (o.verbose) io.err(`* Connected to ${url.host} (${ip}) port ${url.port} (#0)\n`);
      },
      onRequestSent: (head, body) => {
        if (!o.verbose) return;
        for (const line of head.split(/(?<=\n)/)) io.err(`> ${line}`);
        if (showData && body.length > 0) io.err(`} [${body.length} bytes data]\n`);
      },
      onHead: (head) => {
        const lines = head.raw.split(/(?<=\n)/);
        if (o.verbose) for (const line of lines) io.err(`< ${line}`);
        if (o.include || o.head) io.out(head.raw);
      },
    },
  );
}

/** Host, User-Agent, Accept unless overridden (an empty -H value removes one), then -H, then -d's. */
function requestHeaders(o: CurlOptions, url: ParsedUrl): HeaderList {
  const custom = o.headers;
  const defaults: HeaderList = [
    ['Host', url.hostHeader],
    ...(o.user !== undefined
      ? ([['Authorization', `Basic ${Buffer.from(o.user).toString('base64')}`]] as HeaderList)
      : []),
    ['User-Agent', o.userAgent],
    ['Accept', '*/*'],
  ];
  const out: HeaderList = defaults.filter(([n]) => !hasHeader(custom, n));
  out.push(...custom.filter(([, v]) => v !== ''));
  if (o.data !== undefined) {
    out.push(['Content-Length', String(new TextEncoder().encode(o.data).length)]);
    if (!hasHeader(custom, 'content-type')) {
      out.push(['Content-Type', 'application/x-www-form-urlencoded']);
    }
  }
  return out;
}

function success(a: Attempt, res: HttpResult): void {
  const { o, url, io } = a;
  if (a.showData && o.verbose && res.body.length > 0) {
    io.err(`{ [${res.body.length} bytes data]\n`);
  }
  if (o.output === undefined && !o.head) io.out(decodeText(res.body));
  if (o.verbose) {
    const closing = headerValue(res.headers, 'connection')?.toLowerCase() === 'close';
    io.err(
      closing ? '* Closing connection 0\n' : `* Connection #0 to host ${url.host} left intact\n`,
    );
  }
  if (o.writeOut !== undefined) io.out(writeOut(o.writeOut, res));
  a.finish(0, res);
}

const isSocketError = (code: string): code is SocketErrorCode => /^E[A-Z]+$/.test(code);

/** curl's exit code and message for each way a transfer can fail. */
function failure(a: Attempt, ip: string, ms: number, err: HttpClientError): void {
  const { o, url, io, fail } = a;
  const where = `Failed to connect to ${url.host} port ${url.port} after ${ms} ms`;
  const got = err.detail.body?.length ?? 0;
  if (a.showData && o.verbose && got > 0) io.err(`{ [${got} bytes data]\n`);
  if (err.code === 'CONNECT_TIMEOUT') {
    if (o.verbose) io.err(`* ipv4 connect timeout after ${ms}ms, move on!\n`);
    return fail(28, `${where}: Timeout was reached`, err);
  }
  if (err.code === 'TIMEOUT') {
    if (err.stage === 'connect')
      return fail(28, `Connection timed out after ${ms} milliseconds`, err);
    const length = err.detail.head && headerValue(err.detail.head.headers, 'content-length');
    const of = length === undefined ? `${got}` : `${got} out of ${length}`;
    return fail(28, `Operation timed out after ${ms} milliseconds with ${of} bytes received`, err);
  }
  if (err.stage === 'connect' && isSocketError(err.code)) {
    if (o.verbose) io.err(`* connect to ${ip} port ${url.port} failed: ${strerror(err.code)}\n`);
    // A kernel ETIMEDOUT (SYN retries exhausted) is curl's 28, everything else 7.
    return fail(err.code === 'ETIMEDOUT' ? 28 : 7, `${where}: Couldn't connect to server`, err);
  }
  if (err.code === 'EMPTY_REPLY' || err.code === 'CLOSED') {
    return fail(52, 'Empty reply from server', err);
  }
  if (err.code === 'PARTIAL') {
    const left = err.detail.parseError?.remaining;
    const msg =
      left === undefined
        ? 'transfer closed with outstanding read data remaining'
        : `transfer closed with ${left} bytes remaining to read`;
    return fail(18, msg, err);
  }
  if (err.code === 'PARSE') {
    if (err.detail.parseError?.code === 'BAD_START_LINE') {
      return fail(1, 'Received HTTP/0.9 when not allowed', err);
    }
    return fail(8, 'Weird server reply', err);
  }
  const code = isSocketError(err.code) ? err.code : 'ECONNRESET';
  fail(56, `Recv failure: ${strerror(code)}`, err);
}

/** -w: the common %{variables} and \n escapes. */
function writeOut(fmt: string, res: HttpResult | undefined, err?: HttpClientError): string {
  const secs = (ns: number | undefined) => ((ns ?? 0) / 1e9).toFixed(6);
  const vars: Record<string, string> = {
    http_code: res === undefined ? '000' : String(res.status).padStart(3, '0'),
    response_code: res === undefined ? '000' : String(res.status).padStart(3, '0'),
    remote_ip: res?.remote.ip ?? '',
    remote_port: res === undefined ? '0' : String(res.remote.port),
    local_ip: res?.local.ip ?? '',
    local_port: res === undefined ? '0' : String(res.local.port),
    size_download: String(res?.body.length ?? 0),
    time_connect: secs(res?.timing.connect),
    time_starttransfer: secs(res?.timing.firstByte),
    time_total: secs(res?.timing.total ?? err?.elapsedNs),
    num_connects: res === undefined ? '0' : res.reusedConnection ? '0' : '1',
  };
  return fmt
    .replace(/%\{(\w+)\}/g, (m, k: string) => vars[k] ?? m)
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}
