// Real servers added by a sync have a record and no handle (dest.ts destAt()): these tests
// fail if a sync starts making handles again, or if a handle made later reads anything but
// the record: the same object every time, the same fields, the same rates and trash.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP, TCP_SYN } from '../../../src/proxy/ipvs/constants.ts';
import { destAt } from '../../../src/proxy/ipvs/dest.ts';
import type { IpvsDest } from '../../../src/proxy/ipvs/dest.ts';
import { VirtualService } from '../../../src/proxy/ipvs/service.ts';
import { IpvsArena } from '../../../src/proxy/ipvs/arena.ts';
import { MYAPP_PODS, myappProxier } from './proxier-fixture.ts';

const VIP = ipToU32('10.96.72.106');

function synced() {
  const clock = { now: 0 };
  const p = myappProxier(clock);
  const svc = p.ipvs.services.find(IPPROTO_TCP, VIP, 80)!;
  return { p, svc, clock };
}

/** The server slots of a service, walked on the records. */
function slots(svc: VirtualService): number[] {
  const out: number[] = [];
  const head = svc.head.slot;
  for (let n = svc.head.next.slot; n !== head; n = destAt(svc.arena, n).next.slot) out.push(n);
  return out;
}

test('a sync adds rr servers as records only; handles come on request, once each', (t) => {
  const { p, svc } = synced();
  const a = svc.arena;
  const head = svc.head.slot;
  const raw: number[] = [];
  for (let n = a.i32[head * 24]!; n !== head; n = a.i32[n * 24]!) raw.push(n);
  t.is(raw.length, 3);
  for (const n of raw) t.is(a.objs[n], undefined, 'no handle after the sync');
  // The first packet schedules on the records and makes no handle either.
  const id = p.classify(IPPROTO_TCP, ipToU32('10.244.1.9'), 40000, VIP, 80, TCP_SYN, 60, 0);
  t.true(id >= 0);
  for (const n of raw) t.is(a.objs[n], undefined, 'no handle after a first packet');
  // A view asks: handles appear, read the records, and are the same objects next time.
  const d = svc.dests();
  t.deepEqual(
    d.map((x) => x.slot),
    raw,
  );
  t.deepEqual(slots(svc), raw);
  for (const x of d) t.is(destAt(a, x.slot), x);
  t.is(svc.getDest(ipToU32('10.244.2.3'), 80), d[0]);
  t.deepEqual(
    d.map((x) => [x.addr, x.port, x.weight, x.inactConns]),
    [
      [ipToU32('10.244.2.3'), 80, 1, 1],
      [ipToU32('10.244.2.2'), 80, 1, 0],
      [ipToU32('10.244.1.2'), 80, 1, 0],
    ],
  );
  t.is(p.ipvs.conns.destOf(id), d[0] ?? null);
});

test('rates: handle-less servers are estimated as if every handle had existed', (t) => {
  const lazy = synced();
  const eager = synced();
  eager.svc.dests(); // every handle made before the first estimation step
  const rates = [];
  for (const { p, svc } of [lazy, eager]) {
    p.ipvs.tickEstimators(0);
    // Two connections: the two newest servers count, the third stays idle (and handle-less).
    for (let i = 0; i < 2; i++)
      p.classify(IPPROTO_TCP, ipToU32('10.244.1.9'), 41000 + i, VIP, 80, TCP_SYN, 100, 0);
    p.ipvs.tickEstimators(2000);
    p.ipvs.tickEstimators(4000);
    rates.push(svc.dests().map((x) => [x.conns, x.rates().inbps]));
  }
  t.deepEqual(rates[0], rates[1]);
  // 100 bytes in one 2 s step, then a step without traffic: scaled 100*16/4 = 400, then
  // 400 - 400/4 = 300, read as (300 + 15) / 32 = 9 B/s.
  t.deepEqual(rates[0], [
    [1, 9],
    [1, 9],
    [0, 0],
  ]);
});

test('a record-only server with connections goes to the trash with a handle and comes back', (t) => {
  const arena = new IpvsArena();
  const svc = new VirtualService(
    { protocol: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'rr' },
    undefined,
    arena,
  );
  const s = svc.addDestSlot({ addr: ipToU32('10.0.0.1'), port: 80, weight: 1 });
  t.is(arena.objs[s], undefined);
  arena.i32[s * 24 + 10] = 1; // one inactive connection (R_INACT)
  const gone = svc.delDest(ipToU32('10.0.0.1'), 80);
  t.is(gone.slot, s);
  t.is(svc.numDests, 0);
  t.is(svc.trash.get(gone.key), gone);
  t.false(arena.released(s));
  const back = svc.addDest({ addr: ipToU32('10.0.0.1'), port: 80, weight: 2 });
  t.is(back, gone, 'revived from the trash, same record');
  t.is(back.weight, 2);
  arena.i32[s * 24 + 10] = 0;
  svc.delDest(ipToU32('10.0.0.1'), 80);
  t.true(arena.released(s));
  t.throws(() => destAt(arena, s), { message: /released/ });
});

test('a non-rr scheduler with add hooks gets handles as the servers are added', (t) => {
  const arena = new IpvsArena();
  const svc = new VirtualService(
    { protocol: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'wrr' },
    undefined,
    arena,
  );
  const slotsAdded = MYAPP_PODS.map((e, i) =>
    svc.addDestSlot({ addr: ipToU32(e.addresses[0]!), port: 80, weight: i + 1 }),
  );
  for (const s of slotsAdded) t.true(arena.objs[s] !== undefined);
  const picks = Array.from(
    { length: 6 },
    () => (svc.scheduler.schedule(svc, {} as never) as IpvsDest).weight,
  );
  t.deepEqual(picks.sort(), [1, 2, 2, 3, 3, 3]);
});
