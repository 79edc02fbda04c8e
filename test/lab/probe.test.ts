import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { buildIcmp, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { match, formatProbe, loadRawSocket } from '../../src/lab/probe.ts';
import { probeInNamespace } from '../../src/lab/probe-run.ts';
import { backendFromConntrack, parseProbeTarget } from '../../src/cli/probe.ts';

const CLIENT = '10.9.0.2';
const VIP = '10.96.0.100';
const req = { proto: 'tcp' as const, dst: VIP, port: 80, timeoutMs: 100 };

test('match: a SYN-ACK from the ClusterIP to our port answers a TCP probe', (t) => {
  const synAck = buildTcp({
    src: VIP,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.SYN | TcpFlags.ACK,
  });
  t.like(match(req, CLIENT, 40000, synAck), { outcome: 'syn-ack', from: VIP, fromPort: 80 });
  const rst = buildTcp({
    src: VIP,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.RST | TcpFlags.ACK,
  });
  t.like(match(req, CLIENT, 40000, rst), { outcome: 'rst' });
  // Another flow's packet, or one to another port of ours, is not the answer.
  t.is(match(req, CLIENT, 40001, synAck), undefined);
  const other = buildTcp({
    src: '10.96.0.1',
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: TcpFlags.SYN | TcpFlags.ACK,
  });
  t.is(match(req, CLIENT, 40000, other), undefined);
});

test('match: an ICMP port unreachable quoting our UDP datagram answers a UDP probe', (t) => {
  const ours = buildUdp({ src: CLIENT, dst: VIP, sport: 40000, dport: 53 });
  const unreachable = buildIcmp({
    src: '10.0.100.11',
    dst: CLIENT,
    message: { kind: 'destUnreachable', code: 3, nextHopMtu: 0, data: ours.subarray(0, 28) },
  });
  const udpReq = { proto: 'udp' as const, dst: VIP, port: 53, timeoutMs: 100 };
  t.like(match(udpReq, CLIENT, 40000, unreachable), {
    outcome: 'icmp-unreachable',
    from: '10.0.100.11',
    icmpType: 3,
    icmpCode: 3,
  });
  t.is(match(udpReq, CLIENT, 40001, unreachable), undefined);
  t.regex(
    formatProbe({
      proto: 'udp',
      src: CLIENT,
      sport: 40000,
      dst: VIP,
      dport: 53,
      outcome: 'icmp-unreachable',
      from: '10.0.100.11',
      icmpType: 3,
      icmpCode: 3,
    }),
    /port unreachable\) from 10\.0\.100\.11/,
  );
});

test('parseProbeTarget wants a port for tcp/udp and none for icmp', (t) => {
  t.deepEqual(parseProbeTarget('10.96.0.1:443', 'tcp'), { dst: '10.96.0.1', port: 443 });
  t.deepEqual(parseProbeTarget('10.96.0.1', 'icmp'), { dst: '10.96.0.1' });
  t.throws(() => parseProbeTarget('10.96.0.1', 'udp'), { message: /needs a port/ });
  t.throws(() => parseProbeTarget('10.96.0.1:70000', 'tcp'), { message: /IP or IP:PORT/ });
});

// Root: real raw sockets in a throw-away namespace against the kernel's own answers.
const whyNot =
  process.getuid?.() !== 0
    ? 'not root'
    : typeof loadRawSocket() === 'string'
      ? String(loadRawSocket())
      : undefined;

if (whyNot !== undefined) console.log(`probe namespace test skipped: ${whyNot}`);
(whyNot === undefined ? test : test.skip)(
  'probe in a namespace: SYN-ACK, RST, ICMP port unreachable, echo reply, timeout',
  async (t) => {
    const ns = `svl-t${process.pid}-probe`;
    const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
    ip('netns', 'add', ns);
    const server = spawn('ip', [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      "require('net').createServer(()=>{}).listen(8080,'127.0.0.1',()=>console.log('up'))",
    ]);
    try {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
      ip('-n', ns, 'link', 'set', 'd1', 'up');
      ip('-n', ns, 'addr', 'add', '10.1.0.1/24', 'dev', 'd0');
      ip('-n', ns, 'link', 'set', 'd0', 'up');
      await new Promise((resolve) => server.stdout.once('data', resolve));
      const lo = { dst: '127.0.0.1', timeoutMs: 2000 };
      t.like(await probeInNamespace(ns, { ...lo, proto: 'tcp', port: 8080 }), {
        outcome: 'syn-ack',
        fromPort: 8080,
      });
      t.like(await probeInNamespace(ns, { ...lo, proto: 'tcp', port: 8081 }), { outcome: 'rst' });
      t.like(await probeInNamespace(ns, { ...lo, proto: 'udp', port: 9 }), {
        outcome: 'icmp-unreachable',
        icmpCode: 3,
      });
      t.like(await probeInNamespace(ns, { ...lo, proto: 'icmp' }), { outcome: 'echo-reply' });
      // 10.1.0.9 is on a veth whose peer has no address: ARP gets no answer and nothing ever answers.
      t.like(
        await probeInNamespace(ns, { proto: 'tcp', dst: '10.1.0.9', port: 80, timeoutMs: 300 }),
        {
          outcome: 'timeout',
          src: '10.1.0.1',
        },
      );
    } finally {
      server.kill();
      ip('netns', 'del', ns);
    }
  },
);

test('backendFromConntrack: the reply source of the probe flow names the backend', (t) => {
  const listing = [
    'tcp      6 9 CLOSE src=10.244.1.254 dst=10.98.98.191 sport=40001 dport=80 src=10.244.2.2 dst=10.244.1.254 sport=80 dport=40001 mark=0 use=1',
    'tcp      6 9 CLOSE src=10.244.1.254 dst=10.98.98.191 sport=40000 dport=80 src=10.244.1.3 dst=10.244.1.254 sport=8080 dport=40000 mark=0 use=1',
    'icmp     1 29 src=10.244.1.254 dst=10.244.1.3 type=8 code=0 id=7 src=10.244.1.3 dst=10.244.1.254 type=0 code=0 id=7 mark=0 use=1',
  ].join('\n');
  const probe = { proto: 'tcp' as const, src: '10.244.1.254', sport: 40000, dst: '10.98.98.191' };
  t.is(backendFromConntrack(listing, probe), '10.244.1.3:8080');
  t.is(backendFromConntrack(listing, { ...probe, sport: 40002 }), undefined);
  // Not NATed (a pod probed directly): no backend to name.
  t.is(
    backendFromConntrack(listing, {
      proto: 'icmp',
      src: '10.244.1.254',
      sport: 7,
      dst: '10.244.1.3',
    }),
    undefined,
  );
});
