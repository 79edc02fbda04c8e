// The virtual-service table: exact (protocol, address, port) hash lookups through growth and
// deletions (tombstones), fwmark services first, then the port-zero catch-all, as
// ip_vs_service_find(); and the connection table's both-direction lookups.
import test from 'ava';
import fc from 'fast-check';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  SvcFlag,
  TCP_ACK,
  TCP_SYN,
} from '../../../src/proxy/ipvs/constants.ts';
import { Ipvs } from '../../../src/proxy/ipvs/ipvs.ts';
import { ServiceTable } from '../../../src/proxy/ipvs/table.ts';

test('find() agrees with a Map through 5000 adds and 2500 deletes', (t) => {
  const table = new ServiceTable();
  const ref = new Map<string, unknown>();
  const base = ipToU32('10.96.0.0');
  for (let i = 0; i < 5000; i++) {
    const proto = i % 3 === 0 ? IPPROTO_UDP : IPPROTO_TCP;
    const svc = table.add({
      protocol: proto,
      addr: base + (i >> 2),
      port: 80 + (i & 3),
      scheduler: 'rr',
    });
    ref.set(`${proto}/${base + (i >> 2)}:${80 + (i & 3)}`, svc);
  }
  let i = 0;
  for (const [k, svc] of [...ref]) {
    if (i++ % 2 === 0) {
      table.delete(svc as never);
      ref.delete(k);
    }
  }
  t.is(table.size, 2500);
  for (let j = 0; j < 5000; j++) {
    const proto = j % 3 === 0 ? IPPROTO_UDP : IPPROTO_TCP;
    const key = `${proto}/${base + (j >> 2)}:${80 + (j & 3)}`;
    t.is(table.find(proto, base + (j >> 2), 80 + (j & 3)), (ref.get(key) as never) ?? null);
  }
  t.throws(() => table.add({ protocol: IPPROTO_UDP, addr: base, port: 83, scheduler: 'rr' }), {
    message: 'Service already exists',
  });
});

test('random add/delete sequences never lose or invent a service', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }))), (ops) => {
      const table = new ServiceTable();
      const live = new Map<number, ReturnType<ServiceTable['add']>>();
      for (const [add, k] of ops) {
        if (add && !live.has(k))
          live.set(k, table.add({ protocol: IPPROTO_TCP, addr: k, port: 443, scheduler: 'rr' }));
        if (!add && live.has(k)) {
          table.delete(live.get(k)!);
          live.delete(k);
        }
      }
      for (let k = 0; k <= 300; k++)
        if ((table.find(IPPROTO_TCP, k, 443) ?? undefined) !== live.get(k)) return false;
      return table.size === live.size;
    }),
  );
  t.pass();
});

test('lookup order: fwmark service, exact service, then port zero', (t) => {
  const table = new ServiceTable();
  const vip = ipToU32('10.96.0.5');
  const exact = table.add({ protocol: IPPROTO_TCP, addr: vip, port: 80, scheduler: 'rr' });
  const any = table.add({
    protocol: IPPROTO_TCP,
    addr: vip,
    port: 0,
    scheduler: 'rr',
    flags: SvcFlag.PERSISTENT,
    timeout: 60,
  });
  const fwm = table.add({ protocol: 0, addr: 0, port: 0, fwmark: 7, scheduler: 'rr' });
  t.is(table.lookup(IPPROTO_TCP, vip, 80, 0), exact);
  t.is(table.lookup(IPPROTO_TCP, vip, 8080, 0), any);
  t.is(table.lookup(IPPROTO_TCP, vip, 80, 7), fwm);
  t.is(table.lookup(IPPROTO_UDP, vip, 80, 0), null);
});

test('connections are found from the client side and from the real server side', (t) => {
  const ipvs = new Ipvs();
  const vip = ipToU32('10.96.0.1');
  const svc = ipvs.services.add({ protocol: IPPROTO_TCP, addr: vip, port: 443, scheduler: 'rr' });
  svc.addDest({ addr: ipToU32('10.0.100.10'), port: 6443, weight: 1 });
  const ids = [];
  for (let p = 30000; p < 32000; p++)
    ids.push(ipvs.classify(IPPROTO_TCP, ipToU32('10.244.1.5'), p, vip, 443, TCP_SYN, 60, 0));
  t.is(ipvs.conns.count, 2000);
  t.is(ipvs.lookupIn(IPPROTO_TCP, ipToU32('10.244.1.5'), 31234, vip, 443, 1), ids[1234]!);
  t.is(
    ipvs.lookupOut(IPPROTO_TCP, ipToU32('10.0.100.10'), 6443, ipToU32('10.244.1.5'), 31234, 1),
    ids[1234]!,
  );
  ipvs.packetOut(ids[1]!, TCP_SYN | TCP_ACK, 60, 1);
  // SYN_RECV times out after 60 s; the reaper frees every connection.
  t.is(ipvs.expire(61_000), 2000);
  t.is(ipvs.conns.count, 0);
  t.is(svc.getDest(ipToU32('10.0.100.10'), 6443)?.inactConns, 0);
  t.is(ipvs.lookupIn(IPPROTO_TCP, ipToU32('10.244.1.5'), 31234, vip, 443, 61_000), -1);
});
