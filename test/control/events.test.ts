import test from 'ava';
import { readFileSync } from 'node:fs';
import { loadManifests } from '../../src/api/load.ts';
import type { Event, KubeObject, Pod } from '../../src/api/types.ts';
import { toApiObject } from '../../src/api/wire.ts';
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import { SECOND } from '../../src/control/clock.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { AGGREGATE_PREFIX, EventSource } from '../../src/control/events.ts';
import { renderGet } from '../../src/control/kubectl-get.ts';
import { deployment, service } from './fixtures.ts';

const SEED = 'scenarios/seed/manifests';
const MINUTE = 60 * SECOND;

function seedDeployment(): KubeObject[] {
  const r = loadManifests([`${SEED}/svc-deployment.yaml`]);
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.objects;
}

const events = (c: Cluster, ns = 'default'): Event[] => c.list('Event', ns);
const about = (c: Cluster, kind: string, name: string): Event[] =>
  events(c).filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name);
const reasons = (evs: readonly Event[]): string[] => evs.map((e) => e.reason ?? '').sort();
const pods = (c: Cluster): Pod[] => c.list('Pod', 'default');

/** The seed's myapp Deployment applied, its pods up. */
function seedCluster(opts: ConstructorParameters<typeof Cluster>[0] = {}): Cluster {
  const c = new Cluster(opts);
  c.apply(seedDeployment());
  c.advance(5 * SECOND);
  return c;
}

test('svc-deployment.yaml: scheduler, kubelet, replicaset and deployment events with their objects', (t) => {
  const c = seedCluster();
  const d = c.get('Deployment', 'default', 'myapp-deploy')!;
  const rs = c.list('ReplicaSet', 'default')[0]!;
  t.is(pods(c).length, 3);

  const scaling = about(c, 'Deployment', 'myapp-deploy');
  t.is(scaling.length, 1);
  t.is(scaling[0]!.reason, 'ScalingReplicaSet');
  t.is(scaling[0]!.message, `Scaled up replica set ${rs.metadata.name} from 0 to 3`);
  t.deepEqual(scaling[0]!.source, { component: 'deployment-controller' });
  t.is(scaling[0]!.involvedObject.uid, d.metadata.uid);
  t.is(scaling[0]!.involvedObject.apiVersion, 'apps/v1');

  const created = about(c, 'ReplicaSet', rs.metadata.name);
  t.deepEqual(reasons(created), ['SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulCreate']);
  t.deepEqual(
    created.map((e) => e.message).sort(),
    pods(c).map((p) => `Created pod: ${p.metadata.name}`),
  );
  for (const e of created) {
    t.is(e.involvedObject.uid, rs.metadata.uid);
    t.is(e.reportingComponent, 'replicaset-controller');
  }

  for (const p of pods(c)) {
    const node = p.spec.nodeName!;
    const evs = about(c, 'Pod', p.metadata.name);
    t.deepEqual(reasons(evs), ['Created', 'Pulled', 'Scheduled', 'Started']);
    for (const e of evs) {
      t.is(e.metadata.namespace, 'default');
      t.is(e.involvedObject.uid, p.metadata.uid);
      t.is(e.involvedObject.namespace, 'default');
      t.is(e.involvedObject.apiVersion, 'v1');
      t.regex(e.metadata.name, new RegExp(`^${p.metadata.name}\\.[0-9a-f]{16}$`));
      t.is(e.type, 'Normal');
    }
    const by = (r: string): Event => evs.find((e) => e.reason === r)!;
    const scheduled = by('Scheduled');
    t.is(scheduled.message, `Successfully assigned default/${p.metadata.name} to ${node}`);
    t.is(scheduled.reportingComponent, 'default-scheduler');
    t.is(scheduled.reportingInstance, 'default-scheduler-k8s-master01');
    t.is(scheduled.action, 'Binding');
    t.deepEqual(scheduled.source, {});
    t.is(scheduled.firstTimestamp, null);
    t.is(typeof scheduled.eventTime, 'number');
    t.is(
      by('Pulled').message,
      'Container image "wangyanglinux/myapp:v2" already present on machine',
    );
    t.is(by('Created').message, 'Created container myapp');
    t.is(by('Started').message, 'Started container myapp');
    for (const r of ['Pulled', 'Created', 'Started']) {
      const e = by(r);
      t.is(e.involvedObject.fieldPath, 'spec.containers{myapp}');
      t.deepEqual(e.source, { component: 'kubelet', host: node });
      t.is(e.reportingComponent, 'kubelet');
      t.is(e.reportingInstance, node);
      t.is(e.count, 1);
      t.is(e.eventTime, null);
    }
  }
  // Every event has a name of its own.
  const names = events(c).map((e) => e.metadata.name);
  t.is(new Set(names).size, names.length);
  // System pods started at bootstrap have their kubelet events in kube-system.
  t.true(events(c, 'kube-system').some((e) => e.involvedObject.name?.startsWith('coredns-')));
});

