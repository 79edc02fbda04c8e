import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { startMyApp, myappVersion } from '../../src/sim/workloads/myapp.ts';
import { myappHandler } from '../../src/workloads/myapp.ts';
import { nginx112Page } from '../../src/workloads/nginx.ts';
import { startUdpEcho } from '../../src/sim/workloads/udp-echo.ts';
import { wire } from './wire.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

/** Raw bytes back from the pod for one request (the connection stays open). */
function exchange(image: string, request: string, podName = 'myapp-deploy-5d9c8b9f6-x2q7k') {
  const w = wire({ b: { name: podName } });
  startMyApp(w.b, { image });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  let got = '';
  c.onConnect = () => c.write(enc(request));
  c.onData = (d) => (got += dec(d));
  w.run(SECOND);
  return got;
}

const GET = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n${extra}\r\n`;

for (const v of ['v1', 'v2']) {
  test(`myapp:${v} / is byte-exact nginx 1.12.2`, (t) => {
    t.is(
      exchange(`wangyanglinux/myapp:${v}`, GET('/')),
      'HTTP/1.1 200 OK\r\n' +
        'Server: nginx/1.12.2\r\n' +
        'Date: Tue, 26 Jul 2022 11:18:20 GMT\r\n' +
        'Content-Type: text/html\r\n' +
        'Content-Length: 65\r\n' +
        'Last-Modified: Fri, 02 Mar 2018 03:39:12 GMT\r\n' +
        'Connection: keep-alive\r\n' +
        'ETag: "5a98c760-41"\r\n' +
        'Accept-Ranges: bytes\r\n' +
        '\r\n' +
        `Hello MyApp | Version: ${v} | <a href="hostname.html">Pod Name</a>\n`,
    );
  });
}

test('myapp /hostname.html is the pod name', (t) => {
  const got = exchange('wangyanglinux/myapp:v2', GET('/hostname.html'));
  t.true(got.startsWith('HTTP/1.1 200 OK\r\nServer: nginx/1.12.2\r\n'));
  t.true(got.includes('Content-Length: 29\r\n'));
  t.true(got.endsWith('\r\n\r\nmyapp-deploy-5d9c8b9f6-x2q7k\n'));
});

test('myapp 404 is nginx 1.12.2’s page, 169 bytes', (t) => {
  const page = nginx112Page(404);
  t.is(page.length, 169);
  t.is(
    exchange('wangyanglinux/myapp:v1', GET('/nope')),
    'HTTP/1.1 404 Not Found\r\nServer: nginx/1.12.2\r\nDate: Tue, 26 Jul 2022 11:18:20 GMT\r\n' +
      'Content-Type: text/html\r\nContent-Length: 169\r\nConnection: keep-alive\r\n\r\n' +
      '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body bgcolor="white">\r\n' +
      '<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.12.2</center>\r\n</body>\r\n</html>\r\n',
  );
});

test('myapp: HEAD has no body, POST is 405, a matching ETag is 304', (t) => {
  const head = exchange('wangyanglinux/myapp:v3', GET('/').replace('GET', 'HEAD'));
  t.true(head.endsWith('Accept-Ranges: bytes\r\n\r\n'));
  t.true(head.includes('Content-Length: 65\r\n'));
  const post = exchange(
    'wangyanglinux/myapp:v1',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
  );
  t.true(post.startsWith('HTTP/1.1 405 Not Allowed\r\n'));
  const cached = exchange('wangyanglinux/myapp:v1', GET('/', 'If-None-Match: "5a98c760-41"\r\n'));
  t.true(cached.startsWith('HTTP/1.1 304 Not Modified\r\n'));
  t.false(cached.includes('Content-Length'));
});

test('myapp: a query is not part of the path; the same file answers alike every time', (t) => {
  const plain = exchange('wangyanglinux/myapp:v2', GET('/hostname.html'));
  t.is(exchange('wangyanglinux/myapp:v2', GET('/hostname.html?a=1?b')), plain);
  t.true(exchange('wangyanglinux/myapp:v2', GET('/?x')).includes('Version: v2'));
  t.true(exchange('wangyanglinux/myapp:v2', GET('/nope?/')).startsWith('HTTP/1.1 404'));
  const twice = exchange('wangyanglinux/myapp:v2', GET('/hostname.html') + GET('/hostname.html'));
  t.is(twice, plain + plain);
  const handle = myappHandler({ image: 'wangyanglinux/myapp:v1', podName: 'p', startedAtMs: 0 });
  const req = {
    method: 'GET',
    target: '/',
    version: 'HTTP/1.1',
    headers: [],
    body: new Uint8Array(0),
  };
  const res = handle({ ...req, remoteAddress: '10.0.0.1', remotePort: 1 });
  t.throws(() => res.headers.push(['X', 'y'])); // shared between requests: frozen
});

test('the version comes from the image tag', (t) => {
  t.is(myappVersion('wangyanglinux/myapp:v3'), 'v3');
  t.is(myappVersion('myapp:v10'), 'v10');
  t.throws(() => myappVersion('nginx:1.25'));
});

test('UDP echo returns each datagram to its sender', (t) => {
  const w = wire();
  startUdpEcho(w.b, 7);
  const s = w.a.udpBind();
  const got: string[] = [];
  s.onMessage = (b, r) => got.push(`${dec(b)} from ${r.address}:${r.port}`);
  s.send('10.0.0.2', 7, enc('one'));
  s.send('10.0.0.2', 7, enc('two'));
  w.run(SECOND);
  t.deepEqual(got, ['one from 10.0.0.2:7', 'two from 10.0.0.2:7']);
});
