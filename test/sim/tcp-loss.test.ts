import test from 'ava';
import { MILLISECOND, SECOND } from '../../src/control/clock.ts';
import { Rng } from '../../src/control/rng.ts';
import { parsePacket } from '../../src/packet/index.ts';
import { wire } from './wire.ts';

const MS = MILLISECOND;

function flagsOf(pkt: Uint8Array): number {
  return parsePacket(pkt).tcpFlags;
}
function payloadLen(pkt: Uint8Array): number {
  const i = parsePacket(pkt);
  return i.l4Length - ((pkt[i.l4Offset + 12]! >>> 4) << 2);
}
function seqOf(pkt: Uint8Array): number {
  const o = parsePacket(pkt).l4Offset;
  return ((pkt[o + 4]! << 24) | (pkt[o + 5]! << 16) | (pkt[o + 6]! << 8) | pkt[o + 7]!) >>> 0;
}
const isSyn = (p: Uint8Array) => flagsOf(p) === 0x02;

/** a sends `data` to b, which collects it; returns what b got. */
function transfer(w: ReturnType<typeof wire>, data: Uint8Array) {
  const got: Uint8Array[] = [];
  let ended = false;
  w.b.tcpListen(80, (s) => {
    s.onData = (d) => got.push(d.slice());
    s.onEnd = () => {
      ended = true;
      s.end();
    };
  });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.onConnect = () => {
    c.write(data);
    c.end();
  };
  const received = () => Buffer.concat(got);
  return { c, received, ended: () => ended };
}

test('a lost SYN is sent again after the initial RTO of 1 s', (t) => {
  const w = wire({ drop: (p, n) => n === 0 && isSyn(p) });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  w.b.tcpListen(80, () => {});
  let at = -1;
  c.onConnect = () => (at = w.clock.now());
  w.run(10 * SECOND);
  const syns = w.log.filter((s) => isSyn(s.pkt)).map((s) => s.at);
  t.deepEqual(syns, [0, 1 * SECOND]);
  t.is(at, 1 * SECOND + 2 * MS);
  t.is(c.stats.retransmits, 1);
  // Karn: the retransmitted SYN gives no RTT sample.
  t.is(c.stats.lastRttNs, 0);
});

test('SYN retries back off 1, 2, 4... s and give up with ETIMEDOUT after 127 s', (t) => {
  const w = wire({ drop: (_p, _n, from) => from === 'a' });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  let err: string | undefined;
  let at = 0;
  c.onClose = (e) => {
    err = e?.code;
    at = w.clock.now();
  };
  w.run(600 * SECOND);
  const syns = w.log.map((s) => s.at / SECOND);
  t.deepEqual(syns, [0, 1, 3, 7, 15, 31, 63]);
  t.is(err, 'ETIMEDOUT');
  t.is(at, 127 * SECOND);
  t.is(c.stats.timeouts, 7);
});

test('synRetries is configurable', (t) => {
  const w = wire({ drop: (_p, _n, from) => from === 'a', a: { tcp: { synRetries: 2 } } });
  const c = w.a.tcpConnect('10.0.0.2', 80);
  let at = 0;
  c.onClose = () => (at = w.clock.now());
  w.run(600 * SECOND);
  t.is(w.log.length, 3);
  t.is(at, 7 * SECOND);
});

test('a lost data segment in the middle is recovered by fast retransmit', (t) => {
  const data = new Uint8Array(20 * 1460).map((_, i) => i * 7);
  let dataSeen = 0;
  const w = wire({
    drop: (p, _n, from) => from === 'a' && payloadLen(p) > 0 && ++dataSeen === 3,
  });
  const { c, received, ended } = transfer(w, data);
  w.run(60 * SECOND);
  t.true(ended());
  t.deepEqual(new Uint8Array(received()), data);
  t.is(c.stats.fastRetransmits, 1);
  t.is(c.stats.retransmits, 1);
  t.is(c.stats.timeouts, 0);
  t.true((w.b.counters.events['tcp.outOfOrder'] ?? 0) >= 3);
});

