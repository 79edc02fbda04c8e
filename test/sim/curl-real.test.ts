// The simulated curl against the real curl 7.88 on this machine: the real one talks to
// svclab's HTTP server (myapp) through a bridge from a real 127.0.0.1 socket into the
// simulation; both must print the same thing.
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import net from 'node:net';
import { SECOND } from '../../src/control/clock.ts';
import { curl } from '../../src/sim/clients/curl.ts';
import type { CurlResult } from '../../src/sim/clients/curl.ts';
import type { SimHost } from '../../src/sim/host.ts';
import { startMyApp } from '../../src/sim/workloads/myapp.ts';
import { wire } from './wire.ts';

const hasCurl = spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout?.includes(
  'curl 7.88',
);
const realTest = hasCurl ? test.serial : test.skip;
const POD = 'myapp-deploy-5d9c8b9f6-x2q7k';
const enc = (s: string) => new TextEncoder().encode(s);

type Behaviour = 'myapp' | 'empty' | 'reset' | 'partial' | 'silent';
const PARTIAL = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc';

/** A real server on 127.0.0.1 behaving like `b`; myapp is served by the simulation. */
function realServer(b: Behaviour): Promise<net.Server> {
  const server = net.createServer((sock) => {
    if (b === 'myapp') {
      const w = wire({ b: { name: POD } });
      startMyApp(w.b, { image: 'wangyanglinux/myapp:v1' });
      const c = w.a.tcpConnect('10.0.0.2', 80);
      c.onData = (d) => sock.write(d);
      c.onEnd = () => sock.end();
      sock.on('data', (d) => {
        c.write(d);
        w.run(w.clock.now() + SECOND);
      });
      sock.on('end', () => c.end());
      w.run(SECOND);
      return;
    }
    sock.once('data', () => {
      if (b === 'empty') sock.end();
      else if (b === 'reset') sock.resetAndDestroy();
      else if (b === 'partial') sock.end(PARTIAL);
    });
    sock.on('error', () => {});
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** The same behaviour on a simulated host, on the same port. */
function simServer(host: SimHost, b: Behaviour, port: number): void {
  if (b === 'myapp') {
    startMyApp(host, { image: 'wangyanglinux/myapp:v1', port, podName: POD });
    return;
  }
  host.tcpListen(port, (c) => {
    c.onData = () => {
      if (b === 'empty') c.end();
      else if (b === 'reset') c.destroy();
      else if (b === 'partial') {
        c.write(enc(PARTIAL));
        c.end();
      }
    };
  });
}

function realCurl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) =>
    execFile('curl', args, (e, stdout, stderr) =>
      ok({ code: e === null ? 0 : Number((e as { code?: number }).code), stdout, stderr }),
    ),
  );
}

function simCurl(args: string[], b: Behaviour, port: number): CurlResult {
  const w = wire();
  simServer(w.a, b, port);
  let r: CurlResult | undefined;
  curl(w.a, args, (x) => (r = x), { tty: false });
  w.run(30 * SECOND);
  if (r === undefined) throw new Error('curl never finished');
  return r;
}

const norm = (s: string) =>
  s
    .replace(/after \d+ ms/g, 'after N ms')
    .replace(/after \d+ milliseconds/g, 'after N milliseconds');

const CASES: Array<[Behaviour, (url: string) => string[]]> = [
  ['myapp', (u) => ['-sv', `${u}/`]],
  ['myapp', (u) => ['-sv', `${u}/hostname.html`]],
  ['myapp', (u) => ['-s', u]],
  ['myapp', (u) => ['-si', `${u}/nope`]],
  ['myapp', (u) => ['-sv', '-d', 'abc', `${u}/`]],
  ['myapp', (u) => ['-sI', `${u}/`]],
  ['myapp', (u) => ['-s', '-o', '/dev/null', '-w', '%{http_code} %{remote_ip}\\n', `${u}/nope`]],
  ['empty', (u) => ['-sSv', u]],
  ['reset', (u) => ['-sSv', u]],
  ['partial', (u) => ['-sSv', u]],
  ['silent', (u) => ['-sSv', '-m', '1', u]],
];

realTest('simulated curl prints what curl 7.88.1 prints', async (t) => {
  for (const [b, argsFor] of CASES) {
    const server = await realServer(b);
    const port = (server.address() as net.AddressInfo).port;
    try {
      const args = argsFor(`http://127.0.0.1:${port}`);
      const real = await realCurl(args);
      const sim = simCurl(args, b, port);
      const what = `${b}: curl ${args.join(' ')}`;
      t.is(norm(sim.stderr), norm(real.stderr), what);
      t.is(sim.stdout, real.stdout, what);
      t.is(sim.exitCode, real.code, what);
    } finally {
      server.close();
    }
  }
});

realTest('connection refused, as curl 7.88.1 reports it', async (t) => {
  const server = await realServer('empty');
  const port = (server.address() as net.AddressInfo).port;
  server.close(); // now nothing listens there
  await new Promise((ok) => setTimeout(ok, 50));
  const args = ['-sSv', `http://127.0.0.1:${port}/`];
  const real = await realCurl(args);
  const w = wire();
  let sim: CurlResult | undefined;
  curl(w.a, args, (r) => (sim = r), { tty: false });
  w.run(30 * SECOND);
  t.is(norm(sim!.stderr), norm(real.stderr));
  t.is(sim!.exitCode, 7);
  t.is(real.code, 7);
});
