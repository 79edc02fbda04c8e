import test from 'ava';
import fc from 'fast-check';
import { SECOND } from '../../src/control/clock.ts';
import {
  IcmpRepr,
  buildIcmpEcho,
  buildRawIpv4,
  buildTcp,
  buildUdp,
  parsePacket,
} from '../../src/packet/index.ts';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW } from '../../src/sim/host.ts';
import { wire } from './wire.ts';

const text = (s: string) => new TextEncoder().encode(s);

test('echo request → echo reply with the same identifier, sequence and data', (t) => {
  const w = wire();
  const out: Uint8Array[] = [];
  w.b.transmit = (p) => out.push(p);
  const data = text('abcdefgh');
  w.b.receive(buildIcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', echoId: 77, seq: 3, data }));
  t.is(out.length, 1);
  const i = parsePacket(out[0]!, 1);
  t.is(i.reason, 0); // checksums valid
  t.is(i.icmpType, 0);
  t.is(i.icmpId, 77);
  t.is(i.src, 0x0a000002);
  t.is(i.dst, 0x0a000001);
  const r = IcmpRepr.parse(out[0]!.subarray(i.l4Offset));
  t.true(r.ok && r.value.kind === 'echoReply' && r.value.seqNo === 3);
  t.deepEqual(out[0]!.subarray(i.l4Offset + 8), data);
  t.is(w.b.counters.events['icmp.echoReplied'], 1);
});

test('UDP to a closed port: ICMP port unreachable quoting header + 8 bytes; the sender sees ECONNREFUSED', (t) => {
  const w = wire();
  const sock = w.a.udpBind();
  t.true(sock.localPort >= EPHEMERAL_LOW && sock.localPort <= EPHEMERAL_HIGH);
  let err = '';
  sock.onError = (e, remote) => (err = `${e.code} ${remote.address}:${remote.port}`);
  sock.send('10.0.0.2', 9999, text('hello udp payload'));
  w.run(SECOND);
  t.is(err, 'ECONNREFUSED 10.0.0.2:9999');
  const icmp = w.log[1]!.pkt;
  const i = parsePacket(icmp, 1);
  t.is(i.icmpType, 3);
  t.is(i.icmpCode, 3);
  t.is(icmp.length, 20 + 8 + 20 + 8);
  t.deepEqual(icmp.subarray(28), w.log[0]!.pkt.subarray(0, 28));
  t.is(w.b.counters.drops['udp.noSocket'], 1);
});

test('UDP datagrams reach a bound socket with the sender address', (t) => {
  const w = wire();
  const server = w.b.udpBind(5353);
  const seen: string[] = [];
  server.onMessage = (bytes, r) => {
    seen.push(
      `${new TextDecoder().decode(bytes)} from ${r.address}:${r.port} to ${r.localAddress}`,
    );
    server.send(r.address, r.port, bytes);
  };
  const client = w.a.udpBind(40000);
  let back = '';
  client.onMessage = (b) => (back = new TextDecoder().decode(b));
  client.send('10.0.0.2', 5353, text('hi'));
  w.run(SECOND);
  t.deepEqual(seen, ['hi from 10.0.0.1:40000 to 10.0.0.2']);
  t.is(back, 'hi');
  t.throws(() => w.b.udpBind(5353), { message: /EADDRINUSE/ });
});

test('an unknown protocol gets ICMP protocol unreachable; a foreign destination is dropped', (t) => {
  const w = wire();
  const out: Uint8Array[] = [];
  w.b.transmit = (p) => out.push(p);
  w.b.receive(
    buildRawIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 47, payload: new Uint8Array(8) }),
  );
  t.is(parsePacket(out[0]!).icmpCode, 2);
  w.b.receive(buildUdp({ src: '10.0.0.1', dst: '10.0.0.3', sport: 1, dport: 2 }));
  t.is(w.b.counters.drops.notLocal, 1);
  t.is(out.length, 1);
});

test('a bad checksum is dropped and counted, not answered', (t) => {
  const w = wire();
  const out: Uint8Array[] = [];
  w.b.transmit = (p) => out.push(p);
  const p = buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 80, flags: 2 });
  p[p.length - 1]! ^= 0xff; // corrupt the urgent pointer: TCP checksum wrong
  w.b.receive(p);
  t.is(w.b.counters.drops['tcp.BadChecksum'], 1);
  t.is(out.length, 0);
});

