import test from 'ava';
import { HttpParser } from '../../src/sim/http/parser.ts';
import type { HttpParseError, ParsedHead } from '../../src/sim/http/parser.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function parse(
  kind: 'request' | 'response',
  chunks: string[],
  methods: string[] = [],
  eof = false,
) {
  const msgs: Array<{ head: ParsedHead; body: string }> = [];
  const errors: HttpParseError[] = [];
  const p = new HttpParser(kind, {
    onMessage: (head, body) => msgs.push({ head, body: dec(body) }),
    onError: (e) => errors.push(e),
  });
  for (const m of methods) p.expect(m);
  for (const c of chunks) p.feed(enc(c));
  if (eof) p.finish();
  return { msgs, errors };
}

const REQ = 'POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello';

test('a request split at every byte parses the same as in one piece', (t) => {
  const whole = parse('request', [REQ]);
  const bytes = parse('request', [...REQ]);
  t.is(whole.msgs.length, 1);
  t.deepEqual(bytes.msgs, whole.msgs);
  const m = whole.msgs[0]!;
  t.is(m.head.method, 'POST');
  t.is(m.head.target, '/a?b=1');
  t.deepEqual(m.head.headers, [
    ['Host', 'x'],
    ['Content-Length', '5'],
  ]);
  t.is(m.body, 'hello');
});

test('pipelined requests come out in order; GET without a length has no body', (t) => {
  const { msgs } = parse('request', [
    `GET / HTTP/1.1\r\nHost: a\r\n\r\n${REQ}GET /2 HTTP/1.0\r\n\r\n`,
  ]);
  t.deepEqual(
    msgs.map((m) => `${m.head.method} ${m.head.target} ${m.body}`),
    ['GET / ', 'POST /a?b=1 hello', 'GET /2 '],
  );
});

test('chunked bodies with extensions and trailers', (t) => {
  const raw =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n';
  const { msgs } = parse('response', [...raw], ['GET']);
  t.is(msgs[0]?.body, 'hello world');
  t.is(msgs[0]?.head.status, 200);
});

test('responses: HEAD and 304 have no body; no length means read until close', (t) => {
  const head = parse('response', ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'], ['HEAD']);
  t.is(head.msgs[0]?.body, '');
  const untilClose = parse('response', ['HTTP/1.0 200 OK\r\n\r\nab', 'cd'], ['GET'], true);
  t.is(untilClose.msgs[0]?.body, 'abcd');
  const interim = parse(
    'response',
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
    ['POST'],
  );
  t.deepEqual(
    interim.msgs.map((m) => m.head.status),
    [204],
  );
});

test('errors: bad start line, bad header, conflicting lengths, cut body', (t) => {
  t.is(parse('request', ['HELLO\r\n\r\n']).errors[0]?.code, 'BAD_START_LINE');
  t.is(parse('request', ['GET / HTTP/1.1\r\nBad Header: x\r\n\r\n']).errors[0]?.code, 'BAD_HEADER');
  t.is(
    parse('request', ['POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'])
      .errors[0]?.code,
    'BAD_LENGTH',
  );
  const cut = parse(
    'response',
    ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'],
    ['GET'],
    true,
  );
  t.is(cut.errors[0]?.code, 'INCOMPLETE');
  t.is(cut.errors[0]?.remaining, 97);
  t.is(parse('request', ['x'.repeat(70000)]).errors[0]?.code, 'HEAD_TOO_LARGE');
});
