// An incremental HTTP/1.1 message parser (RFC 9112): start line, header fields, and
// body framing by Content-Length, chunked transfer coding, or (responses) close.
// Bytes arrive in any split; messages come out whole, pipelined ones in order.
import { type HeaderList, headerValue, nameIs, raised } from '../../workloads/header-fields.ts';
import { EMPTY_BYTES } from '../../packet/slab.ts';
import { concatBytes } from './message.ts';
import { HeadMemo } from './head-memo.ts';

export type ParseErrorCode =
  | 'BAD_START_LINE'
  | 'BAD_HEADER'
  | 'HEAD_TOO_LARGE'
  | 'BAD_LENGTH'
  | 'BAD_TRANSFER_ENCODING'
  | 'BAD_CHUNK'
  /** The connection closed in the middle of a message. */
  | 'INCOMPLETE';

export class HttpParseError extends Error {
  readonly code: ParseErrorCode;
  /** INCOMPLETE fixed-length bodies: how many bytes never came. */
  readonly remaining: number | undefined;
  constructor(code: ParseErrorCode, message: string, remaining?: number) {
    super(message);
    this.name = 'HttpParseError';
    this.code = code;
    this.remaining = remaining;
  }
}

/**
 * A message head. Frozen, with its header list: messages with the same head bytes share
 * one (see head-memo.ts); a caller that wants to change the fields copies them. The
 * [name, value] pairs are not frozen (reading a frozen array's elements, and iterating
 * or destructuring it, is slower in V8) but are shared too: nothing writes to them.
 */
export interface ParsedHead {
  /** Request: method/target; response: status/reason. Version in both. */
  method: string;
  target: string;
  version: string;
  status: number;
  reason: string;
  headers: HeaderList;
  /** The head as received, up to and including the empty line. */
  raw: string;
}

export interface ParserEvents {
  onHead?(head: ParsedHead): void;
  onMessage(head: ParsedHead, body: Uint8Array): void;
  onError(err: HttpParseError): void;
}

type State = 'head' | 'fixed' | 'chunkSize' | 'chunkData' | 'chunkEnd' | 'trailers' | 'close';

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/;
const STATUS_LINE = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/;
const DIGITS = /^\d{1,15}$/;
/** A header name is 1+ of these (RFC 9110 tchar: [!#$%&'*+.^_`|~0-9A-Za-z-]), by code. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+.^_`|~-") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
/** What String.prototype.trim() removes, among latin1 characters: 1 = whitespace. */
const TRIMMED = new Uint8Array(256);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]) TRIMMED[c] = 1;
const latin1 = new TextDecoder('latin1');

/** The last start line matched, per kind of parser, and its three fields. */
interface StartLineMemo {
  line: string | undefined;
  a: string;
  b: string;
  c: string;
}
const lastRequestLine: StartLineMemo = { line: undefined, a: '', b: '', c: '' };
const lastStatusLine: StartLineMemo = { line: undefined, a: '', b: '', c: '' };
/** Heads parsed lately, per kind of parser, by their bytes. */
const requestHeads = new HeadMemo();
const responseHeads = new HeadMemo();

/** b after its first `n` bytes; the shared empty array once nothing is left (no view kept). */
function rest(b: Uint8Array, n: number): Uint8Array {
  return n >= b.length ? EMPTY_BYTES : b.subarray(n);
}

