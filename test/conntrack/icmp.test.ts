import test from 'ava';
import {
  CtDir,
  CtStatus,
  CtVerdict,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IcmpType,
} from '../../src/conntrack/constants.ts';
import { icmpKey, icmpReplyType, isIcmpError } from '../../src/conntrack/icmp.ts';
import { BACKEND, CLIENT, NODE, S, TcpFlow, VIP, ip, newCt } from './helpers.ts';

const PEER = ip('8.8.8.8');

test('ICMP echo: the request creates the flow, the reply with the same id matches it', (t) => {
  const ct = newCt();
  t.true(ct.newAllowed(IPPROTO_ICMP, 0, IcmpType.ECHO));
  t.false(ct.newAllowed(IPPROTO_ICMP, 0, IcmpType.ECHO_REPLY));
  const id = 1234;
  const e = ct.insert(
    IPPROTO_ICMP,
    CLIENT,
    PEER,
    id,
    icmpKey(8, 0),
    PEER,
    CLIENT,
    id,
    icmpKey(0, 0),
    0,
  );
  t.is(ct.table.status[e]! & (CtStatus.SRC_NAT | CtStatus.DST_NAT), 0);
  t.is(ct.icmpPacket(e * 2, 0, 84), CtVerdict.ACCEPT);
  t.is(ct.table.expires[e], 30 * S);
  const reply = ct.lookup(IPPROTO_ICMP, PEER, CLIENT, id, icmpKey(0, 0), 1);
  t.is(reply, e * 2 + CtDir.REPLY);
  t.is(ct.lookup(IPPROTO_ICMP, PEER, CLIENT, id + 1, icmpKey(0, 0), 1), -1); // other id
  t.is(ct.icmpPacket(reply, 1, 84), CtVerdict.ACCEPT);
  t.truthy(ct.table.status[e]! & CtStatus.SEEN_REPLY);
  t.is(ct.table.status[e]! & CtStatus.ASSURED, 0); // ICMP is never assured
});

test('a flow keyed by an ICMP reply type is INVALID and removed', (t) => {
  const ct = newCt();
  const e = ct.insert(
    IPPROTO_ICMP,
    CLIENT,
    PEER,
    7,
    icmpKey(0, 0),
    PEER,
    CLIENT,
    7,
    icmpKey(8, 0),
    0,
  );
  t.is(ct.icmpPacket(e * 2, 0, 84), CtVerdict.INVALID);
  t.is(ct.count, 0);
  t.is(ct.stats.invalid, 1);
});

test('ICMP type helpers follow the kernel tables', (t) => {
  t.is(icmpReplyType(8), 0);
  t.is(icmpReplyType(0), 8);
  t.is(icmpReplyType(13), 14);
  t.is(icmpReplyType(3), -1);
  t.deepEqual([0, 3, 4, 5, 8, 11, 12].map(isIcmpError), [
    false,
    true,
    true,
    true,
    false,
    true,
    true,
  ]);
});

test('port unreachable from the backend is RELATED to the DNATed UDP flow (reply dir)', (t) => {
  const ct = newCt();
  const e = ct.insert(IPPROTO_UDP, CLIENT, VIP, 5000, 53, BACKEND, CLIENT, 53, 5000, 0);
  ct.udpPacket(e * 2, 0, 60);
  // The backend quotes the datagram as it received it: CLIENT:5000 -> BACKEND:53.
  const ref = ct.related(IPPROTO_UDP, CLIENT, BACKEND, 5000, 53, CLIENT, 1);
  t.is(ref, e * 2 + CtDir.REPLY);
  // The error's outer source becomes the VIP; the quoted header is restored to the tuple of
  // the other direction, i.e. what the client sent (CLIENT:5000 -> VIP:53).
  t.is(ct.table.natSrc(ref), VIP);
  const quoted = ref ^ 1;
  t.deepEqual(
    [ct.table.tupleSrc(quoted), ct.table.tupleDst(quoted), ct.table.tuplePorts(quoted)],
    [CLIENT, VIP, ((5000 << 16) | 53) >>> 0],
  );
  t.is(ct.table.expires[e], 30 * S); // related packets do not refresh
});

test('time exceeded on either side of the node is RELATED in the matching direction', (t) => {
  const ct = newCt();
  const f = new TcpFlow(ct, 40000, VIP, BACKEND);
  f.open(0);
  // The client's SYN, already DNATed, dies between node and backend; the router tells CLIENT.
  const ref = ct.related(IPPROTO_TCP, CLIENT, BACKEND, 40000, 8080, CLIENT, 1);
  t.is(ref, f.ref | 1);
  t.is(ct.table.natSrc(ref), VIP);
  // A reply, already un-NATed to VIP:80, dies between node and client; the router tells VIP.
  const ref2 = ct.related(IPPROTO_TCP, VIP, CLIENT, 80, 40000, VIP, 1);
  t.is(ref2, f.ref);
  t.is(ct.table.natDst(ref2), BACKEND); // the error goes on to the backend
  t.is(ct.stats.error, 0);
});

test('an error about a ping is RELATED to the echo flow', (t) => {
  const ct = newCt();
  const e = ct.insert(
    IPPROTO_ICMP,
    CLIENT,
    PEER,
    99,
    icmpKey(8, 0),
    PEER,
    NODE,
    99,
    icmpKey(0, 0),
    0,
  );
  ct.icmpPacket(e * 2, 0, 84);
  t.truthy(ct.table.status[e]! & CtStatus.SRC_NAT);
  // The echo left masqueraded as NODE; a router answers NODE quoting NODE -> PEER echo 99.
  const ref = ct.related(IPPROTO_ICMP, NODE, PEER, 99, icmpKey(8, 0), NODE, 1);
  t.is(ref, e * 2 + CtDir.REPLY);
  t.is(ct.table.natDst(ref), CLIENT);
});

test('errors about unknown flows, or sent to the wrong host, count as error', (t) => {
  const ct = newCt();
  const e = ct.insert(IPPROTO_UDP, CLIENT, VIP, 5000, 53, BACKEND, CLIENT, 53, 5000, 0);
  ct.udpPacket(e * 2, 0, 60);
  t.is(ct.related(IPPROTO_UDP, CLIENT, BACKEND, 5001, 53, CLIENT, 1), -1);
  t.is(ct.related(IPPROTO_UDP, CLIENT, BACKEND, 5000, 53, PEER, 1), -1); // outer dst mismatch
  t.is(ct.related(IPPROTO_ICMP, CLIENT, PEER, 1, icmpKey(3, 1), CLIENT, 1), -1); // no inverse
  t.is(ct.stats.error, 3);
});
