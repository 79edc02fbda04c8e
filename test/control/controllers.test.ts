import test from 'ava';
import type { EndpointSlice, Pod } from '../../src/api/types.ts';
import { cidrContains, ipToU32, parseCidr } from '../../src/packet/addr.ts';
import { SECOND } from '../../src/control/clock.ts';
import { Cluster } from '../../src/control/cluster.ts';
import {
  MYAPP_LABELS,
  SAFE,
  container,
  deployment,
  endpoints,
  myapp,
  pod,
  service,
} from './fixtures.ts';

const NODE_CIDR: Record<string, string> = {
  'k8s-node01': '10.244.1.0/24',
  'k8s-node02': '10.244.2.0/24',
};

const appPods = (c: Cluster, app = 'myapp'): Pod[] =>
  c.list('Pod', 'default').filter((p) => p.metadata.labels?.['app'] === app);
const slicesOf = (c: Cluster, svc: string): EndpointSlice[] =>
  c
    .list('EndpointSlice', 'default')
    .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
const endpointView = (s: EndpointSlice): string[] =>
  s.endpoints.map((e) => {
    const c = e.conditions;
    return `${e.addresses[0]} ${c.ready ? 'ready' : '-'} ${c.serving ? 'serving' : '-'} ${c.terminating ? 'terminating' : '-'}`;
  });

test('the seed myapp Deployment: ReplicaSet, 3 pods on the workers with node-CIDR IPs', (t) => {
  const c = new Cluster();
  const results = c.apply(myapp());
  t.deepEqual(
    results.map((r) => r.action),
    ['created', 'created'],
  );
  const [rs] = c.list('ReplicaSet', 'default');
  const hash = rs!.metadata.labels!['pod-template-hash']!;
  t.is(rs!.metadata.name, `myapp-deploy-${hash}`);
  t.regex(hash, /^[456789bcdf]{1,10}$/);
  t.deepEqual(rs!.spec.selector.matchLabels, {
    app: 'myapp',
    release: 'stabel',
    'pod-template-hash': hash,
  });
  t.is(rs!.metadata.ownerReferences?.[0]?.name, 'myapp-deploy');
  c.advance(1 * SECOND);
  const pods = appPods(c);
  t.is(pods.length, 3);
  for (const p of pods) {
    t.regex(p.metadata.name, new RegExp(`^myapp-deploy-${hash}-${SAFE}{5}$`));
    t.deepEqual(p.metadata.labels, { ...MYAPP_LABELS, 'pod-template-hash': hash });
    t.is(p.status.phase, 'Running');
    t.true(p.spec.nodeName! in NODE_CIDR, p.spec.nodeName);
    t.true(cidrContains(parseCidr(NODE_CIDR[p.spec.nodeName!]!), ipToU32(p.status.podIP!)));
    t.is(p.status.hostIP, p.spec.nodeName === 'k8s-node01' ? '10.0.100.11' : '10.0.100.12');
  }
  // Spread: two pods on one worker, one on the other.
  const perNode = pods.map((p) => p.spec.nodeName).sort();
  t.not(perNode[0], perNode[2]);
});

