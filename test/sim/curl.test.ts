import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { answerQuery } from '../../src/dns/server.ts';
import { curl } from '../../src/sim/clients/curl.ts';
import type { CurlResult } from '../../src/sim/clients/curl.ts';
import { podResolvConf } from '../../src/sim/clients/resolver.ts';
import { startMyApp } from '../../src/sim/workloads/myapp.ts';
import { seedIndex } from '../dns/fixtures.ts';
import { isSyn, wire } from './wire.ts';
import type { WireOptions } from './wire.ts';

/** Client a (10.0.0.1) → b, which answers for the seed's myapp ClusterIP and runs kube-dns. */
function cluster(o: WireOptions = {}) {
  const w = wire({
    b: { name: 'myapp-deploy-5d9c8b9f6-x2q7k', addresses: ['10.0.0.2', '10.100.7.45'] },
    ...o,
  });
  startMyApp(w.b, { image: 'wangyanglinux/myapp:v2' });
  const index = seedIndex();
  const dns = w.b.udpBind(53);
  dns.onMessage = (q, r) => {
    const out = answerQuery(index, q, { ttl: 5, serial: 1, transport: 'udp' });
    if (out) dns.send(r.address, r.port, out);
  };
  return w;
}

function run(w: ReturnType<typeof wire>, args: string[], limit = 600 * SECOND): CurlResult {
  let r: CurlResult | undefined;
  curl(w.a, args, (x) => (r = x), {
    resolvConf: podResolvConf('default', { nameserver: '10.0.0.2' }),
  });
  w.run(limit);
  if (r === undefined) throw new Error('curl never finished');
  return r;
}

test('curl CLUSTER-IP prints the body, like the seed walkthrough', (t) => {
  const r = run(cluster(), ['10.100.7.45']);
  t.is(r.exitCode, 0);
  t.is(r.stdout, 'Hello MyApp | Version: v2 | <a href="hostname.html">Pod Name</a>\n');
  t.is(r.stderr, '');
});

test('curl -v transcript as a terminal shows it', (t) => {
  const r = run(cluster(), ['-v', 'http://10.100.7.45/hostname.html']);
  t.is(
    r.transcript,
    '*   Trying 10.100.7.45:80...\n' +
      '* Connected to 10.100.7.45 (10.100.7.45) port 80 (#0)\n' +
      '> GET /hostname.html HTTP/1.1\r\n' +
      '> Host: 10.100.7.45\r\n' +
      '> User-Agent: curl/7.88.1\r\n' +
      '> Accept: */*\r\n' +
      '> \r\n' +
      '< HTTP/1.1 200 OK\r\n' +
      '< Server: nginx/1.12.2\r\n' +
      '< Date: Tue, 26 Jul 2022 11:18:20 GMT\r\n' +
      '< Content-Type: text/html\r\n' +
      '< Content-Length: 29\r\n' +
      '< Last-Modified: Tue, 26 Jul 2022 11:18:20 GMT\r\n' +
      '< Connection: keep-alive\r\n' +
      '< ETag: "62dfcd7c-1d"\r\n' +
      '< Accept-Ranges: bytes\r\n' +
      '< \r\n' +
      'myapp-deploy-5d9c8b9f6-x2q7k\n' +
      '* Connection #0 to host 10.100.7.45 left intact\n',
  );
});

test('curl by name goes through the pod resolver (search path, ndots:5)', (t) => {
  const w = cluster();
  const r = run(w, ['-v', 'http://myapp/']);
  t.is(r.exitCode, 0);
  t.true(
    r.stderr.startsWith(
      '*   Trying 10.100.7.45:80...\n* Connected to myapp (10.100.7.45) port 80 (#0)\n',
    ),
  );
  t.true(r.stderr.includes('> Host: myapp\r\n'));
  const nx = run(cluster(), ['nosuch']);
  t.is(nx.exitCode, 6);
  t.is(nx.stderr, 'curl: (6) Could not resolve host: nosuch\n');
});

test('connection refused: curl (7) after the round trip', (t) => {
  const r = run(cluster(), ['10.0.0.2:8080']);
  t.is(r.exitCode, 7);
  t.is(
    r.stderr,
    "curl: (7) Failed to connect to 10.0.0.2 port 8080 after 2 ms: Couldn't connect to server\n",
  );
  const v = run(cluster(), ['-v', '10.0.0.2:8080']);
  t.is(
    v.stderr,
    '*   Trying 10.0.0.2:8080...\n' +
      '* connect to 10.0.0.2 port 8080 failed: Connection refused\n' +
      "* Failed to connect to 10.0.0.2 port 8080 after 2 ms: Couldn't connect to server\n" +
      '* Closing connection 0\n' +
      "curl: (7) Failed to connect to 10.0.0.2 port 8080 after 2 ms: Couldn't connect to server\n",
  );
});

test('timeouts: -m during connect, --connect-timeout, and the kernel giving up', (t) => {
  const lossy = () => cluster({ drop: (p) => isSyn(p) });
  t.is(
    run(lossy(), ['-m', '3', '10.100.7.45']).stderr,
    'curl: (28) Connection timed out after 3000 milliseconds\n',
  );
  const ct = run(lossy(), ['-v', '--connect-timeout', '1.5', '10.100.7.45']);
  t.is(ct.exitCode, 28);
  t.true(ct.stderr.includes('* ipv4 connect timeout after 1500ms, move on!\n'));
  t.true(
    ct.stderr.endsWith(
      'curl: (28) Failed to connect to 10.100.7.45 port 80 after 1500 ms: Timeout was reached\n',
    ),
  );
  const kernel = run(lossy(), ['10.100.7.45']);
  t.is(kernel.exitCode, 28);
  t.is(
    kernel.stderr,
    "curl: (28) Failed to connect to 10.100.7.45 port 80 after 127000 ms: Couldn't connect to server\n",
  );
});

test('-s hides errors, -sS shows them, -w prints write-out variables', (t) => {
  t.is(run(cluster(), ['-s', '10.0.0.2:8080']).stderr, '');
  t.true(run(cluster(), ['-sS', '10.0.0.2:8080']).stderr.startsWith('curl: (7)'));
  const w = run(cluster(), [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{remote_ip}:%{remote_port} %{time_total}\\n',
    '10.100.7.45',
  ]);
  t.is(w.stdout, '200 10.100.7.45:80 0.004000\n');
  t.is(run(cluster(), ['--bogus', 'x']).exitCode, 2);
});
