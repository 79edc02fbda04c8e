import test from 'ava';
import type { EndpointSlice, Service } from '../../src/api/types.ts';
import { BoundedFrequencyRunner } from '../../src/control/bounded-frequency-runner.ts';
import { ChangeTracker } from '../../src/control/change-tracker.ts';
import { MILLISECOND, SECOND, VirtualClock } from '../../src/control/clock.ts';
import { Cluster } from '../../src/control/cluster.ts';
import {
  serviceIgnored,
  serviceProjection,
  sliceIgnored,
  sliceProjection,
} from '../../src/control/proxy-feed.ts';
import { FakeProxier } from '../../src/proxy/fake.ts';
import { myapp, service } from './fixtures.ts';

// ---- change tracker ----------------------------------------------------------------

const svc = (patch: Partial<Service['spec']> = {}, extra: Partial<Service> = {}): Service => {
  const s = service('web', { app: 'web' }, undefined, {
    clusterIP: '10.96.5.5',
    clusterIPs: ['10.96.5.5'],
    ...patch,
  });
  return { ...s, ...extra };
};
const withRv = (s: Service, rv: string): Service => ({
  ...s,
  metadata: { ...s.metadata, resourceVersion: rv },
});

type Step = [Service | undefined, Service | undefined];
const trackerCases: [string, Step[], { pending: string[]; coalesced: number; noOps: number }][] = [
  ['add', [[undefined, svc()]], { pending: ['add'], coalesced: 0, noOps: 0 }],
  [
    'resourceVersion-only update is a no-op',
    [[withRv(svc(), '1'), withRv(svc(), '2')]],
    { pending: [], coalesced: 0, noOps: 1 },
  ],
  [
    'status-only update is a no-op',
    [[svc(), svc({}, { status: { loadBalancer: {} } })]],
    { pending: [], coalesced: 0, noOps: 1 },
  ],
  [
    'targetPort-only update is a no-op (ports come from endpoints)',
    [[svc(), svc({ ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] })]],
    { pending: [], coalesced: 0, noOps: 1 },
  ],
  [
    'add then delete before a sync = nothing',
    [
      [undefined, svc()],
      [svc(), undefined],
    ],
    { pending: [], coalesced: 1, noOps: 1 },
  ],
  [
    'two updates coalesce into one keeping the first previous',
    [
      [svc(), svc({ sessionAffinity: 'ClientIP' })],
      [
        svc({ sessionAffinity: 'ClientIP' }),
        svc({ type: 'NodePort', sessionAffinity: 'ClientIP' }),
      ],
    ],
    { pending: ['update None->NodePort'], coalesced: 1, noOps: 0 },
  ],
  [
    'change and change back = nothing',
    [
      [svc(), svc({ sessionAffinity: 'ClientIP' })],
      [svc({ sessionAffinity: 'ClientIP' }), svc()],
    ],
    { pending: [], coalesced: 1, noOps: 1 },
  ],
  [
    'headless add: kube-proxy ignores it',
    [[undefined, svc({ clusterIP: 'None', clusterIPs: ['None'] })]],
    { pending: [], coalesced: 0, noOps: 1 },
  ],
  [
    'labelled for another proxy: delivered as a delete',
    [
      [
        svc(),
        {
          ...svc(),
          metadata: {
            ...svc().metadata,
            labels: { 'service.kubernetes.io/service-proxy-name': 'other' },
          },
        },
      ],
    ],
    { pending: ['delete'], coalesced: 0, noOps: 0 },
  ],
];

for (const [name, steps, want] of trackerCases) {
  // With the cheap ignored() check (views built lazily) and without it: the same answers.
  for (const lazy of [false, true]) {
    test(`service change tracker${lazy ? ' (lazy views)' : ''}: ${name}`, (t) => {
      const tr = lazy
        ? new ChangeTracker<Service>(serviceProjection, serviceIgnored)
        : new ChangeTracker<Service>(serviceProjection);
      for (const [prev, cur] of steps) tr.update(prev, cur);
      const got = tr.drain().map((c) => {
        if (c.previous === undefined) return 'add';
        if (c.current === undefined) return 'delete';
        return c.previous.spec.type === c.current.spec.type
          ? 'update'
          : `update ${c.previous.spec.sessionAffinity}->${c.current.spec.type}`;
      });
      t.deepEqual(got, want.pending);
      t.is(tr.stats.coalesced, want.coalesced);
      t.is(tr.stats.noOps, want.noOps);
      t.is(tr.size, 0);
    });
  }
}

