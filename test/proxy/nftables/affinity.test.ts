// ClientIP affinity in nftables mode: `update @affinity-...` pins a client to the
// endpoint it reached; `ip saddr @affinity-... goto endpoint-...` sends it back there
// until the element expires (now >= added + timeout, as nft_set_elem_expired).
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import {
  AffinitySet,
  AffinityTables,
  FrozenAffinity,
} from '../../../src/proxy/nftables/affinity.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { localAffinityObjects } from '../iptables/kube-fixture.ts';
import { nftProxier } from './fixture.ts';
import { sendFirstPacket } from '../flow.ts';

const THREE = makeSlice(
  'default',
  'myapp',
  'myapp-abc',
  [ep('10.244.1.10'), ep('10.244.2.10'), ep('10.244.3.10')],
  [tcp('http', 8080)],
);

function myapp(timeoutSeconds?: number) {
  return makeService('default', 'myapp', {
    clusterIP: '10.96.0.100',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    ...(timeoutSeconds === undefined
      ? {}
      : {
          sessionAffinity: 'ClientIP' as const,
          sessionAffinityConfig: { clientIP: { timeoutSeconds } },
        }),
  });
}

const client = (i: number) => `10.100.${(i >> 8) & 255}.${i & 255}`;
const dst = { dst: '10.96.0.100', dport: 80 };

test('a client sticks while it keeps connecting, and may move once idle past the timeout', (t) => {
  const clock = { now: 1000 };
  const px = nftProxier([myapp(60)], [THREE], { random: seededRandom(7), now: () => clock.now });
  const clients = Array.from({ length: 30 }, (_, i) => client(i));
  const first = clients.map((src) => sendFirstPacket(px, { src, ...dst }).output);
  t.true(new Set(first).size > 1, 'different clients land on different endpoints');
  // Each new connection goes through the endpoint chain again: `update` refreshes.
  for (let step = 0; step < 10; step++) {
    clock.now += 59;
    const again = clients.map((src) => sendFirstPacket(px, { src, ...dst }, 2000 + step).output);
    t.deepEqual(again, first);
  }
  clock.now += 61;
  const after = clients.map((src) => sendFirstPacket(px, { src, ...dst }, 3000).output);
  t.true(
    after.some((o, i) => o !== first[i]),
    'some clients moved after the timeout',
  );
  clock.now += 1;
  t.deepEqual(
    clients.map((src) => sendFirstPacket(px, { src, ...dst }, 3001).output),
    after,
  );
});

test('an element expires exactly timeoutSeconds after its last update (nft, unlike xt_recent)', (t) => {
  const s = new AffinitySet('affinity-x', 60);
  s.update(ipToU32('10.0.0.1'), 100);
  t.true(s.has(ipToU32('10.0.0.1'), 159.999));
  t.false(s.has(ipToU32('10.0.0.1'), 160));
  t.false(s.has(ipToU32('10.0.0.2'), 100));
});

test('only the pinned endpoint remembers the client, and nft list shows its expiry', (t) => {
  const clock = { now: 0 };
  const px = nftProxier([myapp(10800)], [THREE], { random: seededRandom(3), now: () => clock.now });
  const pinned = sendFirstPacket(px, { src: '10.100.0.1', ...dst }).output;
  clock.now = 1.5;
  const holding = px.affinity
    .names()
    .filter((n) => px.affinity.lookup(n)!.entries(clock.now).length > 0);
  t.is(holding.length, 1);
  t.true(holding[0]!.endsWith(`__${pinned.replace(':', '/')}`));
  t.true(px.listRuleset().includes('elements = { 10.100.0.1 expires 2h59m58s500ms }'));
});

test('affinity survives syncs that do not touch the service, and goes with its affinity', (t) => {
  const clock = { now: 0 };
  const px = nftProxier([myapp(600)], [THREE], { random: seededRandom(9), now: () => clock.now });
  const f = { src: '10.100.0.7', ...dst };
  const pinned = sendFirstPacket(px, f).output;
  px.onServiceAdd(
    makeService('default', 'other', {
      clusterIP: '10.96.0.101',
      ports: [{ port: 81, protocol: 'TCP', targetPort: 81 }],
    }),
  );
  px.sync();
  for (let i = 0; i < 20; i++) t.is(sendFirstPacket(px, f, 5000 + i).output, pinned);
  px.onServiceUpdate(myapp(600), myapp());
  px.sync();
  t.deepEqual(px.affinity.names(), [], 'kube-proxy deletes unused affinity sets at once');
  px.onServiceUpdate(myapp(), myapp(600));
  px.sync();
  t.true(px.affinity.names().every((n) => px.affinity.lookup(n)!.size === 0));
});

test('a full affinity set takes no new clients (the update breaks the rule)', (t) => {
  const s = new AffinitySet('affinity-x', 60, 2);
  t.true(s.update(1, 0));
  t.true(s.update(2, 0));
  t.false(s.update(3, 0));
  t.true(s.update(1, 10), 'an existing element is still refreshed');
  t.true(s.update(3, 61), 'expired elements are collected to make room');
  t.deepEqual(
    s.entries(61).map(([a]) => a),
    [1, 3],
  );
});

test('Local policy with affinity: external clients reach local ready endpoints only', (t) => {
  const o = localAffinityObjects();
  const px = nftProxier(o.services, o.slices, { random: seededRandom(5) });
  const ext = new Set<string>();
  const pods = new Set<string>();
  for (let i = 0; i < 200; i++) {
    ext.add(
      sendFirstPacket(px, { src: `203.0.113.${i % 100}`, dst: '1.2.3.4', dport: 80 }, 5000 + i)
        .output,
    );
    pods.add(
      sendFirstPacket(px, { src: client(i), dst: '172.30.1.1', dport: 80 }, 5000 + i).output,
    );
  }
  t.deepEqual([...ext].sort(), ['10.0.1.1:80', '10.0.1.2:80']);
  t.deepEqual([...pods].sort(), ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80']);
});

test('a view compile reads the synced affinity sets and changes none of them', (t) => {
  const tables = new AffinityTables();
  tables.begin();
  const kept = tables.get('affinity-a', 10800);
  tables.get('affinity-b', 60);
  tables.end();
  const frozen = new FrozenAffinity(tables);
  frozen.begin();
  t.is(frozen.get('affinity-a', 10800), kept, 'the same set the packet path updates');
  frozen.end();
  t.deepEqual(tables.names(), ['affinity-a', 'affinity-b'], 'no set dropped by the view');
  t.throws(() => frozen.get('affinity-c', 60), { message: /not in the synced table/ });
  t.throws(() => frozen.get('affinity-b', 61), { message: /not in the synced table/ });
  t.is(tables.lookup('affinity-b')!.timeout, 60, 'timeout left as the sync set it');
});