test('a lost last segment is recovered by the RTO, which backs off 200 ms, then doubles', (t) => {
  let lastSeq = -1;
  const w = wire({
    drop: (p, _n, from) => {
      if (from !== 'a' || payloadLen(p) === 0) return false;
      if (lastSeq < 0 && payloadLen(p) === 100) lastSeq = seqOf(p);
      return seqOf(p) === lastSeq && w.dropped.length < 3;
    },
  });
  const data = new Uint8Array(1460 * 2 + 100).fill(9);
  const { c, received } = transfer(w, data);
  w.run(60 * SECOND);
  t.is(received().length, data.length);
  const sends = w.log.filter(
    (s) => s.from === 'a' && seqOf(s.pkt) === lastSeq && payloadLen(s.pkt) === 100,
  );
  t.is(sends.length, 4);
  const gaps = sends.slice(1).map((s, i) => (s.at - sends[i]!.at) / MS);
  // srtt 2 ms: the RTO is clamped to Linux's 200 ms minimum, then doubles; the first
  // timer was restarted by the ACK of the earlier segments 2 ms later (RFC 6298 5.3).
  t.deepEqual(gaps, [202, 400, 800]);
  t.is(c.stats.timeouts, 3);
  t.is(c.stats.retransmits, 3);
});

test('1 MB transfer: segments never exceed the MSS and the bytes arrive intact', (t) => {
  const rng = new Rng(7);
  const data = new Uint8Array(1 << 20).map(() => rng.nextU32() & 0xff);
  const w = wire({ delayNs: 5 * MS });
  const { c, received, ended } = transfer(w, data);
  w.run(600 * SECOND);
  t.true(ended());
  t.true(Buffer.from(data).equals(received()));
  const fromA = w.log.filter((s) => s.from === 'a').map((s) => payloadLen(s.pkt));
  t.is(Math.max(...fromA), 1460);
  t.is(fromA.filter((n) => n > 0).length, Math.ceil((1 << 20) / 1460));
  t.is(c.stats.bytesAcked, 1 << 20);
  t.is(c.stats.retransmits, 0);
  t.is(c.stats.srttNs > 0, true);
});

test('1 MB transfer over a link losing 2% of packets still arrives intact', (t) => {
  const rng = new Rng(99);
  const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
  const w = wire({ delayNs: 5 * MS, drop: (_p, n) => n > 3 && rng.int(100) < 2 });
  const { c, received, ended } = transfer(w, data);
  w.run(3600 * SECOND);
  t.true(ended());
  t.true(Buffer.from(data).equals(received()));
  t.true(c.stats.retransmits > 0);
  t.true(w.dropped.length > 0);
});

test('an ICMP host unreachable during the handshake fails the connect (EHOSTUNREACH)', async (t) => {
  const { buildIcmpError } = await import('../../src/packet/index.ts');
  const w = wire();
  w.a.transmit = (p) =>
    w.clock.after(MS, () => w.a.receive(buildIcmpError(p, 3, 1, { src: '10.0.0.254' })));
  const c = w.a.tcpConnect('10.0.0.9', 80);
  let err = '';
  c.onClose = (e) => (err = `${e?.code} ${e?.icmp?.type}/${e?.icmp?.code}`);
  w.run(10 * SECOND);
  t.is(err, 'EHOSTUNREACH 3/1');
});

test('an ICMP port unreachable answering a SYN gives ECONNREFUSED', async (t) => {
  const { buildPortUnreachable } = await import('../../src/packet/index.ts');
  const w = wire();
  w.a.transmit = (p) =>
    w.clock.after(MS, () => w.a.receive(buildPortUnreachable(p, { src: '10.0.0.2' })));
  const c = w.a.tcpConnect('10.96.0.100', 80);
  let err = '';
  c.onClose = (e) => (err = e?.message ?? '');
  w.run(10 * SECOND);
  t.is(err, 'Connection refused');
  t.is(w.a.counters.events['icmp.toTcp'], 1);
});

test('while connected, ICMP errors are soft: reported only when the data times out', async (t) => {
  const { buildIcmpError } = await import('../../src/packet/index.ts');
  let established = false;
  const w = wire({ a: { tcp: { dataRetries: 3 } } });
  const link = w.a.transmit!;
  w.a.transmit = (p) => {
    if (!established || payloadLen(p) === 0) return link(p);
    w.clock.after(MS, () => w.a.receive(buildIcmpError(p, 11, 0, { src: '10.0.0.254' })));
  };
  w.b.tcpListen(80, () => {});
  const c = w.a.tcpConnect('10.0.0.2', 80);
  c.onConnect = () => {
    established = true;
    c.write(new Uint8Array(10));
  };
  let err = '';
  c.onClose = (e) => (err = e?.code ?? 'ok');
  w.run(2 * SECOND);
  t.is(c.state, 'ESTABLISHED');
  w.run(600 * SECOND);
  t.is(err, 'EHOSTUNREACH');
  t.is(c.stats.timeouts, 4);
});
