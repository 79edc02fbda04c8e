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

test('a head seen before is the same frozen head, its header list frozen too', (t) => {
  const req = 'GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nAccept: */*\r\n\r\n';
  const [a, b, c] = heads('request', req + req + req);
  t.is(b, a);
  t.is(c, a);
  t.deepEqual(a!.headers, [
    ['Host', '10.0.0.1'],
    ['Accept', '*/*'],
  ]);
  t.true(Object.isFrozen(a) && Object.isFrozen(a!.headers));
  t.throws(() => a!.headers.push(['X-Added', '1']));
  t.is(heads('request', req)[0]!.headers.length, 2);
});

test('a head too long to remember is parsed each time, to equal frozen heads', (t) => {
  const req = `GET / HTTP/1.1\r\nX-Long: ${'x'.repeat(600)}\r\n\r\n`;
  const [a, b] = heads('request', req + req);
  t.not(b, a);
  t.deepEqual(b, a);
  t.true(Object.isFrozen(b) && Object.isFrozen(b!.headers));
});

test('a remembered head frames its body as a fresh parse does', (t) => {
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
  const odd = 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nde';
  const bodies: string[] = [];
  const p = new HttpParser('response', {
    onMessage: (_h, body) => bodies.push(new TextDecoder().decode(body)),
    onError: (e) => {
      throw e;
    },
  });
  for (let i = 0; i < 4; i++) p.expect('GET');
  p.feed(enc(ok + odd + ok + odd));
  t.deepEqual(bodies, ['abc', 'de', 'abc', 'de']);
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
  for (const b of bufs) m.remember(b, b.length, fields(String.fromCharCode(b[0]!)), -1);
  t.is(m.find(bufs[0]!), undefined); // replaced by the fifth
  t.is(m.find(bufs[4]!)?.head.raw, 'e');
  t.is(m.find(bufs[1]!)?.head.raw, 'b');
  t.is(m.find(enc('b\n\nxyz'))?.head.raw, 'b'); // the head's bytes start the buffer
  t.is(m.find(enc('b\n'))?.head.raw, undefined); // not all of them
  t.is(m.find(bufs[1]!)?.length, -1);
});
