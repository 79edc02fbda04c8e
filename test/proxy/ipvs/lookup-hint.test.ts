// lookupIn's hint (the slot a flow's connection had on its previous packet) is only a
// shortcut: a stale or wrong hint must give what the hash search gives.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP, TCP_ACK, TCP_SYN } from '../../../src/proxy/ipvs/constants.ts';
import { IpvsDataplaneProxier } from '../../../src/proxy/ipvs/dataplane.ts';
import {
  ADDR_DST_LOCAL,
  CtState,
  Hook,
  TABLE_NAT,
  newPacketMeta,
} from '../../../src/proxy/hooks.ts';
import { myappProxier } from './proxier-fixture.ts';

test('a hint is used only when it holds the same connection; otherwise the search decides', (t) => {
  const clock = { now: 0 };
  const p = myappProxier(clock);
  const vip = ipToU32('10.96.72.106');
  const client = ipToU32('10.244.1.9');
  const a = p.classify(IPPROTO_TCP, client, 50000, vip, 80, TCP_SYN, 60, 0);
  const b = p.classify(IPPROTO_TCP, client, 50001, vip, 80, TCP_SYN, 60, 0);
  t.true(a >= 0 && b >= 0 && a !== b);
  const ipvs = p.ipvs;
  for (const hint of [-1, a, b, 12345, 1 << 30]) {
    t.is(ipvs.lookupIn(IPPROTO_TCP, client, 50000, vip, 80, 1, hint), a, `hint ${hint}`);
    t.is(ipvs.lookupIn(IPPROTO_TCP, client, 50001, vip, 80, 1, hint), b, `hint ${hint}`);
    t.is(ipvs.lookupIn(IPPROTO_TCP, client, 50002, vip, 80, 1, hint), -1, `hint ${hint}`);
  }
  // Connection a expires; its slot goes to a new connection with another tuple.
  t.true(ipvs.expireNow(a, 1));
  const c = p.classify(IPPROTO_TCP, client, 50003, vip, 80, TCP_SYN, 60, 2);
  t.is(c, a, 'the freed slot is reused');
  t.is(ipvs.lookupIn(IPPROTO_TCP, client, 50000, vip, 80, 3, a), -1, 'stale hint: no connection');
  t.is(ipvs.lookupIn(IPPROTO_TCP, client, 50003, vip, 80, 3, a), c);
  ipvs.packetIn(c, TCP_ACK, 52, 3);
});

test("the dataplane reports the slot a new packet's classify made: the connection lookupIn finds", (t) => {
  const clock = { now: 0 };
  const p = myappProxier(clock);
  const dp = new IpvsDataplaneProxier(p, () => clock.now);
  const client = ipToU32('10.244.1.9');
  const meta = newPacketMeta({
    src: client,
    dst: ipToU32('10.96.72.106'),
    sport: 50000,
    dport: 80,
    ctstate: CtState.NEW,
    tcpFlags: TCP_SYN,
    len: 60,
  });
  meta.addrFlags = ADDR_DST_LOCAL;
  t.is(dp.lastConn, -1);
  for (const sport of [50000, 50001, 50002]) {
    meta.sport = sport;
    t.true(dp.classify(meta, Hook.Prerouting, TABLE_NAT).dnat);
    const id = p.ipvs.lookupIn(IPPROTO_TCP, client, sport, meta.dst, 80, 0);
    t.true(id >= 0);
    t.is(dp.lastConn, id, `sport ${sport}`);
  }
  // No service at that address: nothing made, and the report says so.
  meta.dst = ipToU32('10.96.0.99');
  dp.classify(meta, Hook.Prerouting, TABLE_NAT);
  t.true(dp.lastConn < 0);
});