test('scaling down: SuccessfulDelete for each victim, Killing for its container', (t) => {
  const c = seedCluster();
  const rs = c.list('ReplicaSet', 'default')[0]!;
  const before = new Set(pods(c).map((p) => p.metadata.name));
  c.scale('default', 'myapp-deploy', 1);
  const kept = new Set(
    pods(c)
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name),
  );
  const victims = [...before].filter((n) => !kept.has(n)).sort();
  t.is(victims.length, 2);
  const deleted = about(c, 'ReplicaSet', rs.metadata.name).filter(
    (e) => e.reason === 'SuccessfulDelete',
  );
  t.deepEqual(
    deleted.map((e) => e.message).sort(),
    victims.map((n) => `Deleted pod: ${n}`),
  );
  for (const v of victims) {
    const killing = about(c, 'Pod', v).filter((e) => e.reason === 'Killing');
    t.is(killing.length, 1);
    t.is(killing[0]!.message, 'Stopping container myapp');
    t.is(killing[0]!.involvedObject.fieldPath, 'spec.containers{myapp}');
    t.is(killing[0]!.source?.component, 'kubelet');
  }
  const scaling = about(c, 'Deployment', 'myapp-deploy').map((e) => e.message);
  t.true(scaling.includes(`Scaled down replica set ${rs.metadata.name} from 3 to 1`));
  // The pods are gone after their grace period; their events stay.
  c.advance(31 * SECOND);
  t.is(pods(c).length, 1);
  for (const v of victims) t.true(about(c, 'Pod', v).length > 0);
});

test('the same event again bumps count and lastTimestamp of the first (an update)', (t) => {
  const c = new Cluster();
  const svc = service('lb', { app: 'x' });
  c.apply([svc]);
  const obj = c.get('Service', 'default', 'lb')!;
  const src = new EventSource('test-controller');
  const seen: string[] = [];
  c.store.watch('Event', (ev) => seen.push(ev.type), c.store.resourceVersion);
  c.events.event(src, obj, 'Warning', 'Trouble', 'it broke');
  c.settle();
  c.advance(5 * SECOND);
  c.events.event(src, obj, 'Warning', 'Trouble', 'it broke');
  c.settle();
  const evs = about(c, 'Service', 'lb').filter((e) => e.reason === 'Trouble');
  t.is(evs.length, 1);
  t.is(evs[0]!.count, 2);
  t.is(evs[0]!.firstTimestamp, evs[0]!.lastTimestamp! - 5 * SECOND);
  t.deepEqual(seen, ['ADDED', 'MODIFIED']);
  // Another message is another event.
  c.events.event(src, obj, 'Warning', 'Trouble', 'it broke again');
  c.settle();
  t.is(about(c, 'Service', 'lb').filter((e) => e.reason === 'Trouble').length, 2);
});

test('ten similar events in ten minutes become one "(combined from similar events)" event', (t) => {
  const c = new Cluster();
  c.apply([deployment('big', 12, { app: 'big' })]);
  c.advance(5 * SECOND);
  const rs = c.list('ReplicaSet', 'default')[0]!;
  const creates = about(c, 'ReplicaSet', rs.metadata.name).filter(
    (e) => e.reason === 'SuccessfulCreate',
  );
  const combined = creates.filter((e) => e.message!.startsWith(AGGREGATE_PREFIX));
  t.is(creates.length - combined.length, 9, 'the first nine stand alone');
  t.is(combined.length, 1);
  t.is(combined[0]!.count, 3, 'the 10th, 11th and 12th are counted on the combined event');
  const last = pods(c).map((p) => p.metadata.name);
  t.regex(combined[0]!.message!, /^\(combined from similar events\): Created pod: big-/);
  t.true(last.some((n) => combined[0]!.message!.endsWith(n)));
});

