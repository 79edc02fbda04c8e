// HTTP/1.1 messages (RFC 9110/9112) as plain data: header lists in wire order,
// lookups, and the bytes of a request or response head.
import { EMPTY_BYTES, slabBytes } from '../../packet/slab.ts';
import { type HeaderList, headerValue, lowered, nameIs } from '../../workloads/header-fields.ts';

/** Header fields in the order they appear, names as sent. */
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

export function hasHeader(headers: HeaderList, name: string): boolean {
  return headerValue(headers, name) !== undefined;
}

/** Does a comma-separated header (Connection, Transfer-Encoding) list `token`? */
export function headerHasToken(headers: HeaderList, name: string, token: string): boolean {
  const n = lowered(name);
  const t = lowered(token);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (!nameIs(h[0], n)) continue;
    const v = h[1];
    // The common single-token value needs no split (trim() returns v itself when there is
    // nothing to trim).
    if (v.indexOf(',') < 0) {
      if (trimmedIs(v, t)) return true;
      continue;
    }
    for (const x of v.split(',')) if (x.trim().toLowerCase() === t) return true;
  }
  return false;
}

/**
 * RFC 9112 §9.3: does the connection persist after a message with this version and these
 * fields? HTTP/1.1 keeps it unless told to close; HTTP/1.0 only when asked.
 */
export function keepsAlive(version: string, headers: HeaderList): boolean {
  if (headerHasToken(headers, 'connection', 'close')) return false;
  if (version === 'HTTP/1.0') return headerHasToken(headers, 'connection', 'keep-alive');
  return true;
}

/**
 * `v.trim().toLowerCase() === lower` for a lowercase `lower`, with no string built when `v`
 * is ASCII (trim() then removes TAB, LF, VT, FF, CR and SP); anything else takes the strings.
 */
function trimmedIs(v: string, lower: string): boolean {
  let s = 0;
  let e = v.length;
  for (let i = 0; i < e; i++) if (v.charCodeAt(i) > 0x7f) return v.trim().toLowerCase() === lower;
  while (s < e && isAsciiSpace(v.charCodeAt(s))) s++;
  while (e > s && isAsciiSpace(v.charCodeAt(e - 1))) e--;
  if (e - s !== lower.length) return false;
  for (let i = s; i < e; i++) {
    let c = v.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i - s)) return false;
  }
  return true;
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Status line + fields + empty line, CRLF-terminated. */
export function formatHead(startLine: string, headers: HeaderList): string {
  let s = `${startLine}\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return `${s}\r\n`;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export const encodeText = (s: string): Uint8Array => ENCODER.encode(s);
export const decodeText = (b: Uint8Array): string => DECODER.decode(b);

/**
 * `concatBytes([encodeText(head), body])` in one buffer: the head's UTF-8 bytes (counted
 * first: one byte per character when it is ASCII, as heads are) and then the body.
 */
export function encodeWithBody(head: string, body: Uint8Array): Uint8Array {
  const n = head.length;
  for (let i = 0; i < n; i++) {
    if (head.charCodeAt(i) > 0x7f) return concatBytes([ENCODER.encode(head), body]);
  }
  const out = slabBytes(n + body.length);
  ENCODER.encodeInto(head, out);
  if (body.length > 0) out.set(body, n);
  return out;
}

/** Request/response bodies given as text or bytes. */
export function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return EMPTY_BYTES;
  return typeof body === 'string' ? encodeText(body) : body;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = slabBytes(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
