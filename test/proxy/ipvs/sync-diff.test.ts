// sync() is a diff: with many services installed, one endpoint change is exactly one real
// server operation and nothing else; a removed server drains gracefully (weight 0, deleted when
// its TCP connections are gone, checked every minute; UDP at once) and comes back cleanly.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_FIN,
  TCP_SYN,
} from '../../../src/proxy/ipvs/constants.ts';
import type { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { myapp, MYAPP_PODS, myappProxier, myappSlice, proxier } from './proxier-fixture.ts';

function counts(p: IpvsProxier) {
  const d = p.ipvs.services.destOps;
  return {
    ...p.ops,
    destAdd: d.add,
    destEdit: d.edit,
    destDel: d.del,
    setAdd: p.ipsets.adds,
    setDel: p.ipsets.dels,
  };
}

function delta(a: ReturnType<typeof counts>, b: ReturnType<typeof counts>) {
  const out: Record<string, number> = {};
  for (const k of Object.keys(a) as (keyof typeof a)[]) if (b[k] !== a[k]) out[k] = b[k] - a[k];
  return out;
}

function manyServices(p: IpvsProxier, n: number): void {
  for (let i = 0; i < n; i++) {
    const ip = `10.97.${i >> 8}.${i & 255}`;
    p.onServiceAdd(
      makeService('bulk', `svc-${i}`, {
        clusterIP: ip,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      }),
    );
    p.onEndpointSliceAdd(
      makeSlice(
        'bulk',
        `svc-${i}`,
        `svc-${i}-x`,
        [ep(`10.245.${i >> 8}.${i & 255}`)],
        [tcp('http', 8080)],
      ),
    );
  }
}

test('one endpoint added among 500 services: exactly one real-server add, nothing else', (t) => {
  const p = proxier();
  manyServices(p, 500);
  p.onServiceAdd(myapp());
  p.onEndpointSliceAdd(myappSlice(MYAPP_PODS.slice(0, 2)));
  p.sync();
  t.is(p.ipvs.services.size, 501);
  const before = counts(p);
  p.onEndpointSliceUpdate(myappSlice(MYAPP_PODS.slice(0, 2)), myappSlice(MYAPP_PODS));
  p.sync();
  t.deepEqual(delta(before, counts(p)), { destAdd: 1 });
});

test('one endpoint removed (no connections): exactly one real-server delete', (t) => {
  const p = proxier();
  manyServices(p, 200);
  p.onServiceAdd(myapp());
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  const before = counts(p);
  p.onEndpointSliceUpdate(myappSlice(), myappSlice(MYAPP_PODS.slice(1)));
  p.sync();
  t.deepEqual(delta(before, counts(p)), { destDel: 1, setDel: 1 }); // and its KUBE-LOOP-BACK entry (local pod)
  t.false(p.ipvsadm().includes('10.244.1.2:80'));
});

test('a sync with nothing changed does nothing', (t) => {
  const p = proxier();
  manyServices(p, 50);
  p.sync();
  const before = counts(p);
  p.sync();
  p.onServiceUpdate(myapp(), myapp()); // unknown before: an add; then a no-op update
  p.sync();
  const mid = counts(p);
  p.onServiceUpdate(myapp(), myapp());
  p.sync();
  t.deepEqual(delta(mid, counts(p)), {});
  t.deepEqual(delta(before, mid), { vsAdd: 1, bind: 1, setAdd: 2 });
});

test('graceful termination: weight 0 while a TCP connection lives, deleted at the next check after it ends', (t) => {
  const clock = { now: 0 };
  const p = myappProxier(clock);
  const vip = ipToU32('10.96.72.106');
  const client = ipToU32('10.244.1.9');
  // rr picks 10.244.2.3 first; make that connection ESTABLISHED.
  const id = p.classify(IPPROTO_TCP, client, 50000, vip, 80, TCP_SYN, 60, 0);
  p.ipvs.packetOut(id, TCP_SYN | TCP_ACK, 60, 1);
  p.ipvs.packetIn(id, TCP_ACK, 52, 2);
  t.true(p.ipvsadm().includes('  -> 10.244.2.3:80                Masq    1      1          0'));
  const before = counts(p);
  p.onEndpointSliceUpdate(myappSlice(), myappSlice(MYAPP_PODS.slice(0, 2)));
  clock.now = 1000;
  p.sync();
  t.deepEqual(delta(before, counts(p)), { destEdit: 1 });
  t.true(p.ipvsadm().includes('  -> 10.244.2.3:80                Masq    0      1          0'));
  // Quiesced: new connections avoid it, the existing one still maps there.
  for (let i = 0; i < 4; i++) {
    t.not(
      p.classifyDest(IPPROTO_TCP, '10.244.1.9', 50001 + i, '10.96.72.106', 80, TCP_SYN, 1000)?.ip,
      '10.244.2.3',
    );
  }
  t.is(p.ipvs.lookupIn(IPPROTO_TCP, client, 50000, vip, 80, 1000), id);
  // The client closes: FIN_WAIT.. then the entry times out; the minute check deletes the server.
  p.ipvs.packetIn(id, TCP_FIN | TCP_ACK, 52, 2000);
  p.ipvs.packetOut(id, TCP_FIN | TCP_ACK, 52, 2001);
  p.ipvs.packetIn(id, TCP_ACK, 52, 2002);
  p.tick(30_000);
  t.true(p.ipvsadm().includes('10.244.2.3:80'));
  p.tick(200_000);
  t.false(p.ipvsadm().includes('10.244.2.3:80'));
  t.is(p.graceful.size, 0);
});

test('an endpoint that returns during graceful termination is re-added at full weight', (t) => {
  const p = myappProxier();
  const id = p.classify(
    IPPROTO_TCP,
    ipToU32('10.244.1.9'),
    50000,
    ipToU32('10.96.72.106'),
    80,
    TCP_SYN,
    60,
    0,
  );
  t.true(id >= 0);
  p.onEndpointSliceUpdate(myappSlice(), myappSlice(MYAPP_PODS.slice(0, 2)));
  p.sync();
  t.true(p.ipvsadm().includes('  -> 10.244.2.3:80                Masq    0'));
  const before = counts(p);
  p.onEndpointSliceUpdate(myappSlice(MYAPP_PODS.slice(0, 2)), myappSlice());
  p.sync();
  // MoveRSOutofGracefulDeleteList deletes it, then it is added again.
  t.deepEqual(delta(before, counts(p)), { destAdd: 1, destDel: 1 });
  t.true(p.ipvsadm().includes('  -> 10.244.2.3:80                Masq    1      0          1'));
  t.is(p.graceful.size, 0);
});

test('UDP real servers are deleted at once, connections or not', (t) => {
  const p = proxier();
  const dns = makeService('kube-system', 'kube-dns', {
    clusterIP: '10.96.0.10',
    ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 }],
  });
  const slice = (ips: string[]) =>
    makeSlice(
      'kube-system',
      'kube-dns',
      'kube-dns-x',
      ips.map((i) => ep(i)),
      [{ name: 'dns', port: 53, protocol: 'UDP' }],
    );
  p.onServiceAdd(dns);
  p.onEndpointSliceAdd(slice(['10.244.0.2', '10.244.0.3']));
  p.sync();
  for (let i = 0; i < 4; i++)
    p.classify(IPPROTO_UDP, ipToU32('10.244.1.9'), 3000 + i, ipToU32('10.96.0.10'), 53, 0, 80, 0);
  t.true(p.ipvsadm().includes('  -> 10.244.0.3:53                Masq    1      0          2'));
  p.onEndpointSliceUpdate(slice(['10.244.0.2', '10.244.0.3']), slice(['10.244.0.2']));
  p.sync();
  t.false(p.ipvsadm().includes('10.244.0.3'));
  // Its old flows now hit expire_nodest_conn: the next packet finds no connection.
  t.is(p.ipvs.lookupIn(IPPROTO_UDP, ipToU32('10.244.1.9'), 3000, ipToU32('10.96.0.10'), 53, 1), -1);
});
