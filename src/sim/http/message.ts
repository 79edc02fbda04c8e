// HTTP/1.1 messages (RFC 9110/9112) as plain data: header lists in wire order,
// lookups, and the bytes of a request or response head.

/** Header fields in the order they appear, names as sent. */
export type HeaderList = Array<[name: string, value: string]>;
export type HeadersInit = HeaderList | Record<string, string>;

export interface HttpRequestMessage {
  method: string;
  /** Request target as sent (origin-form, e.g. "/hostname.html?x=1"). */
  target: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  version: string;
  headers: HeaderList;
  body: Uint8Array;
}

export interface HttpResponseMessage {
  version: string;
  status: number;
  reason: string;
  headers: HeaderList;
  body: Uint8Array;
}

/** RFC 9110 §15 reason phrases (servers may send their own, as nginx does). */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function toHeaderList(h: HeadersInit | undefined): HeaderList {
  if (h === undefined) return [];
  return Array.isArray(h) ? h.map(([n, v]) => [n, v]) : Object.entries(h);
}

/** First value of a header (names compare case-insensitively). */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return undefined;
}

export function hasHeader(headers: HeaderList, name: string): boolean {
  return getHeader(headers, name) !== undefined;
}

/** Does a comma-separated header (Connection, Transfer-Encoding) list `token`? */
export function headerHasToken(headers: HeaderList, name: string, token: string): boolean {
  const n = name.toLowerCase();
  const t = token.toLowerCase();
  return headers.some(
    ([k, v]) =>
      k.toLowerCase() === n &&
      v
        .split(',')
        .map((x) => x.trim().toLowerCase())
        .includes(t),
  );
}

/** Status line + fields + empty line, CRLF-terminated. */
export function formatHead(startLine: string, headers: HeaderList): string {
  let s = `${startLine}\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}

export const encodeText = (s: string): Uint8Array => new TextEncoder().encode(s);
export const decodeText = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Request/response bodies given as text or bytes. */
export function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === 'string' ? encodeText(body) : body;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
