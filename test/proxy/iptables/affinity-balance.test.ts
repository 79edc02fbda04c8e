// Statistical behaviour of the compiled rules: the 1/(n-i) cascade spreads new
// connections evenly; ClientIP affinity (-m recent) pins a client until it has been
// idle for timeoutSeconds; Local policy only ever picks local ready endpoints.
import test from 'ava';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import type { IptablesProxierOptions } from '../../../src/proxy/iptables/proxier.ts';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { sendFirstPacket } from './flow.ts';
import { FAKE_PROXIER_OPTIONS, localAffinityObjects } from './kube-fixture.ts';

function proxier(
  services: Service[],
  slices: EndpointSlice[],
  opts: Partial<IptablesProxierOptions> = {},
) {
  const px = new IptablesProxier({ ...FAKE_PROXIER_OPTIONS, ...opts });
  for (const s of services) px.onServiceAdd(s);
  for (const s of slices) px.onEndpointSliceAdd(s);
  px.sync();
  return px;
}

const THREE = makeSlice(
  'default',
  'myapp',
  'myapp-abc',
  [ep('10.244.1.10'), ep('10.244.2.10'), ep('10.244.3.10')],
  [tcp('http', 8080)],
);

function myapp(affinity?: number): Service {
  return makeService('default', 'myapp', {
    clusterIP: '10.96.0.100',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    ...(affinity === undefined
      ? {}
      : {
          sessionAffinity: 'ClientIP' as const,
          sessionAffinityConfig: { clientIP: { timeoutSeconds: affinity } },
        }),
  });
}

/** A distinct pod-network client address per index. */
function client(i: number): string {
  return `10.${100 + ((i >> 16) & 7)}.${(i >> 8) & 255}.${i & 255}`;
}

test('30,000 new connections spread within ±2% of 1/3 over three endpoints (seeded)', (t) => {
  const px = proxier([myapp()], [THREE], { random: seededRandom(42) });
  const counts = new Map<string, number>();
  const N = 30000;
  for (let i = 0; i < N; i++) {
    const r = sendFirstPacket(
      px,
      { src: client(i), dst: '10.96.0.100', dport: 80 },
      1024 + (i % 60000),
    );
    counts.set(r.output, (counts.get(r.output) ?? 0) + 1);
  }
  t.deepEqual([...counts.keys()].sort(), [
    '10.244.1.10:8080',
    '10.244.2.10:8080',
    '10.244.3.10:8080',
  ]);
  t.log([...counts].map(([k, n]) => `${k} ${(n / N).toFixed(4)}`).join('  '));
  for (const [target, n] of counts) {
    t.true(Math.abs(n / N - 1 / 3) <= 0.02, `${target}: ${n}`);
  }
});

test('ClientIP affinity: a client sticks while it keeps connecting, then may move', (t) => {
  const clock = { now: 1000 };
  const px = proxier([myapp(60)], [THREE], { random: seededRandom(7), now: () => clock.now });
  const dst = { dst: '10.96.0.100', dport: 80 };
  const clients = Array.from({ length: 30 }, (_, i) => client(i));
  const first = clients.map((src) => sendFirstPacket(px, { src, ...dst }).output);
  t.true(new Set(first).size > 1, 'different clients land on different endpoints');
  // Every new connection inside the window refreshes the --set timestamp.
  for (let step = 0; step < 10; step++) {
    clock.now += 59;
    t.deepEqual(
      clients.map((src) => sendFirstPacket(px, { src, ...dst }, 2000 + step).output),
      first,
    );
  }
  // Idle for longer than timeoutSeconds: --rcheck --reap forgets the client.
  clock.now += 61;
  const after = clients.map((src) => sendFirstPacket(px, { src, ...dst }, 3000).output);
  t.true(
    after.some((o, i) => o !== first[i]),
    'some clients moved after the timeout',
  );
  // ...and they stick again to wherever they went.
  clock.now += 1;
  t.deepEqual(
    clients.map((src) => sendFirstPacket(px, { src, ...dst }, 3001).output),
    after,
  );
});

test('affinity timeout boundary: exactly timeoutSeconds idle still sticks', (t) => {
  const clock = { now: 0 };
  const px = proxier([myapp(60)], [THREE], { random: seededRandom(3), now: () => clock.now });
  const f = { src: '10.100.0.1', dst: '10.96.0.100', dport: 80 };
  const pinned = sendFirstPacket(px, f).output;
  clock.now = 60;
  t.is(sendFirstPacket(px, f).output, pinned);
  const tables = px.ruleSet.nat.chains.filter((c) => c.name.startsWith('KUBE-SEP-'));
  const holding = tables.filter((c) => px.recent.entries(c.name).length > 0);
  t.is(holding.length, 1, 'only the pinned endpoint remembers the client');
});

test('Local policy: external clients only reach local ready endpoints; pods reach all ready', (t) => {
  const o = localAffinityObjects();
  const px = proxier(o.services, o.slices, { random: seededRandom(5) });
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
