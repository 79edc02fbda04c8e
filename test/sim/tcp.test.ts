import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { TcpRepr, buildTcp, parsePacket, parseTcpOptions } from '../../src/packet/index.ts';
import type { TcpConnection } from '../../src/sim/tcp/index.ts';
import { tcpTrace, wire } from './wire.ts';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function tcpOf(pkt: Uint8Array) {
  const i = parsePacket(pkt);
  const r = TcpRepr.parse(pkt.subarray(i.l4Offset, i.l4Offset + i.l4Length), i.src, i.dst);
  if (!r.ok) throw new Error('bad tcp');
  return r.value;
}

/** b echoes "pong!" to the first request and closes when the client does. */
function pingPong(w: ReturnType<typeof wire>) {
  const got: string[] = [];
  const events: string[] = [];
  w.b.tcpListen(80, (c) => {
    c.onData = (d) => {
      got.push(`server:${str(d)}`);
      c.write(text('pong!'));
    };
    c.onEnd = () => c.end();
    c.onClose = (e) => events.push(`server close ${e?.code ?? 'ok'} ${c.state}`);
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.onConnect = () => {
    events.push(`connect at ${w.clock.now()}`);
    c.write(text('ping'));
  };
  c.onData = (d) => {
    got.push(`client:${str(d)}`);
    c.end();
  };
  c.onEnd = () => events.push('client end');
  c.onClose = (e) => events.push(`client close ${e?.code ?? 'ok'} ${c.state} at ${w.clock.now()}`);
  return { c, got, events };
}

test('handshake, request/response, active close: exact segments and TIME-WAIT', (t) => {
  const w = wire({ delayNs: 1_000_000 });
  const { c, got, events } = pingPong(w);
  w.run(10 * SECOND);
  t.deepEqual(tcpTrace(w.log), [
    'a [S] seq 0',
    'b [S.] seq 0 ack 1',
    'a [.] seq 1 ack 1',
    'a [P.] seq 1 ack 1 len 4',
    'b [P.] seq 1 ack 5 len 5',
    'a [F.] seq 5 ack 6',
    'b [F.] seq 6 ack 6',
    'a [.] seq 6 ack 7',
  ]);
  t.deepEqual(got, ['server:ping', 'client:pong!']);
  t.deepEqual(events, [
    'connect at 2000000',
    'client end',
    'client close ok TIME-WAIT at 6000000',
    'server close ok CLOSED',
  ]);
  // SYN: MSS 1460 and window scale 7, window 64240, DF set, TTL 64.
  const syn = tcpOf(w.log[0]!.pkt);
  t.deepEqual(parseTcpOptions(syn.options), [
    { kind: 'mss', mss: 1460 },
    { kind: 'nop' },
    { kind: 'windowScale', shift: 7 },
  ]);
  t.is(syn.window, 64240);
  t.is(w.log[0]!.pkt[6]! & 0x40, 0x40);
  t.is(w.log[0]!.pkt[8], 64);
  // After the handshake windows are scaled: 64240 >> 7 = 501.
  t.is(tcpOf(w.log[2]!.pkt).window, 501);
  // Absolute numbers agree with the ISNs.
  const synAck = tcpOf(w.log[1]!.pkt);
  t.is(synAck.ack, (syn.seq + 1) >>> 0);
  t.is(tcpOf(w.log[3]!.pkt).seq, (syn.seq + 1) >>> 0);
  // TIME-WAIT lasts 60 s from the last ACK; only then does the 4-tuple go away.
  t.is(w.a.tcpConnections().length, 1);
  t.is(c.state, 'TIME-WAIT');
  t.is(w.b.tcpConnections().length, 0);
  w.run(6_000_000 + 60 * SECOND - 1);
  t.is(c.state, 'TIME-WAIT');
  w.run(6_000_000 + 60 * SECOND);
  t.is(c.state, 'CLOSED');
  t.is(w.a.tcpConnections().length, 0);
  t.is(c.stats.bytesSent, 4);
  t.is(c.stats.bytesReceived, 5);
  t.is(c.stats.retransmits, 0);
  t.is(c.stats.lastRttNs, 2_000_000);
});

test('writeShared sends the same segments as write, without copying the bytes', (t) => {
  const trace = (shared: boolean) => {
    const w = wire({ delayNs: 1_000_000 });
    const got: string[] = [];
    w.b.tcpListen(80, (s) => (s.onData = (d) => got.push(str(d))));
    const c = w.a.tcpConnect('10.0.0.2', 80);
    const msg = text('x'.repeat(3000));
    c.onConnect = () => {
      if (shared) c.writeShared(msg);
      else c.write(msg);
      c.end();
    };
    w.run(10 * SECOND);
    return { trace: tcpTrace(w.log), got: got.join('') };
  };
  const copied = trace(false);
  t.deepEqual(trace(true), copied);
  t.is(copied.got, 'x'.repeat(3000));
});

test('passive close: the server closes first and ends in TIME-WAIT', (t) => {
  const w = wire();
  let server: TcpConnection | undefined;
  w.b.tcpListen(80, (s) => {
    server = s;
    s.write(text('hello'));
    s.end();
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  let closed = '';
  c.onData = () => {};
  c.onEnd = () => c.end();
  c.onClose = (e) => (closed = e?.code ?? 'ok');
  w.run(10 * SECOND);
  t.deepEqual(tcpTrace(w.log), [
    'a [S] seq 0',
    'b [S.] seq 0 ack 1',
    'a [.] seq 1 ack 1',
    // write() goes out at once; end() then needs a FIN of its own (as Linux after a push).
    'b [P.] seq 1 ack 1 len 5',
    'b [F.] seq 6 ack 1',
    'a [.] seq 1 ack 6',
    'a [F.] seq 1 ack 7',
    'b [.] seq 7 ack 2',
  ]);
  t.is(closed, 'ok');
  t.is(c.state, 'CLOSED');
  t.is(server?.state, 'TIME-WAIT');
});

test('simultaneous close goes through CLOSING to TIME-WAIT on both sides', (t) => {
  const w = wire();
  let server: TcpConnection | undefined;
  w.b.tcpListen(80, (s) => {
    server = s;
    s.end();
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.onConnect = () => c.end();
  const states: string[] = [];
  c.onEnd = () => states.push(c.state);
  w.run(10 * SECOND);
  t.deepEqual(states, ['CLOSING']);
  t.is(c.state, 'TIME-WAIT');
  t.is(server?.state, 'TIME-WAIT');
});

test('connection refused: RST/ACK from a closed port gives ECONNREFUSED', (t) => {
  const w = wire();
  const c = w.a.tcpConnect('10.0.0.2', 81);
  let err = '';
  c.onClose = (e) => (err = `${e?.code}: ${e?.message}`);
  w.run(10 * SECOND);
  t.is(err, 'ECONNREFUSED: Connection refused');
  t.deepEqual(tcpTrace(w.log), ['a [S] seq 0', 'b [R.] seq 0 ack 1']);
  t.is(tcpOf(w.log[1]!.pkt).seq, 0);
  t.is(w.b.counters.drops['tcp.noSocket'], 1);
  t.is(w.b.counters.events['tcp.rstSent'], 1);
  t.is(w.a.tcpConnections().length, 0);
});

test('destroy() sends RST and the peer sees ECONNRESET', (t) => {
  const w = wire();
  let serverErr = '';
  w.b.tcpListen(80, (s) => {
    s.onClose = (e) => (serverErr = e?.code ?? 'ok');
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.onConnect = () => w.clock.after(5_000_000, () => c.destroy());
  w.run(10 * SECOND);
  t.is(serverErr, 'ECONNRESET');
  t.deepEqual(tcpTrace(w.log).slice(3), ['a [R.] seq 1 ack 1']);
});

test('an ACK to a listening port with no connection gets a bare RST with seq = its ack', (t) => {
  const w = wire();
  w.b.tcpListen(80, () => {});
  const out: Uint8Array[] = [];
  w.b.transmit = (x) => out.push(x);
  const flags = 0x10;
  w.b.receive(
    buildTcp({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 40000,
      dport: 80,
      seq: 1234,
      ack: 5678,
      flags,
    }),
  );
  t.is(out.length, 1);
  const rst = tcpOf(out[0]!);
  t.is(rst.flags, 0x04);
  t.is(rst.seq, 5678);
  t.is(rst.ack, 0);
  t.is(w.b.counters.drops['tcp.noRequest'], 1);
  // An RST is never answered.
  w.b.receive(buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80, flags: 0x04 }));
  t.is(out.length, 1);
});

test('write() and end() right after tcpConnect() wait for the handshake', (t) => {
  const w = wire();
  let got = '';
  w.b.tcpListen(80, (s) => {
    s.onData = (d) => (got += str(d));
    s.onEnd = () => s.end();
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.write(text('early'));
  c.end();
  const gone = w.a.tcpConnect('10.0.0.2', 80);
  gone.destroy(); // before the SYN: nothing is ever sent
  w.run(10 * SECOND);
  t.is(got, 'early');
  t.deepEqual(tcpTrace(w.log).slice(0, 4), [
    'a [S] seq 0',
    'b [S.] seq 0 ack 1',
    'a [.] seq 1 ack 1',
    'a [FP.] seq 1 ack 1 len 5',
  ]);
  t.is(w.log.length, 6);
});
