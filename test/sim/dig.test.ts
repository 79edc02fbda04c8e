import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { SECOND } from '../../src/control/clock.ts';
import { answerQuery } from '../../src/dns/server.ts';
import { dig } from '../../src/sim/clients/dig.ts';
import type { DigResult } from '../../src/sim/clients/dig.ts';
import { formatQuestion, formatRecord } from '../../src/sim/clients/dig-format.ts';
import type { SimHost } from '../../src/sim/host.ts';
import { seedIndex } from '../dns/fixtures.ts';
import { wire } from './wire.ts';

const index = seedIndex();
const dnsOpts = { ttl: 5, serial: 1658834300, transport: 'udp' as const };
const PORT = 5300;

/** CoreDNS's answers served on a simulated host's UDP port. */
function serveDns(host: SimHost, port = 53) {
  const s = host.udpBind(port);
  s.onMessage = (b, r) => {
    const out = answerQuery(index, b, dnsOpts);
    if (out) s.send(r.address, r.port, out);
  };
}

function simDig(args: string[], setup?: (w: ReturnType<typeof wire>) => void): DigResult {
  const w = wire({ delayNs: 1_500_000 });
  serveDns(w.b, PORT);
  setup?.(w);
  let out: DigResult | undefined;
  dig(w.a, args, (r) => (out = r));
  w.run(60 * SECOND);
  if (out === undefined) throw new Error('dig never finished');
  return out;
}

test('the seed walkthrough: dig -t A myapp-headless... @kube-dns, in dig 9.18 layout', (t) => {
  const r = simDig([
    '-p',
    String(PORT),
    '-t',
    'A',
    'myapp-headless.default.svc.cluster.local.',
    '@10.0.0.2',
  ]);
  t.is(r.exitCode, 0);
  t.is(
    r.stdout.replace(/id: \d+/, 'id: N'),
    [
      '',
      '; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 5300 -t A myapp-headless.default.svc.cluster.local. @10.0.0.2',
      ';; global options: +cmd',
      ';; Got answer:',
      ';; WARNING: .local is reserved for Multicast DNS',
      ';; You are currently testing what happens when an mDNS query is leaked to DNS',
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: N',
      ';; flags: qr aa rd; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1',
      ';; WARNING: recursion requested but not available',
      '',
      ';; OPT PSEUDOSECTION:',
      '; EDNS: version: 0, flags:; udp: 1232',
      ';; QUESTION SECTION:',
      ';myapp-headless.default.svc.cluster.local. IN A',
      '',
      ';; ANSWER SECTION:',
      'myapp-headless.default.svc.cluster.local. 5 IN A 10.244.1.2',
      'myapp-headless.default.svc.cluster.local. 5 IN A 10.244.2.2',
      'myapp-headless.default.svc.cluster.local. 5 IN A 10.244.1.3',
      '',
      ';; Query time: 3 msec',
      ';; SERVER: 10.0.0.2#5300(10.0.0.2) (UDP)',
      ';; WHEN: Tue Jul 26 11:18:20 UTC 2022',
      ';; MSG SIZE  rcvd: 237',
      '',
      '',
    ].join('\n'),
  );
});

test('records and questions use dig tab stops (24/32/40/48)', (t) => {
  t.is(
    formatRecord({
      name: 'cluster.local',
      type: 'SOA',
      ttl: 5,
      data: {
        mname: 'ns.dns.cluster.local',
        rname: 'hostmaster.cluster.local',
        serial: 1,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 5,
      },
    }),
    'cluster.local.\t\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5',
  );
  t.is(
    formatRecord({
      name: 'myapp.default.svc.cluster.local',
      type: 'A',
      ttl: 5,
      data: '10.100.7.45',
    }),
    'myapp.default.svc.cluster.local. 5 IN\tA\t10.100.7.45',
  );
  t.is(formatQuestion({ name: 'myapp', type: 'A', class: 'IN' }), ';myapp.\t\t\t\tIN\tA');
  t.is(
    formatQuestion({ name: 'my-service-1.default.svc.cluster.local', type: 'A', class: 'IN' }),
    ';my-service-1.default.svc.cluster.local.\tIN A',
  );
});

test('+short, unreachable server and refused port', (t) => {
  t.is(
    simDig(['+short', '-p', String(PORT), 'my-service-1.default.svc.cluster.local', '@10.0.0.2'])
      .stdout,
    'hub.atguigu.com.\n',
  );
  const refused = simDig(['-p', '5399', 'myapp.default.svc.cluster.local', '@10.0.0.2']);
  t.is(refused.exitCode, 9);
  t.is(
    refused.stdout,
    ';; communications error to 10.0.0.2#5399: connection refused\n'.repeat(3) +
      '\n; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> -p 5399 myapp.default.svc.cluster.local @10.0.0.2\n' +
      ';; global options: +cmd\n;; no servers could be reached\n',
  );
  const silent = simDig(
    ['+time=1', '+tries=2', 'myapp.default.svc.cluster.local', '@10.0.0.2'],
    (w) => {
      w.b.udpBind(53); // bound, never answers
    },
  );
  t.is(silent.stdout.split('\n')[0], ';; communications error to 10.0.0.2#53: timed out');
  t.is(silent.stdout.match(/timed out/g)?.length, 2);
});

// ---- against the real dig on this machine, served by the same answerQuery() ----

const hasDig = spawnSync('dig', ['-v'], { encoding: 'utf8' }).error === undefined;
const realTest = hasDig ? test.serial : test.skip;

function normalize(s: string): string {
  return s
    .replace(/id: \d+/, 'id: N')
    .replace(/Query time: \d+ msec/, 'Query time: N msec')
    .replace(/WHEN: .*/, 'WHEN: T');
}

const CASES: string[][] = [
  ['-t', 'A', 'myapp-headless.default.svc.cluster.local.'],
  ['-t', 'A', 'my-service-1.default.svc.cluster.local'],
  ['nosuch.default.svc.cluster.local'],
  ['-t', 'SRV', '_http._tcp.myapp.default.svc.cluster.local'],
  ['-x', '10.100.7.45'],
  ['myapp'],
  ['+noedns', 'empty-headless.default.svc.cluster.local.'],
  ['+noall', '+answer', 'myapp-headless.default.svc.cluster.local'],
  ['+nocomments', 'myapp.default.svc.cluster.local'],
  ['+short', 'myapp.default.svc.cluster.local'],
];

realTest('sim dig prints what the real dig prints for the same answers', async (t) => {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const out = answerQuery(index, msg, dnsOpts);
    if (out) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', ok));
  const port = String(sock.address().port);
  try {
    for (const c of CASES) {
      const args = ['-p', port, ...c, '@127.0.0.1'];
      const real = await new Promise<string>((ok, fail) =>
        execFile('dig', args, (e, out) => (e ? fail(e) : ok(out))),
      );
      // The simulated server listens on the dig host's own loopback at the same port.
      const w = wire();
      serveDns(w.a, Number(port));
      let sim = '';
      dig(w.a, args, (r) => (sim = r.stdout));
      w.run(60 * SECOND);
      t.is(normalize(sim), normalize(real), args.join(' '));
    }
  } finally {
    sock.close();
  }
});