test('the ignored() checks agree with the projections returning null', (t) => {
  const svc = (over: Pick<Service['spec'], 'type' | 'clusterIP'>): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'default' },
    spec: { ports: [], sessionAffinity: 'None', ipFamilies: ['IPv4'], ...over },
  });
  for (const s of [
    svc({ type: 'ClusterIP', clusterIP: '10.96.0.5' }),
    svc({ type: 'ClusterIP', clusterIP: 'None' }),
    svc({ type: 'ClusterIP', clusterIP: '' }),
    svc({ type: 'ExternalName' }),
  ]) {
    t.is(serviceIgnored(s), serviceProjection(s) === null);
  }
  const slice = (labels: Record<string, string>, addressType = 'IPv4'): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'x', namespace: 'default', labels },
    addressType: addressType as EndpointSlice['addressType'],
    endpoints: [],
    ports: [],
  });
  for (const sl of [
    slice({ 'kubernetes.io/service-name': 's' }),
    slice({}),
    slice({ 'kubernetes.io/service-name': 's', 'service.kubernetes.io/headless': '' }),
    slice({ 'kubernetes.io/service-name': 's', 'service.kubernetes.io/service-proxy-name': 'x' }),
    slice({ 'kubernetes.io/service-name': 's' }, 'IPv6'),
  ]) {
    t.is(sliceIgnored(sl), sliceProjection(sl) === null);
  }
});

test('slice projection: readiness counts, hostname and targetRef do not; nil ready means ready', (t) => {
  const base: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'web-abcde',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'web' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: true } }],
  };
  const p = sliceProjection(base);
  const ep = (e: Partial<EndpointSlice['endpoints'][number]>): EndpointSlice => ({
    ...base,
    endpoints: [{ ...base.endpoints[0]!, ...e }],
  });
  t.is(
    sliceProjection(
      ep({ hostname: 'x', targetRef: { kind: 'Pod', name: 'p', namespace: 'default' } }),
    ),
    p,
  );
  t.is(sliceProjection(ep({ conditions: {} })), p);
  t.not(sliceProjection(ep({ conditions: { ready: false } })), p);
  t.not(sliceProjection(ep({ conditions: { ready: true, terminating: true } })), p);
  t.not(sliceProjection(ep({ nodeName: 'k8s-node01' })), p);
  t.is(
    sliceProjection({
      ...base,
      metadata: {
        ...base.metadata,
        labels: { 'kubernetes.io/service-name': 'web', 'service.kubernetes.io/headless': '' },
      },
    }),
    null,
  );
  t.is(sliceProjection({ ...base, metadata: { ...base.metadata, labels: {} } }), null);
});

// ---- bounded-frequency runner ------------------------------------------------------

const runnerCases: [
  string,
  { min: number; burst: number; requests: number[]; until: number },
  number[],
][] = [
  ['one request runs at once', { min: 1000, burst: 2, requests: [5], until: 100_000 }, [5]],
  [
    'requests at one instant fold into one run',
    { min: 1000, burst: 2, requests: [5, 5, 5], until: 100_000 },
    [5],
  ],
  [
    'burst of 2, then one per min interval',
    { min: 1000, burst: 2, requests: [0, 10, 20, 30], until: 100_000 },
    [0, 10, 1000],
  ],
  [
    'burst 1 defers the second run to min interval',
    { min: 1000, burst: 1, requests: [0, 10], until: 100_000 },
    [0, 1000],
  ],
  [
    'tokens refill over time',
    { min: 1000, burst: 1, requests: [0, 1500, 3000], until: 100_000 },
    [0, 1500, 3000],
  ],
  [
    'periodic run every max interval without requests',
    { min: 1000, burst: 2, requests: [], until: 25_000 },
    [10_000, 20_000],
  ],
];

for (const [name, o, want] of runnerCases) {
  test(`bounded-frequency runner: ${name}`, (t) => {
    const clock = new VirtualClock();
    const runs: number[] = [];
    const r = new BoundedFrequencyRunner(clock, () => runs.push(clock.now()), {
      minIntervalNs: o.min,
      maxIntervalNs: 10_000,
      burstRuns: o.burst,
    });
    r.start();
    const reqs = [...o.requests];
    for (;;) {
      const nextReq = reqs[0];
      const nextTimer = clock.nextTime();
      if (nextReq !== undefined && (nextTimer === undefined || nextReq <= nextTimer)) {
        clock.setNow(nextReq);
        reqs.shift();
        r.run();
        continue;
      }
      if (nextTimer === undefined || nextTimer > o.until) break;
      clock.fireNext(nextTimer);
    }
    // Periodic runs after the requested ones are cut at the first one (max interval).
    const requested = runs.filter((x) => o.requests.length === 0 || x < 10_000);
    t.deepEqual(requested, want);
    if (o.requests.length === 3 && o.requests[0] === 5) t.is(r.stats.coalesced, 2);
  });
}

// ---- the feed on a cluster -------------------------------------------------------------

