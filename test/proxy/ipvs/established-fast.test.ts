// IpvsDataplaneProxier.onTracked's fast path (remembered slot, ESTABLISHED, plain ACK)
// must leave IPVS exactly as the full path (lookupIn + packetIn/packetOut) does: the same
// state, timer, counters and active/inactive split, packet by packet, through data, an
// ipvsadm --set, a FIN, a stale slot, a server that left and an expired connection.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IpvsDataplaneProxier } from '../../../src/proxy/ipvs/dataplane.ts';
import { IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_SYN } from '../../../src/proxy/ipvs/constants.ts';
import type { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import { myappProxier } from './proxier-fixture.ts';

const VIP = ipToU32('10.96.72.106');
const CLIENT = ipToU32('10.244.1.9');

function snapshot(p: IpvsProxier, id: number) {
  const c = p.ipvs.conns;
  const d = c.dest[id];
  const svc = c.svc[id];
  return {
    state: c.state[id],
    flags: c.flags[id],
    expires: c.expires[id],
    timeoutMs: c.timeoutMs[id],
    dest: d && {
      active: d.activeConns,
      inact: d.inactConns,
      stats: { ...d.stats },
    },
    svc: svc && { ...svc.stats },
  };
}

test('the fast path and the full path agree packet by packet', (t) => {
  const clocks = [{ now: 0 }, { now: 0 }];
  const [fast, full] = clocks.map((clock) => {
    const p = myappProxier(clock);
    return { p, dp: new IpvsDataplaneProxier(p, () => clock.now), clock };
  });
  const ids = [fast!, full!].map((x) =>
    x.p.classify(IPPROTO_TCP, CLIENT, 40000, VIP, 80, TCP_SYN, 60, 0),
  );
  t.is(ids[0], ids[1]);
  const id = ids[0]!;
  t.true(id >= 0);
  // [time ms, flags, reply, hint for the fast side (the full side always passes -1)]
  const steps: [number, number, boolean, number][] = [
    [1, TCP_SYN | TCP_ACK, true, id],
    [2, TCP_ACK, false, id],
    [3, TCP_ACK | 0x08, false, id],
    [4, TCP_ACK, true, id],
    [5, TCP_ACK, false, id + 1], // a wrong slot: searched
    [6, TCP_ACK, true, id],
    [7, TCP_FIN | TCP_ACK, false, id],
    [8, TCP_ACK, true, id],
    [9, TCP_FIN | TCP_ACK, true, id],
    [10, TCP_ACK, false, id],
  ];
  for (const [ms, flags, reply, hint] of steps) {
    if (ms === 4) {
      fast!.p.ipvs.setTimeouts(600, 0, 0);
      full!.p.ipvs.setTimeouts(600, 0, 0);
    }
    fast!.clock.now = full!.clock.now = ms;
    const a = fast!.dp.onTracked(IPPROTO_TCP, CLIENT, 40000, VIP, 80, flags, 52, reply, hint);
    const b = full!.dp.onTracked(IPPROTO_TCP, CLIENT, 40000, VIP, 80, flags, 52, reply, -1);
    t.is(a, b, `step ${ms}`);
    t.deepEqual(snapshot(fast!.p, id), snapshot(full!.p, id), `step ${ms}`);
  }
  // Far past the timer: both expire the connection.
  fast!.clock.now = full!.clock.now = 1e12;
  t.is(fast!.dp.onTracked(IPPROTO_TCP, CLIENT, 40000, VIP, 80, TCP_ACK, 52, false, id), -1);
  t.is(full!.dp.onTracked(IPPROTO_TCP, CLIENT, 40000, VIP, 80, TCP_ACK, 52, false, -1), -1);
});

test('a server that left is not taken by the fast path', (t) => {
  const clock = { now: 0 };
  const p = myappProxier(clock);
  const dp = new IpvsDataplaneProxier(p, () => clock.now);
  const id = p.classify(IPPROTO_TCP, CLIENT, 40001, VIP, 80, TCP_SYN, 60, 0);
  clock.now = 1;
  t.is(dp.onTracked(IPPROTO_TCP, CLIENT, 40001, VIP, 80, TCP_SYN | TCP_ACK, 60, true, id), id);
  t.is(dp.onTracked(IPPROTO_TCP, CLIENT, 40001, VIP, 80, TCP_ACK, 52, false, id), id);
  // The real server's flags lose AVAILABLE (as when ipvs removes it): expire_nodest_conn.
  const d = p.ipvs.conns.dest[id]!;
  d.flags &= ~0x0001;
  t.is(dp.onTracked(IPPROTO_TCP, CLIENT, 40001, VIP, 80, TCP_ACK, 52, false, id), -1);
});