test('endpoints turn ready once the readiness delay has passed', (t) => {
  const c = new Cluster({ podStartDelayNs: 500_000_000, podReadyDelayNs: 2 * SECOND });
  c.apply(myapp());
  const [placeholder] = slicesOf(c, 'myapp');
  t.deepEqual(placeholder!.endpoints, []);
  t.deepEqual(placeholder!.ports, []);
  c.advance(1 * SECOND); // running, not ready
  const [slice] = slicesOf(c, 'myapp');
  t.is(slice!.metadata.name, placeholder!.metadata.name); // updated in place, name kept
  t.is(slice!.endpoints.length, 3);
  t.true(slice!.endpoints.every((e) => !e.conditions.ready && !e.conditions.serving));
  t.is(c.get('Endpoints', 'default', 'myapp')!.subsets[0]!.notReadyAddresses?.length, 3);
  c.advance(2 * SECOND);
  const [ready] = slicesOf(c, 'myapp');
  t.deepEqual(
    endpointView(ready!).map((v) => v.split(' ').slice(1).join(' ')),
    Array(3).fill('ready serving -'),
  );
  t.deepEqual(ready!.ports, [{ name: 'http', port: 80, protocol: 'TCP' }]);
  t.is(
    ready!.metadata.labels!['endpointslice.kubernetes.io/managed-by'],
    'endpointslice-controller.k8s.io',
  );
  t.regex(ready!.metadata.name, new RegExp(`^myapp-${SAFE}{5}$`));
  const e = ready!.endpoints[0]!;
  t.is(e.targetRef?.kind, 'Pod');
  t.true(e.nodeName === 'k8s-node01' || e.nodeName === 'k8s-node02');
  const ep = c.get('Endpoints', 'default', 'myapp')!;
  t.is(ep.subsets.length, 1);
  t.is(ep.subsets[0]!.addresses?.length, 3);
  t.is(ep.subsets[0]!.notReadyAddresses, undefined);
  t.is(c.get('Deployment', 'default', 'myapp-deploy')!.status?.readyReplicas, 3);
});

test('killing a pod: Terminating, a replacement with a new name and IP, endpoints follow', (t) => {
  const c = new Cluster();
  c.apply(myapp());
  c.advance(3 * SECOND);
  const before = appPods(c);
  const victim = before[0]!;
  c.delete('Pod', 'default', victim.metadata.name);
  const dying = c.get('Pod', 'default', victim.metadata.name)!;
  t.is(dying.metadata.deletionTimestamp, c.now() + 30 * SECOND);
  const replacement = appPods(c).find(
    (p) => !before.some((b) => b.metadata.name === p.metadata.name),
  )!;
  t.truthy(replacement);
  c.advance(3 * SECOND);
  const fresh = c.get('Pod', 'default', replacement.metadata.name)!;
  t.not(fresh.status.podIP, victim.status.podIP);
  t.false(before.some((b) => b.status.podIP === fresh.status.podIP));
  const view = endpointView(slicesOf(c, 'myapp')[0]!);
  t.true(view.includes(`${victim.status.podIP} - serving terminating`), view.join('|'));
  t.true(view.includes(`${fresh.status.podIP} ready serving -`), view.join('|'));
  // The Endpoints object drops terminating pods at once.
  const addrs = c.get('Endpoints', 'default', 'myapp')!.subsets[0]!.addresses!.map((a) => a.ip);
  t.false(addrs.includes(victim.status.podIP!));
  t.is(addrs.length, 3);
  c.advance(30 * SECOND); // grace period over: gone
  t.is(c.get('Pod', 'default', victim.metadata.name), undefined);
  t.is(slicesOf(c, 'myapp')[0]!.endpoints.length, 3);
});

test('scale up and down', (t) => {
  const c = new Cluster();
  c.apply(myapp());
  c.advance(3 * SECOND);
  c.scale('default', 'myapp-deploy', 5);
  c.advance(3 * SECOND);
  t.is(appPods(c).length, 5);
  t.is(slicesOf(c, 'myapp')[0]!.endpoints.filter((e) => e.conditions.ready).length, 5);
  c.scale('default', 'myapp-deploy', 2);
  const terminating = appPods(c).filter((p) => p.metadata.deletionTimestamp !== undefined);
  t.is(terminating.length, 3);
  t.is(c.list('ReplicaSet', 'default')[0]!.spec.replicas, 2);
  c.advance(31 * SECOND);
  t.is(appPods(c).length, 2);
  t.is(c.get('Deployment', 'default', 'myapp-deploy')!.status?.replicas, 2);
});

