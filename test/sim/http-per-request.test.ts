// What each request gets of its own once the per-request lists and closures went away
// (client queue and wrapper, server queue, the response parser's awaited methods, the
// access log's lines): nothing one request changes shows in another.
import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { HttpClientConnection, httpRequest } from '../../src/sim/http/client.ts';
import type { HttpClientError, HttpResult } from '../../src/sim/http/client.ts';
import { createHttpServer, createSyncHttpServer } from '../../src/sim/http/server.ts';
import type { HttpServerRequest } from '../../src/sim/http/server.ts';
import { AccessLogLine, startMyApp } from '../../src/sim/workloads/myapp.ts';
import type { LaterLine } from '../../src/sim/workloads/myapp.ts';
import { wire } from './wire.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('httpRequest: each result has its own timing, addresses and body; the connection closes', (t) => {
  const w = wire();
  createHttpServer(w.b, 80, (req, respond) => respond({ status: 200, body: `${req.target}\n` }));
  const results: HttpResult[] = [];
  const conns: HttpClientConnection[] = [];
  for (const path of ['/a', '/b']) {
    conns.push(
      httpRequest(w.a, { ip: '10.0.0.2', port: 80, path }, (e, r) =>
        e ? t.fail(e.message) : results.push(r!),
      ),
    );
  }
  w.run(10 * SECOND);
  t.is(results.length, 2);
  const [a, b] = results as [HttpResult, HttpResult];
  t.deepEqual([dec(a.body), dec(b.body)], ['/a\n', '/b\n']);
  t.not(a.timing, b.timing);
  t.not(a.remote, b.remote);
  t.not(a.local, b.local);
  t.not(a.local.port, b.local.port);
  a.timing.total = -1;
  a.remote.port = -1;
  a.local.ip = 'changed';
  t.true(b.timing.total > 0);
  t.is(b.remote.port, 80);
  t.is(b.local.ip, '10.0.0.1');
  for (const c of conns) {
    t.false(c.reusable);
    t.is(c.conn.state, 'TIME-WAIT');
  }
});

test('httpRequest: a failure closes the connection too, and reports its own error', (t) => {
  const w = wire();
  createHttpServer(w.b, 80, () => {}); // never answers
  const errs: HttpClientError[] = [];
  const c = httpRequest(w.a, { ip: '10.0.0.2', port: 80, timeoutNs: SECOND }, (e) => errs.push(e!));
  w.run(10 * SECOND);
  t.is(errs.length, 1);
  t.is(errs[0]!.code, 'TIMEOUT');
  t.false(c.reusable);
});

test('queued requests: HEAD then GET then HEAD, each response framed by its own method', (t) => {
  const w = wire();
  createHttpServer(w.b, 80, (req, respond) =>
    respond({ status: 200, body: `body of ${req.method} ${req.target}\n` }),
  );
  const client = new HttpClientConnection(w.a, '10.0.0.2', 80);
  const got: string[] = [];
  const push = (e: HttpClientError | undefined, r?: HttpResult) =>
    e ? t.fail(e.message) : got.push(`${r!.status} [${dec(r!.body)}]`);
  client.request({ method: 'HEAD', path: '/1' }, push);
  client.request({ path: '/2' }, push);
  client.request({ method: 'head', path: '/3' }, push);
  w.run(10 * SECOND);
  t.deepEqual(got, ['200 []', '200 [body of GET /2\n]', '200 []']);
  // Then one more on its own, after the queue emptied.
  client.request({ path: '/4' }, push);
  w.run(20 * SECOND);
  t.is(got[3], '200 [body of GET /4\n]');
  client.close();
});

test('server: requests arriving together each get their own request object, in order', (t) => {
  const w = wire();
  const seen: Array<{ target: string; n: number }> = [];
  const reqs: object[] = [];
  createHttpServer(w.b, 80, (req, respond) => {
    seen.push({ target: req.target, n: req.connectionRequests });
    reqs.push(req);
    respond({ status: 200, body: 'ok\n' });
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  const enc = new TextEncoder();
  c.onConnect = () =>
    c.write(enc.encode('GET /x HTTP/1.1\r\nHost: b\r\n\r\nGET /y HTTP/1.1\r\nHost: b\r\n\r\n'));
  w.run(10 * SECOND);
  t.deepEqual(seen, [
    { target: '/x', n: 0 },
    { target: '/y', n: 1 },
  ]);
  t.not(reqs[0], reqs[1]);
});

test('myapp access log: each line is its own record and writes its own request', (t) => {
  const w = wire();
  const lines: LaterLine[] = [];
  startMyApp(w.b, {
    image: 'wangyanglinux/myapp:v1',
    podName: 'p',
    logLater: (l) => lines.push(l),
  });
  const results: HttpResult[] = [];
  for (const path of ['/', '/hostname.html', '/nope']) {
    httpRequest(w.a, { ip: '10.0.0.2', port: 80, path }, (e, r) =>
      e ? t.fail(e.message) : results.push(r!),
    );
  }
  w.run(10 * SECOND);
  t.is(lines.length, 3);
  t.is(results.length, 3);
  t.true(lines.every((l) => l instanceof AccessLogLine));
  const recs = lines as AccessLogLine[];
  t.not(recs[0]!.req, recs[1]!.req);
  const texts = lines.map((l) => l.text());
  t.regex(texts[0]!, /^10\.0\.0\.1 - - \[.*\] "GET \/ HTTP\/1\.1" 200 65 "-" "-" "-"$/);
  t.regex(texts[1]!, /"GET \/hostname\.html HTTP\/1\.1" 200 2 /);
  t.regex(texts[2]!, /"GET \/nope HTTP\/1\.1" 404 /);
  // Written again, the same line.
  t.deepEqual(
    lines.map((l) => l.text()),
    texts,
  );
});

test('a synchronous handler answers with the same bytes as one calling respond()', (t) => {
  const exchange = (sync: boolean) => {
    const w = wire();
    const reqs: HttpServerRequest[] = [];
    const answer = (req: HttpServerRequest) => {
      reqs.push(req);
      return {
        status: 200,
        headers: [['X-N', `${req.connectionRequests}`]] as [string, string][],
        body: `${req.target}\n`,
      };
    };
    if (sync) createSyncHttpServer(w.b, 80, answer, { maxRequests: 2 });
    else createHttpServer(w.b, 80, (req, respond) => respond(answer(req)), { maxRequests: 2 });
    const c = w.a.tcpConnect('10.0.0.2', 80);
    const enc = new TextEncoder();
    let got = '';
    c.onConnect = () =>
      c.write(enc.encode('GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n'));
    c.onData = (d) => (got += dec(d));
    w.run(10 * SECOND);
    return { got, targets: reqs.map((r) => r.target), distinct: reqs[0] !== reqs[1] };
  };
  const a = exchange(false);
  const b = exchange(true);
  t.deepEqual(b, a);
  t.deepEqual(a.targets, ['/x', '/y']); // maxRequests: the third is not served
  t.true(a.distinct);
  t.regex(a.got, /X-N: 1\r\n.*Connection: close\r\n/s);
});
