import test from 'ava';
import { HeadMemo } from '../../src/sim/http/head-memo.ts';
import { HttpParser } from '../../src/sim/http/parser.ts';
import type { ParsedHead } from '../../src/sim/http/parser.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function heads(kind: 'request' | 'response', text: string): ParsedHead[] {
  const out: ParsedHead[] = [];
  const p = new HttpParser(kind, {
    onMessage: (head) => out.push(head),
    onError: (e) => {
      throw e;
    },
  });
  if (kind === 'response') for (let i = 0; i < 8; i++) p.expect('GET');
  p.feed(enc(text));
  return out;
}

test('a head seen before parses to the same fields, with a list of its own', (t) => {
  const req = 'GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nAccept: */*\r\n\r\n';
  const [a, b, c] = heads('request', req + req + req);
  t.deepEqual(b, a);
  t.deepEqual(c, a);
  t.not(b!.headers, a!.headers);
  a!.headers.push(['X-Added', '1']);
  t.is(b!.headers.length, 2);
  t.is(heads('request', req)[0]!.headers.length, 2);
});

test('heads of the same length but other bytes are not taken for each other', (t) => {
  const r1 = 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\r\n\r\n1';
  const r2 = 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: b\r\n\r\n2';
  const [a, b, c] = heads('response', r1 + r2 + r1);
  t.is(a!.headers[1]![1], 'a');
  t.is(b!.headers[1]![1], 'b');
  t.is(b!.raw, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: b\r\n\r\n');
  t.deepEqual(c, a);
});

test('the memo keeps a few heads, replacing the oldest', (t) => {
  const m = new HeadMemo();
  const fields = (raw: string) => ({
    method: 'GET',
    target: '/',
    version: 'HTTP/1.1',
    status: 0,
    reason: '',
    headers: [],
    raw,
  });
  const bufs = ['a\n\n', 'b\n\n', 'c\n\n', 'd\n\n', 'e\n\n'].map(enc);
  for (const b of bufs) m.remember(b, b.length, fields(String.fromCharCode(b[0]!)));
  t.is(m.find(bufs[0]!, 3), undefined); // replaced by the fifth
  t.is(m.find(bufs[4]!, 3)?.raw, 'e');
  t.is(m.find(bufs[1]!, 3)?.raw, 'b');
  t.is(m.find(enc('b\n\nxyz'), 3)?.raw, 'b'); // only the first len bytes count
  t.is(m.find(bufs[1]!, 2), undefined);
});
