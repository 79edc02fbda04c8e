import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { HttpClientConnection, httpRequest, httpRequestAsync } from '../../src/sim/http/client.ts';
import type { HttpClientError, HttpResult } from '../../src/sim/http/client.ts';
import { headerValue } from '../../src/workloads/header-fields.ts';
import { createHttpServer } from '../../src/sim/http/server.ts';
import { startHttpEcho } from '../../src/sim/workloads/http-echo.ts';
import { isSyn, wire } from './wire.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

/** Send raw request bytes to b:port, collect everything that comes back. */
function raw(w: ReturnType<typeof wire>, port: number, request: string, untilNs = 10 * SECOND) {
  const c = w.a.tcpConnect('10.0.0.2', port);
  let got = '';
  let closed = false;
  c.onConnect = () => c.write(enc(request));
  c.onData = (d) => (got += dec(d));
  c.onEnd = () => {
    closed = true;
    c.end();
  };
  w.run(untilNs);
  return { got, closed: () => closed, conn: c };
}

test('keep-alive: two requests on one connection, one handshake', (t) => {
  const w = wire();
  const server = createHttpServer(w.b, 80, (req, respond) =>
    respond({ status: 200, body: `you asked for ${req.target} (#${req.connectionRequests})\n` }),
  );
  const client = new HttpClientConnection(w.a, '10.0.0.2', 80);
  const results: HttpResult[] = [];
  client.request({ path: '/one' }, (e, r) => (e ? t.fail(e.message) : results.push(r!)));
  client.request({ path: '/two' }, (e, r) => (e ? t.fail(e.message) : results.push(r!)));
  w.run(10 * SECOND);
  t.deepEqual(
    results.map((r) => dec(r.body)),
    ['you asked for /one (#0)\n', 'you asked for /two (#1)\n'],
  );
  t.deepEqual(
    results.map((r) => r.reusedConnection),
    [false, true],
  );
  t.is(w.log.filter((s) => isSyn(s.pkt)).length, 2); // SYN and SYN/ACK only
  t.is(server.stats.connections, 1);
  t.is(server.stats.requests, 2);
  // Timing on the virtual clock (1 ms each way): connect = 1 RTT, answer after 2 RTT.
  t.deepEqual(results[0]!.timing, { connect: 2_000_000, firstByte: 4_000_000, total: 4_000_000 });
  t.is(results[1]!.timing.connect, 0);
  t.is(headerValue(results[0]!.headers, 'connection'), 'keep-alive');
  client.close();
});

test('pipelined requests are answered in order; HTTP/1.0 gets Connection: close', (t) => {
  const w = wire();
  createHttpServer(w.b, 80, (req, respond) => {
    // The first answer is slow: order must still hold.
    const delay = req.target === '/slow' ? 50_000_000 : 0;
    w.clock.after(delay, () => respond({ status: 200, body: req.target }));
  });
  const r = raw(w, 80, 'GET /slow HTTP/1.1\r\nHost: b\r\n\r\nGET /fast HTTP/1.0\r\n\r\n');
  t.regex(
    r.got,
    /^HTTP\/1\.1 200 OK\r\nDate: Tue, 26 Jul 2022 11:18:20 GMT\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n\/slowHTTP\/1\.1 200 OK\r\n/,
  );
  t.true(r.got.endsWith('Connection: close\r\n\r\n/fast'));
  t.true(r.closed());
});

test('a malformed request gets 400 and the connection closes', (t) => {
  const w = wire();
  const server = createHttpServer(w.b, 80, (_req, respond) => respond({ status: 200 }));
  const r = raw(w, 80, 'THIS IS NOT HTTP\r\n\r\n');
  t.true(r.got.startsWith('HTTP/1.1 400 Bad Request\r\n'));
  t.true(r.got.includes('Connection: close\r\n'));
  t.true(r.closed());
  t.is(server.stats.badRequests, 1);
});

test('an idle kept-alive connection is closed after keepAliveTimeout', (t) => {
  const w = wire();
  createHttpServer(w.b, 80, (_q, respond) => respond({ status: 204 }), {
    keepAliveTimeoutNs: 5 * SECOND,
  });
  const r = raw(w, 80, 'GET / HTTP/1.1\r\nHost: b\r\n\r\n', 4 * SECOND);
  t.false(r.closed());
  w.run(6 * SECOND);
  t.true(r.closed());
});

test('HTTP echo shows the request and the client address the server saw', (t) => {
  const w = wire({ b: { name: 'echo-7d9c' } });
  startHttpEcho(w.b);
  let res: HttpResult | undefined;
  httpRequest(
    w.a,
    {
      ip: '10.0.0.2',
      port: 80,
      method: 'POST',
      path: '/x',
      headers: [['User-Agent', 'test']],
      body: 'data',
      srcPort: 40000,
    },
    (e, r) => (res = r),
  );
  w.run(10 * SECOND);
  t.is(
    dec(res!.body),
    'Hostname: echo-7d9c\nIP: 127.0.0.1\nIP: 10.0.0.2\nRemoteAddr: 10.0.0.1:40000\n' +
      'POST /x HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: test\r\nContent-Length: 4\r\n\r\ndata',
  );
  t.deepEqual(
    res!.headers.map(([n]) => n),
    ['Content-Length', 'Content-Type', 'Date'],
  );
});

test('a chunked request body reaches the handler whole', (t) => {
  const w = wire();
  let body = '';
  createHttpServer(w.b, 80, (req, respond) => {
    body = dec(req.body);
    respond({ status: 200 });
  });
  raw(
    w,
    80,
    'POST / HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
  );
  t.is(body, 'abcde');
});

test('client errors: refused, empty reply, timeout', (t) => {
  const w = wire();
  w.b.tcpListen(81, (c) => (c.onData = () => c.end())); // closes without answering
  w.b.tcpListen(82, () => {}); // never answers
  const errs: Record<string, HttpClientError | undefined> = {};
  for (const port of [80, 81, 82]) {
    httpRequest(w.a, { ip: '10.0.0.2', port, timeoutNs: 3 * SECOND }, (e) => (errs[port] = e));
  }
  w.run(100 * SECOND);
  t.is(errs[80]?.code, 'ECONNREFUSED');
  t.is(errs[80]?.stage, 'connect');
  t.is(errs[81]?.code, 'EMPTY_REPLY');
  t.is(errs[82]?.code, 'TIMEOUT');
  t.is(errs[82]?.elapsedNs, 3 * SECOND);
});

test('httpRequestAsync resolves once the simulation has run', async (t) => {
  const w = wire();
  createHttpServer(w.b, 8080, (_q, respond) => respond({ status: 201, body: 'made' }));
  const pending = httpRequestAsync(w.a, { ip: '10.0.0.2', port: 8080, method: 'PUT', path: '/x' });
  w.run(10 * SECOND);
  const res = await pending;
  t.is(res.status, 201);
  t.is(res.reason, 'Created');
  t.deepEqual(res.remote, { ip: '10.0.0.2', port: 8080 });
  await t.throwsAsync(
    () => {
      const p = httpRequestAsync(w.a, { ip: '10.0.0.2', port: 9 });
      w.run(20 * SECOND);
      return p;
    },
    { message: 'Connection refused' },
  );
});