test('a host talks to itself through loopback', (t) => {
  const w = wire();
  let got = '';
  w.a.tcpListen(8080, (s) => (s.onData = (d) => (got = new TextDecoder().decode(d))));
  const c = w.a.tcpConnect('10.0.0.1', 8080);
  c.onConnect = () => c.write(text('self'));
  const lo = w.a.tcpConnect('127.0.0.1', 8080);
  let loSrc = '';
  lo.onConnect = () => (loSrc = lo.localAddress);
  w.run(SECOND);
  t.is(got, 'self');
  t.is(loSrc, '127.0.0.1');
  t.is(w.log.length, 0);
  t.true((w.a.counters.events['tx.loopback'] ?? 0) > 0);
});

test('the same seed gives byte-identical packets; another seed does not', (t) => {
  const runOnce = (seed: number) => {
    const w = wire({ seed });
    w.b.tcpListen(80, (s) => (s.onData = (d) => s.write(d)));
    const c = w.a.tcpConnect('10.0.0.2', 80);
    c.onConnect = () => c.write(text('determinism'));
    c.onData = () => c.end();
    const u = w.a.udpBind();
    u.send('10.0.0.2', 53, text('q'));
    w.run(100 * SECOND);
    return w.log.map((s) => Buffer.from(s.pkt).toString('hex'));
  };
  const one = runOnce(42);
  t.true(one.length > 8);
  t.deepEqual(runOnce(42), one);
  t.notDeepEqual(runOnce(43), one);
});

test('random bytes never throw; every packet is counted', (t) => {
  const w = wire();
  w.b.tcpListen(80, () => {});
  w.b.udpBind(53);
  w.b.transmit = () => {};
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (bytes) => {
      w.b.receive(bytes);
    }),
    { numRuns: 3000, seed: 1 },
  );
  t.is(w.b.counters.rxPackets, 3000);
  t.true(w.b.counters.rxDropped > 2900);
});

test('mutated valid packets never throw', (t) => {
  const w = wire();
  w.b.tcpListen(80, () => {});
  w.b.udpBind(53);
  w.b.transmit = () => {};
  const seeds = [
    buildTcp({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 4000,
      dport: 80,
      flags: 2,
      options: [{ kind: 'mss', mss: 1460 }],
    }),
    buildUdp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 4000, dport: 53, payload: text('x') }),
    buildIcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', echoId: 1, seq: 1 }),
  ];
  let n = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 6 }),
      fc.boolean(),
      (base, edits, fixIp) => {
        const p = base.slice();
        for (const [at, v] of edits) if (at < p.length) p[at] = v;
        if (fixIp) {
          // Keep the IPv4 header checksum right so the L4 parsers get exercised.
          p[10] = 0;
          p[11] = 0;
          let s = 0;
          for (let i = 0; i < 20; i += 2) s += (p[i]! << 8) | p[i + 1]!;
          while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
          p[10] = (~s >>> 8) & 0xff;
          p[11] = ~s & 0xff;
        }
        n++;
        w.b.receive(p);
      },
    ),
    { numRuns: 3000, seed: 2 },
  );
  t.is(w.b.counters.rxPackets, n);
  // Whatever half-open state they left behind times out quietly.
  t.notThrows(() => w.run(600 * SECOND));
  t.is(w.b.tcpConnections().length, 0);
});

test('a link that delivers synchronously still works (re-entry is deferred, not nested)', (t) => {
  const w = wire();
  w.a.transmit = (p) => w.b.receive(p);
  w.b.transmit = (p) => w.a.receive(p);
  w.b.tcpListen(80, (s) => (s.onData = (d) => s.write(d)));
  const c = w.a.tcpConnect('10.0.0.2', 80);
  let echoed = '';
  c.onConnect = () => c.write(text('x'.repeat(5000)));
  c.onData = (d) => {
    echoed += new TextDecoder().decode(d);
    if (echoed.length === 5000) c.end();
  };
  w.run(100 * SECOND);
  t.is(echoed, 'x'.repeat(5000));
  t.is(c.stats.retransmits, 0);
});