test('first sync: existing services and slices, synced notices once, then sync(); headless ignored', (t) => {
  const c = new Cluster();
  c.apply([service('myapp-headless', { app: 'myapp' }, undefined, { clusterIP: 'None' })]);
  const p = new FakeProxier();
  const feed = c.attachProxier(p);
  t.deepEqual(p.ops(), [
    'serviceAdd',
    'serviceAdd',
    'sliceAdd',
    'sliceAdd',
    'servicesSynced',
    'slicesSynced',
    'sync',
  ]);
  t.deepEqual([...p.services.keys()].sort(), ['default/kubernetes', 'kube-system/kube-dns']);
  t.is(feed.stats.syncs, 1);
  t.is(feed.stats.serviceChanges, 2);
});

function zeroDelayCluster() {
  const c = new Cluster({ podStartDelayNs: 0, podReadyDelayNs: 0 });
  const p = new FakeProxier();
  const feed = c.attachProxier(p);
  c.apply(myapp());
  c.advance(5 * SECOND);
  p.reset();
  return { c, p, feed };
}

test('kill a pod: the replacement and the terminating one reach the proxier in exactly one sync', (t) => {
  const { c, p, feed } = zeroDelayCluster();
  const before = feed.stats;
  const victim = c.list('Pod', 'default')[0]!;
  c.delete('Pod', 'default', victim.metadata.name);
  t.deepEqual(p.ops(), ['sliceUpdate', 'sync']);
  const call = p.calls[0]!;
  if (call.op !== 'sliceUpdate') return t.fail();
  const now = call.slice.endpoints.map(
    (e) =>
      `${e.addresses[0]}${e.conditions.ready ? '+' : ''}${e.conditions.terminating ? 'T' : ''}`,
  );
  t.is(now.length, 4);
  t.true(now.includes(`${victim.status.podIP}T`));
  t.is(now.filter((x) => x.endsWith('+')).length, 3);
  const oldIps = call.old.endpoints.map((e) => e.addresses[0]);
  t.is(oldIps.length, 3);
  t.is(feed.stats.sliceChanges, before.sliceChanges + 1);
  t.is(feed.stats.syncs, before.syncs + 1);
});

test('no-op updates never reach the proxier', (t) => {
  const { c, p } = zeroDelayCluster();
  const s = c.get('Service', 'default', 'myapp')!;
  c.apply([
    {
      ...service('myapp', { app: 'myapp', release: 'stabel' }),
      metadata: { ...s.metadata, labels: { team: 'a' } },
    },
  ]);
  c.advance(2 * SECOND);
  t.deepEqual(p.ops(), []);
  // A real change does.
  c.apply([
    service('myapp', { app: 'myapp', release: 'stabel' }, undefined, {
      sessionAffinity: 'ClientIP',
    }),
  ]);
  c.advance(1 * SECOND);
  t.deepEqual(p.ops(), ['serviceUpdate', 'sync']);
});

test('changes within the min sync period are batched into the next allowed sync', (t) => {
  const c = new Cluster({ podStartDelayNs: 0, podReadyDelayNs: 0 });
  const p = new FakeProxier();
  const feed = c.attachProxier(p, { minSyncPeriodNs: 1 * SECOND, burstSyncs: 1 });
  c.apply(myapp());
  c.advance(5 * SECOND);
  p.reset();
  const pods = c.list('Pod', 'default');
  c.setPodReady('default', pods[0]!.metadata.name, false); // sync now (token available)
  c.advance(100 * MILLISECOND);
  c.setPodReady('default', pods[1]!.metadata.name, false); // deferred
  c.advance(100 * MILLISECOND);
  c.setPodReady('default', pods[2]!.metadata.name, false); // folded into the deferred run
  t.deepEqual(p.ops(), ['sliceUpdate', 'sync']);
  c.advance(1 * SECOND);
  t.deepEqual(p.ops(), ['sliceUpdate', 'sync', 'sliceUpdate', 'sync']);
  const last = p.calls[2]!;
  if (last.op !== 'sliceUpdate') return t.fail();
  t.is(last.slice.endpoints.filter((e) => !e.conditions.ready).length, 3);
  t.true(feed.stats.runsDeferred >= 1);
  // The second and third change hit the same pending slice entry.
  t.true(feed.stats.changesCoalesced >= 1);
});

test('periodic resync calls sync() with no changes every sync period', (t) => {
  const { c, p, feed } = zeroDelayCluster();
  c.advance(61 * SECOND);
  t.true(p.ops().length >= 2 && p.ops().every((o) => o === 'sync'), p.ops().join(','));
  t.true(feed.stats.periodicSyncs >= 2);
});

test('LoadBalancer ingress IPs are part of what kube-proxy sees', (t) => {
  const c = new Cluster();
  const p = new FakeProxier();
  c.attachProxier(p);
  c.advance(2 * SECOND);
  p.reset();
  c.apply([service('lb', { app: 'x' }, undefined, { type: 'LoadBalancer' })]);
  c.advance(2 * SECOND);
  const added = p.services.get('default/lb')!;
  t.deepEqual(added.status?.loadBalancer.ingress, [{ ip: '192.168.100.241' }]);
});