/** raw[at, nl) without one CR just before the LF at nl. */
function lineAt(raw: string, at: number, nl: number): string {
  return raw.slice(at, nl > at && raw.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
}

export class HttpParser {
  private buf: Uint8Array = EMPTY_BYTES;
  private state: State = 'head';
  private head: ParsedHead | undefined;
  /**
   * Body pieces of the message in progress: the first, then any others (a body that comes
   * in one piece, as most do, needs no list; neither does a parser that never sees one).
   */
  private body0: Uint8Array | undefined;
  private bodyMore: Uint8Array[] | undefined;
  private left = 0;
  private failed = false;
  /**
   * Methods of the requests whose responses are awaited (response parsers only), in order:
   * the first in `method1`, any after it in `methods` (a list only when requests are
   * pipelined: one request at a time needs none).
   */
  private method1: string | undefined;
  private methods: string[] | undefined;
  /** Body bytes of the current message so far. */
  bodyReceived = 0;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly events: ParserEvents,
    private readonly maxHead = 64 * 1024,
  ) {}

  /** Response parsers: the next request sent used `method` (HEAD responses have no body). */
  expect(method: string): void {
    const m = raised(method);
    if (this.method1 === undefined) this.method1 = m;
    else (this.methods ??= []).push(m);
  }

  /** The oldest awaited method, taken off the queue (undefined when none is awaited). */
  private nextMethod(): string | undefined {
    const m = this.method1;
    const more = this.methods;
    this.method1 = more !== undefined && more.length > 0 ? more.shift() : undefined;
    return m;
  }

  /** Body bytes of the message in progress (after a failure: what had arrived). */
  partialBody(): Uint8Array {
    return this.bodySoFar();
  }

  /** The body pieces so far as one array (the first piece itself when it is the only one). */
  private bodySoFar(): Uint8Array {
    const first = this.body0;
    if (first === undefined) return EMPTY_BYTES;
    const more = this.bodyMore;
    if (more === undefined || more.length === 0) return first;
    return concatBytes([first, ...more]);
  }

  /** True between messages with nothing buffered. */
  get idle(): boolean {
    return this.state === 'head' && this.buf.length === 0;
  }

  /** A message head has been parsed and its body is still coming. */
  get inBody(): boolean {
    return this.state !== 'head';
  }

  /**
   * The next bytes of the stream, handed over: the parser keeps them without a copy (a
   * message's body may be a view of them), so the caller does not change them afterwards
   * (the simulated TCP gives each read its own copy).
   */
  feed(bytes: Uint8Array): void {
    if (this.failed || bytes.length === 0) return;
    this.buf = this.buf.length === 0 ? bytes : concatBytes([this.buf, bytes]);
    while (!this.failed && this.step());
  }

  /** The peer closed: finish a read-until-close body, or report a cut message. */
  finish(): void {
    if (this.failed) return;
    if (this.state === 'close') {
      this.complete();
      return;
    }
    if (this.state === 'head' && this.buf.length === 0) return;
    const remaining = this.state === 'fixed' ? this.left : undefined;
    this.failed = true;
    this.events.onError(
      new HttpParseError(
        'INCOMPLETE',
        'connection closed before the message was complete',
        remaining,
      ),
    );
  }

  private fail(code: ParseErrorCode, message: string, remaining?: number): void {
    this.failed = true;
    this.events.onError(new HttpParseError(code, message, remaining));
  }

  /** One unit of work; false when more bytes are needed. */
  private step(): boolean {
    switch (this.state) {
      case 'head':
        return this.parseHead();
      case 'fixed':
      case 'chunkData':
      case 'close': {
        const take =
          this.state === 'close' ? this.buf.length : Math.min(this.left, this.buf.length);
        if (take > 0) {
          const piece = take === this.buf.length ? this.buf : this.buf.subarray(0, take);
          if (this.body0 === undefined) this.body0 = piece;
          else (this.bodyMore ??= []).push(piece);
          this.bodyReceived += take;
          this.buf = rest(this.buf, take);
        }
        if (this.state === 'close') return false;
        this.left -= take;
        if (this.left > 0) return false;
        if (this.state === 'fixed') this.complete();
        else this.state = 'chunkEnd';
        return true;
      }
      case 'chunkSize':
      case 'chunkEnd':
      case 'trailers':
        return this.chunkLine();
    }
  }

  private line(): string | undefined {
    const lf = this.buf.indexOf(0x0a);
    if (lf < 0) {
      if (this.buf.length > this.maxHead) this.fail('HEAD_TOO_LARGE', 'line too long');
      return undefined;
    }
    const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
    const s = latin1.decode(this.buf.subarray(0, end));
    this.buf = this.buf.subarray(lf + 1);
    return s;
  }

  private chunkLine(): boolean {
    const l = this.line();
    if (l === undefined) return false;
    if (this.state === 'chunkEnd') {
      if (l !== '') this.fail('BAD_CHUNK', 'chunk data not followed by CRLF');
      this.state = 'chunkSize';
      return true;
    }
    if (this.state === 'trailers') {
      if (l === '') this.complete();
      return true;
    }
    const m = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(l);
    if (m === null) {
      this.fail('BAD_CHUNK', `bad chunk size line ${JSON.stringify(l)}`);
      return false;
    }
    this.left = parseInt(m[1]!, 16);
    this.state = this.left === 0 ? 'trailers' : 'chunkData';
    return true;
  }

  private parseHead(): boolean {
    // RFC 9112 §2.2: ignore empty lines before a request line.
    while (this.kind === 'request' && (this.buf[0] === 0x0d || this.buf[0] === 0x0a)) {
      this.buf = this.buf.subarray(this.buf[0] === 0x0d && this.buf[1] === 0x0a ? 2 : 1);
    }
    const memo = this.kind === 'request' ? requestHeads : responseHeads;
    const seen = memo.find(this.buf);
    if (seen !== undefined) {
      this.buf = rest(this.buf, seen.bytes.length);
      return this.frame(seen.head, seen.length);
    }
    const end = headEnd(this.buf);
    if (end < 0) {
      if (this.buf.length > this.maxHead) this.fail('HEAD_TOO_LARGE', 'header section too large');
      return false;
    }
    const bytes = this.buf;
    const raw = latin1.decode(this.buf.subarray(0, end));
    this.buf = rest(this.buf, end);
    // The lines are what raw.split(/\r?\n/) gives without its last two pieces (the empty
    // line and what follows the final LF): every LF-terminated piece but the last, one CR
    // before its LF dropped. raw ends with that final LF.
    const last = raw.length - 1;
    let at = 0;
    let nl = raw.indexOf('\n');
    const first = nl === last ? '' : lineAt(raw, at, nl);
    const head = this.startLine(first, raw);
    if (head === undefined) return false;
    while (nl !== last) {
      at = nl + 1;
      nl = raw.indexOf('\n', at);
      if (nl === last) break;
      // The line is raw[at, end): name up to the first colon, which must be a token (TCHAR),
      // and the value after it with trim()'s whitespace cut off
      // both ends (in a latin1 string: TAB, LF, VT, FF, CR, SP, NBSP), cut out of raw once.
      const end = nl > at && raw.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      let colon = at;
      while (colon < end && raw.charCodeAt(colon) !== 0x3a) colon++;
      let token = colon > at && colon < end;
      for (let i = at; token && i < colon; i++) token = TCHAR[raw.charCodeAt(i)] === 1;
      if (!token) {
        const l = raw.slice(at, end);
        this.fail('BAD_HEADER', `bad header line ${JSON.stringify(l)}`);
        return false;
      }
      let v0 = colon + 1;
      let v1 = end;
      while (v0 < v1 && TRIMMED[raw.charCodeAt(v0)] === 1) v0++;
      while (v1 > v0 && TRIMMED[raw.charCodeAt(v1 - 1)] === 1) v1--;
      head.headers.push([raw.slice(at, colon), raw.slice(v0, v1)]);
    }
    Object.freeze(head.headers);
    Object.freeze(head);
    const length = declaredLength(head.headers);
    memo.remember(bytes, end, head, length);
    return this.frame(head, length);
  }

  private startLine(l: string, raw: string): ParsedHead | undefined {
    // Successive messages on a connection (and across connections) mostly repeat the same
    // start line: its fields are kept from the last match, per kind of parser.
    const memo = this.kind === 'request' ? lastRequestLine : lastStatusLine;
    if (memo.line !== l) {
      const m = (this.kind === 'request' ? REQUEST_LINE : STATUS_LINE).exec(l);
      if (m === null) {
        this.fail('BAD_START_LINE', `bad start line ${JSON.stringify(l)}`);
        return undefined;
      }
      memo.line = l;
      if (this.kind === 'request') {
        memo.a = m[1]!;
        memo.b = m[2]!;
        memo.c = m[3]!;
      } else {
        memo.a = m[1]!;
        memo.b = m[2]!;
        memo.c = m[3] ?? '';
      }
    }
    if (this.kind === 'request') {
      return {
        method: memo.a,
        target: memo.b,
        version: memo.c,
        status: 0,
        reason: '',
        headers: [],
        raw,
      };
    }
    return {
      method: '',
      target: '',
      version: memo.a,
      status: Number(memo.b),
      reason: memo.c,
      headers: [],
      raw,
    };
  }

  /**
   * RFC 9112 §6.3: how the body of this message is delimited; `length` is declaredLength()
   * of its fields.
   */
  private frame(head: ParsedHead, length: number): boolean {
    this.head = head;
    this.body0 = undefined;
    if (this.bodyMore !== undefined) this.bodyMore.length = 0; // reused: complete() hands out pieces
    this.bodyReceived = 0;
    const informational = this.kind === 'response' && head.status < 200;
    const method = this.kind === 'response' && !informational ? this.nextMethod() : undefined;
    if (informational) {
      this.head = undefined; // 1xx: skip, the final response follows
      return true;
    }
    this.events.onHead?.(head);
    if (method === 'HEAD' || head.status === 204 || head.status === 304) return this.complete();
    if (length >= 0) {
      this.left = length;
      this.state = 'fixed';
      return length === 0 ? this.complete() : true;
    }
    if (length === FRAMED_OTHERWISE) return this.frameOtherwise(head.headers);
    if (this.kind === 'request') return this.complete();
    this.state = 'close';
    return true;
  }

  /** A Transfer-Encoding, or Content-Length fields other than one plain number. */
  private frameOtherwise(h: HeaderList): boolean {
    const te = headerValue(h, 'transfer-encoding');
    if (te !== undefined) {
      const codings = te.split(',').map((s) => s.trim().toLowerCase());
      if (codings[codings.length - 1] === 'chunked') {
        this.state = 'chunkSize';
        return true;
      }
      if (this.kind === 'request') {
        this.fail('BAD_TRANSFER_ENCODING', `unsupported transfer coding ${te}`);
        return false;
      }
      this.state = 'close';
      return true;
    }
    // Repeated fields or comma lists must all say the same length.
    const lengths = h.filter(([n]) => nameIs(n, 'content-length')).map(([, x]) => x);
    const vals = new Set(lengths.flatMap((x) => x.split(',').map((y) => y.trim())));
    const v = [...vals][0]!;
    if (vals.size !== 1 || !DIGITS.test(v)) {
      this.fail('BAD_LENGTH', `bad Content-Length ${lengths.join(', ')}`);
      return false;
    }
    this.left = Number(v);
    this.state = 'fixed';
    return this.left === 0 ? this.complete() : true;
  }

  private complete(): boolean {
    const head = this.head!;
    // A body that came in one piece is that piece (a view of what feed() was given).
    const body = this.bodySoFar();
    this.head = undefined;
    this.body0 = undefined;
    if (this.bodyMore !== undefined) this.bodyMore.length = 0;
    this.state = 'head';
    this.events.onMessage(head, body);
    return true;
  }
}

/** declaredLength(): neither Transfer-Encoding nor Content-Length. */
const NO_LENGTH = -1;
/** declaredLength(): a Transfer-Encoding, or Content-Length other than one plain number. */
const FRAMED_OTHERWISE = -2;

/**
 * The body length that a head's fields give in the usual way (no Transfer-Encoding, one
 * Content-Length field holding one number), else NO_LENGTH or FRAMED_OTHERWISE: a fact of
 * the head alone, kept with it in the memo.
 */
function declaredLength(h: HeaderList): number {
  let value: string | undefined;
  for (let i = 0; i < h.length; i++) {
    const n = h[i]![0];
    if (nameIs(n, 'transfer-encoding')) return FRAMED_OTHERWISE;
    if (!nameIs(n, 'content-length')) continue;
    if (value !== undefined) return FRAMED_OTHERWISE;
    value = h[i]![1];
  }
  if (value === undefined) return NO_LENGTH;
  const v = value.trim();
  return DIGITS.test(v) ? Number(v) : FRAMED_OTHERWISE;
}

/** Index just past the empty line ending a head (CRLFCRLF or bare LFLF), or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) {
    if (b[i + 1] === 0x0a) return i + 2;
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}
