import test from 'ava';
import dnsPacket from 'dns-packet';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { answerQuery, newDnsServerStats } from '../../src/dns/server.ts';
import { seedIndex } from './fixtures.ts';

const index = seedIndex();
const opts = { ttl: 5, serial: 1658834300, transport: 'udp' as const };

function ask(name: string, type: 'A' | 'SRV' | 'PTR' = 'A', edns = false) {
  const query = dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...(edns
      ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] }] }
      : {}),
  } as unknown as dnsPacket.Packet);
  const bytes = answerQuery(index, query, opts);
  if (bytes === undefined) throw new Error('no answer');
  return dnsPacket.decode(Buffer.from(bytes)) as dnsPacket.DecodedPacket & { rcode: string };
}

test('a response echoes id and RD, sets QR and AA, not RA (as CoreDNS)', (t) => {
  const r = ask('myapp.default.svc.cluster.local');
  t.is(r.id, 4242);
  t.is(r.type, 'response');
  t.true(r.flag_aa);
  t.true(r.flag_rd);
  t.false(r.flag_ra);
  t.is(r.rcode, 'NOERROR');
  t.deepEqual(
    r.answers?.map((a) => ('data' in a ? a.data : '')),
    ['10.100.7.45'],
  );
});

test('NXDOMAIN on the wire', (t) => {
  t.is(ask('nosuch.default.svc.cluster.local').rcode, 'NXDOMAIN');
});

test('EDNS: an OPT record is echoed with the client buffer size', (t) => {
  const r = ask('myapp.default.svc.cluster.local', 'A', true);
  const opt = r.additionals?.find((a) => a.type === 'OPT');
  t.truthy(opt);
  t.is(opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0, 1232);
});

test('garbage with a readable header gets FORMERR; shorter than a header is dropped', (t) => {
  const stats = newDnsServerStats();
  const garbage = new Uint8Array(20).fill(0xff);
  garbage[0] = 0x12;
  garbage[1] = 0x34;
  garbage[2] = 0x01; // a query (QR=0) with RD
  const out = answerQuery(index, garbage, opts, stats);
  t.truthy(out);
  const r = dnsPacket.decode(Buffer.from(out!)) as dnsPacket.DecodedPacket & { rcode: string };
  t.is(r.id, 0x1234);
  t.is(r.rcode, 'FORMERR');
  t.is(answerQuery(index, new Uint8Array(5), opts, stats), undefined);
  t.is(stats.malformed, 1);
});

const dig = spawnSync('dig', ['-v'], { encoding: 'utf8' });
const digTest = dig.error ? test.skip : test;
digTest(
  `dig reads svclab's answers over UDP (dig ${dig.error ? 'missing' : 'present'})`,
  async (t) => {
    const sock = createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const out = answerQuery(index, msg, opts);
      if (out) sock.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', ok));
    const port = sock.address().port;
    const run = (...args: string[]) =>
      new Promise<string>((ok, fail) => {
        import('node:child_process').then(
          ({ execFile }) =>
            execFile(
              'dig',
              [`@127.0.0.1`, '-p', String(port), '+tries=1', '+time=2', ...args],
              (e, out) => (e ? fail(e) : ok(out)),
            ),
          fail,
        );
      });
    try {
      const headless = await run('-t', 'A', 'myapp-headless.default.svc.cluster.local.');
      t.regex(headless, /status: NOERROR/);
      t.regex(headless, /flags: qr aa rd;/);
      t.regex(
        headless,
        /myapp-headless\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.244\.1\.2/,
      );
      t.is(headless.match(/^[^;].*\sIN\s+A\s/gm)?.length, 3);
      const cname = await run('-t', 'A', 'my-service-1.default.svc.cluster.local.');
      t.regex(cname, /IN\s+CNAME\s+hub\.atguigu\.com\./);
      const nx = await run('-t', 'A', 'nosuch.default.svc.cluster.local.');
      t.regex(nx, /status: NXDOMAIN/);
      t.regex(
        nx,
        /cluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./,
      );
    } finally {
      sock.close();
    }
  },
);
