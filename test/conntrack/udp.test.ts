import test from 'ava';
import { CtStatus, CtVerdict, IPPROTO_UDP } from '../../src/conntrack/constants.ts';
import { CLIENT, S, ip, newCt } from './helpers.ts';

const DNS = ip('10.96.0.10');
const COREDNS = ip('10.244.0.3');

// Packet by packet, the status and the timeout the kernel (>= 5.11 stream logic) would give.
const STEPS = [
  { at: 0, dir: 0, seenReply: false, assured: false, timeout: 30 },
  { at: 0.1, dir: 1, seenReply: true, assured: false, timeout: 30 }, // first reply: still 30
  { at: 0.2, dir: 0, seenReply: true, assured: false, timeout: 30 }, // within 2 s: not a stream
  { at: 2.5, dir: 1, seenReply: true, assured: true, timeout: 120 }, // alive after 2 s: stream
  { at: 60, dir: 0, seenReply: true, assured: true, timeout: 120 },
];

test('UDP goes UNREPLIED -> replied -> ASSURED stream with the timeout change', (t) => {
  const ct = newCt();
  const e = ct.insert(IPPROTO_UDP, CLIENT, DNS, 5353, 53, COREDNS, CLIENT, 53, 5353, 0);
  for (const st of STEPS) {
    const now = st.at * S;
    t.is(ct.udpPacket(e * 2 + st.dir, now, 80), CtVerdict.ACCEPT);
    const status = ct.table.status[e]!;
    t.is((status & CtStatus.SEEN_REPLY) !== 0, st.seenReply, `t=${st.at}`);
    t.is((status & CtStatus.ASSURED) !== 0, st.assured, `t=${st.at}`);
    t.is((ct.table.expires[e]! - now) / S, st.timeout, `t=${st.at}`);
  }
  t.is(ct.table.packetsOf(e * 2), 3);
  t.is(ct.table.bytesOf(e * 2 + 1), 160);
});

test('an unanswered UDP flow expires after 30 s', (t) => {
  const ct = newCt();
  const e = ct.insert(IPPROTO_UDP, CLIENT, DNS, 5353, 53, COREDNS, CLIENT, 53, 5353, 0);
  ct.udpPacket(e * 2, 0, 80);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 5353, 53, 29.999 * S), e * 2);
  t.is(ct.lookup(IPPROTO_UDP, COREDNS, CLIENT, 53, 5353, 30 * S), -1);
  t.is(ct.count, 0);
});

test('UDP timeouts are configurable', (t) => {
  const ct = newCt({ timeouts: { udp: 5, udpStream: 180 } });
  const e = ct.insert(IPPROTO_UDP, CLIENT, DNS, 5353, 53, COREDNS, CLIENT, 53, 5353, 0);
  ct.udpPacket(e * 2, 0, 80);
  t.is(ct.table.expires[e], 5 * S);
  ct.udpPacket(e * 2 + 1, 1, 80);
  ct.udpPacket(e * 2, 3 * S, 80);
  t.is(ct.table.expires[e], 183 * S);
  t.throws(() => newCt({ timeouts: { udp: -1 } }), { instanceOf: RangeError });
});