test('the scheduler: FailedScheduling; isomorphic ones make a series', (t) => {
  const c = new Cluster();
  const d = deployment('picky', 1, { app: 'picky' });
  d.spec.template.spec.nodeSelector = { disk: 'ssd' };
  c.apply([d]);
  const name = pods(c)[0]!.metadata.name;
  const failed = () => about(c, 'Pod', name).filter((e) => e.reason === 'FailedScheduling');
  t.is(failed().length, 1);
  const first = failed()[0]!;
  t.is(first.type, 'Warning');
  t.is(first.action, 'Scheduling');
  const pod = pods(c)[0]!;
  t.is(first.message, pod.status.conditions?.find((x) => x.type === 'PodScheduled')?.message);
  // Node changes make the scheduler try again. The first failure wrote the pod's
  // condition, so the pod it regards is another version: a new event; the next attempt
  // regards the same version as that one, and turns it into a series.
  const touchNode = (v: string): void => {
    const n = c.get('Node', undefined, 'k8s-node01')!;
    c.store.update({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, v } } });
    c.advance(SECOND);
  };
  touchNode('1');
  touchNode('2');
  const evs = failed();
  t.is(evs.length, 2);
  const second = evs.find((e) => e.metadata.name !== first.metadata.name)!;
  t.is(second.series?.count, 2);
  const out = renderGet(c, 'events', [], { output: 'wide' }).stdout;
  const rows = out.split('\n').filter((l) => l.includes('FailedScheduling'));
  t.is(rows.length, 2);
  for (const r of rows) {
    t.regex(
      r,
      /Warning\s+FailedScheduling\s+pod\/picky-\S+\s+default-scheduler, default-scheduler-k8s-master01\s+0\/3 nodes are available: .*\s+[12]\s+picky-\S+$/,
    );
  }
  t.true(
    rows.some((r) => /\s2\s+picky-\S+$/.test(r)),
    'the series counts 2',
  );
});

test('at most maxEvents are kept; the least recently written are deleted first', (t) => {
  const c = new Cluster({ maxEvents: 10, systemPods: false, coreDNS: false });
  const deletedNames: string[] = [];
  c.store.watch('Event', (ev) => {
    if (ev.type === 'DELETED') deletedNames.push(ev.object.metadata.name);
  });
  c.apply(seedDeployment());
  c.advance(5 * SECOND);
  const all = c.list('Event', 'default');
  // 1 ScalingReplicaSet + 3 SuccessfulCreate + 3 x (Scheduled, Pulled, Created, Started).
  t.is(all.length, 10);
  t.is(c.events.size, 10);
  // The newest survive: every pod's Started.
  t.is(all.filter((e) => e.reason === 'Started').length, 3);
  // Written, then deleted through the store (watchers saw it go), or never written at all.
  for (const n of deletedNames) t.false(all.some((e) => e.metadata.name === n));
});

test('events expire an hour after their last write', (t) => {
  const c = seedCluster();
  const n = events(c).length;
  t.true(n > 0);
  c.advance(59 * MINUTE);
  t.is(events(c).length, n);
  // A repeat keeps one alive past the hour.
  const d = c.get('Deployment', 'default', 'myapp-deploy')!;
  const src = new EventSource('test-controller');
  c.events.event(src, d, 'Normal', 'Ping', 'ping');
  c.settle();
  c.advance(2 * MINUTE);
  c.events.event(src, d, 'Normal', 'Ping', 'ping');
  c.settle();
  c.advance(2 * MINUTE);
  const left = events(c);
  t.deepEqual(
    left.map((e) => e.reason),
    ['Ping'],
  );
  t.is(left[0]!.count, 2);
  t.is(events(c, 'kube-system').length, 0);
});

test('deleting a namespace deletes its events', (t) => {
  const c = new Cluster();
  c.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } },
    deployment('app', 2, { app: 'x' }, { namespace: 'team' }),
  ]);
  c.advance(5 * SECOND);
  t.true(c.list('Event', 'team').length > 0);
  c.delete('Namespace', undefined, 'team');
  c.advance(40 * SECOND);
  t.is(c.list('Event', 'team').length, 0);
});