test('a template change rolls out a new ReplicaSet; rolling back reuses the old one', (t) => {
  const c = new Cluster({ defaultTerminationGracePeriodSeconds: 1 });
  c.apply(myapp());
  c.advance(3 * SECOND);
  const [oldRs] = c.list('ReplicaSet', 'default');
  const [d, s] = myapp();
  d.spec.template.spec.containers = [container(undefined, 'wangyanglinux/myapp:v3')];
  d.spec.template.spec.terminationGracePeriodSeconds = 1;
  const [r] = c.apply([d, s]);
  t.is(r!.action, 'configured');
  t.is(c.get('Deployment', 'default', 'myapp-deploy')!.metadata.generation, 2);
  c.advance(5 * SECOND);
  const sets = c.list('ReplicaSet', 'default');
  t.is(sets.length, 2);
  const newRs = sets.find((x) => x.metadata.name !== oldRs!.metadata.name)!;
  t.is(newRs.spec.replicas, 3);
  t.is(c.get('ReplicaSet', 'default', oldRs!.metadata.name)!.spec.replicas, 0);
  t.is(newRs.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  const hash = newRs.metadata.labels!['pod-template-hash'];
  const live = appPods(c).filter((p) => p.metadata.deletionTimestamp === undefined);
  t.is(live.length, 3);
  t.true(live.every((p) => p.metadata.labels!['pod-template-hash'] === hash));
  t.true(live.every((p) => p.spec.containers[0]!.image === 'wangyanglinux/myapp:v3'));
  // Roll back: the first template's ReplicaSet comes back with revision 3.
  c.apply(myapp());
  c.advance(5 * SECOND);
  const back = c.get('ReplicaSet', 'default', oldRs!.metadata.name)!;
  t.is(back.spec.replicas, 3);
  t.is(back.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  t.is(c.list('ReplicaSet', 'default').length, 2);
});

test('named targetPort resolves per pod by container port name and protocol', (t) => {
  const c = new Cluster();
  c.apply([
    deployment(
      'a',
      2,
      { app: 'web', v: 'a' },
      {
        selector: { app: 'web', v: 'a' },
        containers: [container([{ name: 'web', containerPort: 8080, protocol: 'TCP' }])],
      },
    ),
    deployment(
      'b',
      1,
      { app: 'web', v: 'b' },
      {
        selector: { app: 'web', v: 'b' },
        containers: [container([{ name: 'web', containerPort: 9090, protocol: 'TCP' }])],
      },
    ),
    // Same name, wrong protocol: does not resolve (a port-less slice, no Endpoints address).
    deployment(
      'c',
      1,
      { app: 'web', v: 'c' },
      {
        selector: { app: 'web', v: 'c' },
        containers: [container([{ name: 'web', containerPort: 7070, protocol: 'UDP' }])],
      },
    ),
    service('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 'web' }]),
  ]);
  c.advance(3 * SECOND);
  const slices = slicesOf(c, 'web');
  const byPort = new Map(
    slices.map((s) => [s.ports.map((p) => p.port).join(','), s.endpoints.length]),
  );
  // Like the real controller, slices group endpoints by resolved port set.
  t.deepEqual([...byPort].sort(), [
    ['', 1],
    ['8080', 2],
    ['9090', 1],
  ]);
  const ep = c.get('Endpoints', 'default', 'web')!;
  t.deepEqual(
    ep.subsets.map((s) => `${s.ports!.map((p) => p.port).join(',')}:${s.addresses!.length}`).sort(),
    ['8080:2', '9090:1'],
  );
});

test('pods and services are many-to-many', (t) => {
  const c = new Cluster();
  const [d] = myapp();
  c.apply([
    d,
    service('myapp', { app: 'myapp', release: 'stabel' }),
    service('myapp-np', { app: 'myapp' }, undefined, { type: 'NodePort' }),
    service('other', { app: 'other' }),
  ]);
  c.advance(3 * SECOND);
  const ips = (svc: string) =>
    slicesOf(c, svc)
      .flatMap((s) => s.endpoints.map((e) => e.addresses[0]))
      .sort();
  t.is(ips('myapp').length, 3);
  t.deepEqual(ips('myapp-np'), ips('myapp'));
  t.deepEqual(ips('other'), []);
});

test('readiness can be flipped by hand; publishNotReadyAddresses keeps unready pods ready', (t) => {
  const c = new Cluster();
  const [d] = myapp();
  c.apply([
    d,
    service('myapp', { app: 'myapp' }),
    service('pub', { app: 'myapp' }, undefined, { publishNotReadyAddresses: true }),
  ]);
  c.advance(3 * SECOND);
  const p = appPods(c)[0]!;
  c.setPodReady('default', p.metadata.name, false);
  const find = (svc: string) =>
    slicesOf(c, svc)[0]!.endpoints.find((e) => e.addresses[0] === p.status.podIP)!;
  t.is(find('myapp').conditions.ready, false);
  t.is(find('pub').conditions.ready, true);
  t.is(find('pub').conditions.serving, false);
  t.true(
    c
      .get('Endpoints', 'default', 'pub')!
      .subsets[0]!.addresses!.some((a) => a.ip === p.status.podIP),
  );
  t.true(
    c
      .get('Endpoints', 'default', 'myapp')!
      .subsets[0]!.notReadyAddresses!.some((a) => a.ip === p.status.podIP),
  );
  c.setPodReady('default', p.metadata.name, true);
  t.is(find('myapp').conditions.ready, true);
});

test('headless Service: labelled slice, hostname for pods whose subdomain names it', (t) => {
  const c = new Cluster();
  c.apply([
    pod('web-0', { app: 'db' }, undefined, { hostname: 'web-0', subdomain: 'db' }),
    pod('web-1', { app: 'db' }),
    service('db', { app: 'db' }, [{ name: 'pg', port: 5432, targetPort: 5432 }], {
      clusterIP: 'None',
    }),
  ]);
  c.advance(3 * SECOND);
  const [s] = slicesOf(c, 'db');
  t.is(s!.metadata.labels!['service.kubernetes.io/headless'], '');
  t.deepEqual(s!.endpoints.map((e) => e.hostname ?? '-').sort(), ['-', 'web-0']);
  t.is(
    c
      .get('Endpoints', 'default', 'db')!
      .subsets[0]!.addresses!.filter((a) => a.hostname === 'web-0').length,
    1,
  );
});

test('pods sharing an address (hostNetwork) are one Endpoints address: the last one listed', (t) => {
  const c = new Cluster();
  const node = 'k8s-node01';
  c.apply([
    pod('host-a', { app: 'agent' }, undefined, { hostNetwork: true, nodeName: node }),
    pod('host-b', { app: 'agent' }, undefined, { hostNetwork: true, nodeName: node }),
    pod('other', { app: 'agent' }),
    service('agent', { app: 'agent' }, [{ name: 'http', port: 80, targetPort: 80 }]),
  ]);
  c.advance(3 * SECOND);
  const addresses = c.get('Endpoints', 'default', 'agent')!.subsets[0]!.addresses!;
  t.deepEqual(
    addresses.map((a) => `${a.ip} ${a.targetRef!.name}`),
    ['10.0.100.11 host-b', `${c.get('Pod', 'default', 'other')!.status.podIP} other`].sort(),
  );
});

test('a Service without selector gets no managed endpoints; hand-written Endpoints are mirrored', (t) => {
  const c = new Cluster();
  c.apply([
    service('ext', undefined, [{ name: 'http', port: 80, targetPort: 8080 }]),
    pod('x', { app: 'ext' }),
  ]);
  c.advance(3 * SECOND);
  t.deepEqual(slicesOf(c, 'ext'), []);
  t.is(c.get('Endpoints', 'default', 'ext'), undefined);
  c.apply([endpoints('ext', ['192.168.1.5', '192.168.1.6'], 8080)]);
  const [m] = slicesOf(c, 'ext');
  t.is(
    m!.metadata.labels!['endpointslice.kubernetes.io/managed-by'],
    'endpointslicemirroring-controller.k8s.io',
  );
  t.deepEqual(
    m!.endpoints.map((e) => e.addresses[0]),
    ['192.168.1.5', '192.168.1.6'],
  );
  t.deepEqual(m!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  c.delete('Endpoints', 'default', 'ext');
  t.deepEqual(slicesOf(c, 'ext'), []);
});

test('more than 100 endpoints are split over several slices', (t) => {
  const c = new Cluster({ podStartDelayNs: 0, podReadyDelayNs: 0, systemPods: false });
  c.apply([deployment('big', 250, { app: 'big' }), service('big', { app: 'big' })]);
  c.advance(1 * SECOND);
  const sizes = slicesOf(c, 'big')
    .map((s) => s.endpoints.length)
    .sort((a, b) => b - a);
  t.deepEqual(sizes, [100, 100, 50]);
  const all = slicesOf(c, 'big').flatMap((s) => s.endpoints.map((e) => e.addresses[0]));
  t.is(new Set(all).size, 250);
  c.scale('default', 'big', 100);
  c.advance(31 * SECOND);
  t.is(
    slicesOf(c, 'big').reduce((n, s) => n + s.endpoints.length, 0),
    100,
  );
});

test('garbage collection: deleting a Deployment or Service removes what it owns', (t) => {
  const c = new Cluster();
  c.apply(myapp());
  c.advance(3 * SECOND);
  c.delete('Deployment', 'default', 'myapp-deploy');
  t.deepEqual(c.list('ReplicaSet', 'default'), []);
  t.true(appPods(c).every((p) => p.metadata.deletionTimestamp !== undefined));
  c.advance(31 * SECOND);
  t.deepEqual(appPods(c), []);
  t.deepEqual(slicesOf(c, 'myapp')[0]!.endpoints, []); // placeholder remains while the Service does
  c.delete('Service', 'default', 'myapp');
  t.deepEqual(slicesOf(c, 'myapp'), []);
  t.is(c.get('Endpoints', 'default', 'myapp'), undefined);
});

test('a pod nothing can host stays Pending with the scheduler reason', (t) => {
  const c = new Cluster();
  c.apply([pod('lost', { app: 'x' }, undefined, { nodeSelector: { disk: 'ssd' } })]);
  c.advance(3 * SECOND);
  const p = c.get('Pod', 'default', 'lost')!;
  t.is(p.status.phase, 'Pending');
  t.is(p.spec.nodeName, undefined);
  const cond = p.status.conditions!.find((x) => x.type === 'PodScheduled')!;
  t.is(cond.status, 'False');
  t.regex(cond.message!, /^0\/3 nodes are available: .*1 node\(s\) had untolerated taint/);
});

test('Recreate strategy starts new pods only once the old ones are gone', (t) => {
  const c = new Cluster({ podStartDelayNs: 0, podReadyDelayNs: 0 });
  const [d] = myapp();
  d.spec.strategy = { type: 'Recreate' };
  d.spec.template.spec.terminationGracePeriodSeconds = 10;
  c.apply([d]);
  c.advance(1 * SECOND);
  const v3 = structuredClone(d);
  v3.spec.template.spec.containers = [container(undefined, 'wangyanglinux/myapp:v3')];
  c.apply([v3]);
  const images = () =>
    appPods(c)
      .map(
        (p) =>
          `${p.spec.containers[0]!.image.split(':')[1]}${p.metadata.deletionTimestamp ? '-' : '+'}`,
      )
      .sort();
  t.deepEqual(images(), ['v2-', 'v2-', 'v2-']);
  c.advance(5 * SECOND);
  t.deepEqual(images(), ['v2-', 'v2-', 'v2-']);
  c.advance(6 * SECOND);
  t.deepEqual(images(), ['v3+', 'v3+', 'v3+']);
});

test('a posted pod status is ignored; re-applying the same manifests is unchanged', (t) => {
  const c = new Cluster({ podStartDelayNs: 5 * SECOND });
  const p = pod('bare', { app: 'bare' });
  p.status = { phase: 'Running', podIP: '1.2.3.4' };
  const [created] = c.apply([p]);
  t.deepEqual((created!.object as typeof p).status, { phase: 'Pending' });
  t.is(c.get('Pod', 'default', 'bare')!.status.phase, 'Pending');
  c.apply(myapp());
  t.deepEqual(
    c.apply([p, ...myapp()]).map((r) => r.action),
    ['unchanged', 'unchanged', 'unchanged'],
  );
});
