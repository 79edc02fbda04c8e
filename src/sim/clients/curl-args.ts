// curl's command line, the part the simulation understands: URL, -v -s -S -i -I -X -H
// -d -m --connect-timeout -o -w -A. Seconds become virtual nanoseconds.
import { SECOND } from '../../control/clock.ts';
import type { HeaderList } from '../../workloads/header-fields.ts';

export interface CurlOptions {
  url: string;
  verbose: boolean;
  silent: boolean;
  showError: boolean;
  include: boolean;
  head: boolean;
  method: string | undefined;
  headers: HeaderList;
  data: string | undefined;
  userAgent: string;
  maxTimeNs: number | undefined;
  connectTimeoutNs: number | undefined;
  /** -o FILE: the body is not printed (only /dev/null makes sense here). */
  output: string | undefined;
  writeOut: string | undefined;
  /** --resolve host:port:addr entries (a hosts-file line for one URL, as the seed's reader used). */
  resolve: string[];
  /** -u user:password: Basic authentication. */
  user: string | undefined;
  /** -k: accepted; the simulation does not verify (or speak) TLS. */
  insecure: boolean;
}

export const CURL_VERSION = '7.88.1';

const WITH_ARG = new Map([
  ['-X', 'method'],
  ['--request', 'method'],
  ['-H', 'header'],
  ['--header', 'header'],
  ['-d', 'data'],
  ['--data', 'data'],
  ['--data-raw', 'data'],
  ['-m', 'max'],
  ['--max-time', 'max'],
  ['--connect-timeout', 'connect'],
  ['-o', 'output'],
  ['--output', 'output'],
  ['-w', 'write'],
  ['--write-out', 'write'],
  ['-A', 'agent'],
  ['--user-agent', 'agent'],
  ['--resolve', 'resolve'],
  ['-u', 'user'],
  ['--user', 'user'],
]);

const FLAGS: Record<string, keyof CurlOptions> = {
  '-v': 'verbose',
  '--verbose': 'verbose',
  '-s': 'silent',
  '--silent': 'silent',
  '-S': 'showError',
  '--show-error': 'showError',
  '-i': 'include',
  '--include': 'include',
  '-I': 'head',
  '--head': 'head',
  '-k': 'insecure',
  '--insecure': 'insecure',
};

/** Parse argv (without "curl"); a string is curl's own complaint. */
export function parseCurlArgs(args: readonly string[]): CurlOptions | string {
  const o: CurlOptions = {
    url: '',
    verbose: false,
    silent: false,
    showError: false,
    include: false,
    head: false,
    method: undefined,
    headers: [],
    data: undefined,
    userAgent: `curl/${CURL_VERSION}`,
    maxTimeNs: undefined,
    connectTimeoutNs: undefined,
    output: undefined,
    writeOut: undefined,
    resolve: [],
    user: undefined,
    insecure: false,
  };
  const expanded: string[] = [];
  for (const a of args) {
    // Bundled short flags: -sSv = -s -S -v.
    if (/^-[vsSiIk]{2,}$/.test(a)) expanded.push(...[...a.slice(1)].map((c) => `-${c}`));
    else expanded.push(a);
  }
  for (let i = 0; i < expanded.length; i++) {
    const a = expanded[i]!;
    const flag = FLAGS[a];
    if (flag !== undefined) {
      (o as unknown as Record<string, boolean>)[flag] = true;
      continue;
    }
    const kind = WITH_ARG.get(a);
    if (kind === undefined) {
      if (a.startsWith('-')) return `curl: option ${a}: is unknown`;
      o.url = a;
      continue;
    }
    const v = expanded[++i];
    if (v === undefined) return `curl: option ${a}: requires parameter`;
    if (kind === 'method') o.method = v;
    else if (kind === 'header') {
      const colon = v.indexOf(':');
      if (colon > 0) o.headers.push([v.slice(0, colon).trim(), v.slice(colon + 1).trim()]);
    } else if (kind === 'data') o.data = o.data === undefined ? v : `${o.data}&${v}`;
    else if (kind === 'max') o.maxTimeNs = Math.round(Number(v) * SECOND);
    else if (kind === 'connect') o.connectTimeoutNs = Math.round(Number(v) * SECOND);
    else if (kind === 'output') o.output = v;
    else if (kind === 'write') o.writeOut = v;
    else if (kind === 'agent') o.userAgent = v;
    else if (kind === 'resolve') o.resolve.push(v);
    else if (kind === 'user') o.user = v;
  }
  if (o.url === '') return 'curl: no URL specified!';
  return o;
}

export interface ParsedUrl {
  scheme: string;
  host: string;
  port: number;
  /** Path and query as sent in the request line. */
  path: string;
  /** The Host header: host, plus :port when it is not the default. */
  hostHeader: string;
}

/** curl's URL handling for http: a missing scheme means http://. */
export function parseCurlUrl(url: string): ParsedUrl | undefined {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):\/\/)?([^/:?#]+)(?::(\d+))?([/?][^#]*)?/.exec(url);
  if (m === null) return undefined;
  const scheme = (m[1] ?? 'http').toLowerCase();
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  const host = m[2]!;
  let path = m[4] ?? '/';
  if (path.startsWith('?')) path = `/${path}`;
  const hostHeader = port === defaultPort ? host : `${host}:${port}`;
  return { scheme, host, port, path, hostHeader };
}