test('kubectl get events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; -o wide adds the rest', (t) => {
  const c = seedCluster();
  const p = pods(c)[0]!.metadata.name;
  const out = renderGet(c, 'ev', [], {}).stdout;
  const lines = out.trimEnd().split('\n');
  t.regex(lines[0]!, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
  t.regex(
    out,
    new RegExp(
      `\\n5s\\s+Normal\\s+Scheduled\\s+pod/${p}\\s+Successfully assigned default/${p} to k8s-node0\\d\\n`,
    ),
  );
  t.regex(
    out,
    /\n5s\s+Normal\s+ScalingReplicaSet\s+deployment\/myapp-deploy\s+Scaled up replica set myapp-deploy-\w+ from 0 to 3\n/,
  );
  const wide = renderGet(c, 'events', [], { output: 'wide' }).stdout;
  const wl = wide.trimEnd().split('\n');
  t.regex(
    wl[0]!,
    /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+SUBOBJECT\s+SOURCE\s+MESSAGE\s+FIRST SEEN\s+COUNT\s+NAME$/,
  );
  t.regex(
    wide,
    new RegExp(
      `\\n4s\\s+Normal\\s+Started\\s+pod/${p}\\s+spec\\.containers\\{myapp\\}\\s+kubelet, k8s-node0\\d\\s+Started container myapp\\s+4s\\s+1\\s+${p}\\.[0-9a-f]{16}\\n`,
    ),
  );
  t.regex(
    wide,
    /\n5s\s+Normal\s+SuccessfulCreate\s+replicaset\/myapp-deploy-\w+\s+replicaset-controller\s+Created pod: /,
  );
  t.is(
    lookupCount(renderGet(c, 'event', [], { allNamespaces: true }).stdout),
    events(c).length + events(c, 'kube-system').length,
  );
});

const lookupCount = (out: string): number => out.trimEnd().split('\n').length - 1;

test('the API shape: RFC 3339 timestamps, eventTime null for legacy events, micro-seconds for new ones', (t) => {
  const c = seedCluster();
  const p = pods(c)[0]!.metadata.name;
  const started = about(c, 'Pod', p).find((e) => e.reason === 'Started')!;
  const api = toApiObject(started);
  t.regex(api['firstTimestamp'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(api['eventTime'], null);
  t.is(api['count'], 1);
  t.is(api['reportingInstance'], started.source?.host);
  const scheduled = toApiObject(about(c, 'Pod', p).find((e) => e.reason === 'Scheduled')!);
  t.regex(scheduled['eventTime'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.is(scheduled['firstTimestamp'], null);
  t.is(scheduled['lastTimestamp'], null);
  t.deepEqual(scheduled['source'], {});
});

test('determinism: events draw nothing from the cluster Rng; pod names are the golden ones', (t) => {
  const run = (recordEvents: boolean) => {
    const c = new Cluster({ seed: 7, recordEvents });
    c.apply(seedDeployment());
    c.advance(3 * SECOND);
    c.scale('default', 'myapp-deploy', 5);
    c.advance(40 * SECOND);
    return c;
  };
  const on = run(true);
  const off = run(false);
  t.is(on.rng.draws, off.rng.draws, 'the same number of draws from the cluster Rng');
  t.deepEqual(
    pods(on).map((p) => [p.metadata.name, p.metadata.uid, p.status.podIP]),
    pods(off).map((p) => [p.metadata.name, p.metadata.uid, p.status.podIP]),
  );
  t.is(off.list('Event', 'default').length, 0);
  // Same seed, same events, byte for byte (uids from the recorder's own generator).
  t.is(
    JSON.stringify(run(true).list('Event', 'default')),
    JSON.stringify(on.list('Event', 'default')),
  );
  // The names the golden `kubectl get pods -o wide` file holds (written before events existed).
  const golden = readFileSync('test/cli/golden/get-pods-wide.txt', 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0]);
  const c = clusterFromFiles({
    files: ['svc-deployment.yaml', 'svc.yaml', 'svc-none.yaml', 'ex.yaml'].map(
      (f) => `${SEED}/${f}`,
    ),
  });
  t.true(c.list('Event', 'default').length > 0);
  t.deepEqual(
    pods(c).map((p) => p.metadata.name),
    golden,
  );
});

test('recordEvents: false records nothing', (t) => {
  const c = seedCluster({ recordEvents: false });
  t.is(c.store.count('Event'), 0);
  t.is(c.events.stats.recorded, 0);
});

test('LoadBalancer Services: MetalLB-style IPAllocated, and AllocationFailed when the pool is empty', (t) => {
  const c = new Cluster({ loadBalancerPool: '192.168.100.240/30' }); // two usable addresses
  const lb = (name: string) => service(name, { app: name }, undefined, { type: 'LoadBalancer' });
  c.apply([lb('a'), lb('b'), lb('c')]);
  const msg = (name: string) => about(c, 'Service', name).map((e) => `${e.reason}: ${e.message}`);
  t.deepEqual(msg('a'), ['IPAllocated: Assigned IP ["192.168.100.241"]']);
  t.deepEqual(msg('b'), ['IPAllocated: Assigned IP ["192.168.100.242"]']);
  t.deepEqual(msg('c'), [
    'AllocationFailed: Failed to allocate IP for "default/c": no available IPs',
  ]);
  const failed = about(c, 'Service', 'c')[0]!;
  t.is(failed.type, 'Warning');
  t.is(failed.source?.component, 'metallb-controller');
  c.delete('Service', 'default', 'a');
  t.deepEqual(msg('c').sort(), [
    'AllocationFailed: Failed to allocate IP for "default/c": no available IPs',
    'IPAllocated: Assigned IP ["192.168.100.241"]',
  ]);
});
