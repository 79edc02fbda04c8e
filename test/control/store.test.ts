import test from 'ava';
import type { Namespace } from '../../src/api/types.ts';
import { VirtualClock } from '../../src/control/clock.ts';
import { ApiError } from '../../src/control/errors.ts';
import { Rng } from '../../src/control/rng.ts';
import { Store } from '../../src/control/store.ts';
import type { WatchEvent } from '../../src/control/store.ts';
import { deployment, pod, service } from './fixtures.ts';

function newStore(opts: ConstructorParameters<typeof Store>[2] = {}) {
  const clock = new VirtualClock(5_000);
  const store = new Store(clock, new Rng(1), opts);
  const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } };
  store.create(ns);
  return { clock, store };
}

const apiError = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
};

test('create stamps uid, resourceVersion, creationTimestamp; generation only for spec-tracked kinds', (t) => {
  const { store } = newStore();
  const d = store.create(deployment('web', 2, { app: 'web' }));
  const s = store.create(service('web', { app: 'web' }));
  t.regex(d.metadata.uid!, /^[0-9a-f-]{36}$/);
  t.not(d.metadata.uid, s.metadata.uid);
  t.is(d.metadata.creationTimestamp, 5_000);
  t.true(Number(s.metadata.resourceVersion) > Number(d.metadata.resourceVersion));
  t.is(d.metadata.generation, 1);
  t.is(s.metadata.generation, undefined);
  t.is(store.resourceVersion, s.metadata.resourceVersion!);
});

test('create of an existing name fails with AlreadyExists', (t) => {
  const { store } = newStore();
  store.create(service('web', { app: 'web' }));
  const e = apiError(() => store.create(service('web', { app: 'other' })));
  t.is(e.reason, 'AlreadyExists');
  t.is(e.code, 409);
  t.is(e.message, 'services "web" already exists');
});

test('create in a missing namespace fails with NotFound', (t) => {
  const { store } = newStore();
  const obj = service('web', {});
  obj.metadata.namespace = 'nope';
  const e = apiError(() => store.create(obj));
  t.is(e.reason, 'NotFound');
  t.is(e.message, 'namespaces "nope" not found');
});

test('generateName appends 5 random safe characters', (t) => {
  const { store } = newStore();
  const p = pod('', { app: 'x' });
  p.metadata.generateName = 'web-7d4b9cc9b5-';
  const a = store.create(p);
  const b = store.create(p);
  t.regex(a.metadata.name, /^web-7d4b9cc9b5-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.not(a.metadata.name, b.metadata.name);
});

test('update: stale resourceVersion conflicts, none or current succeeds', (t) => {
  const { store } = newStore();
  const v1 = store.create(deployment('web', 2, { app: 'web' }));
  const v2 = store.update({ ...v1, spec: { ...v1.spec, replicas: 3 } });
  t.is(v2.spec.replicas, 3);
  const e = apiError(() => store.update({ ...v1, spec: { ...v1.spec, replicas: 4 } }));
  t.is(e.reason, 'Conflict');
  t.regex(
    e.message,
    /^Operation cannot be fulfilled on deployments.apps "web": the object has been modified/,
  );
  const { resourceVersion: _rv, ...meta } = v1.metadata;
  const v3 = store.update({ ...v1, metadata: meta, spec: { ...v1.spec, replicas: 5 } });
  t.is(v3.spec.replicas, 5);
  t.is(v3.metadata.uid, v1.metadata.uid);
  t.is(v3.metadata.creationTimestamp, v1.metadata.creationTimestamp);
});

test('generation counts spec changes, not status or metadata changes', (t) => {
  const { store } = newStore();
  const d = store.create(deployment('web', 2, { app: 'web' }));
  const s1 = store.update({ ...d, status: { replicas: 2 } });
  t.is(s1.metadata.generation, 1);
  const s2 = store.update({ ...s1, metadata: { ...s1.metadata, labels: { a: 'b' } } });
  t.is(s2.metadata.generation, 1);
  const s3 = store.update({ ...s2, spec: { ...s2.spec, replicas: 7 } });
  t.is(s3.metadata.generation, 2);
});

test('an update that changes nothing stores nothing and emits nothing', (t) => {
  const { store } = newStore();
  const events: WatchEvent[] = [];
  const s = store.create(service('web', { app: 'web' }));
  store.watch('Service', (e) => events.push(e), store.resourceVersion);
  const same = store.update({ ...s, spec: { ...s.spec } });
  t.is(same, s);
  t.is(events.length, 0);
});

test('stored objects are frozen', (t) => {
  const { store } = newStore();
  const s = store.create(service('web', { app: 'web' }));
  t.throws(
    () => {
      (s.spec as { type: string }).type = 'NodePort';
    },
    { instanceOf: TypeError },
  );
  t.throws(
    () => {
      s.spec.ports[0]!.port = 1;
    },
    { instanceOf: TypeError },
  );
});

test('delete emits DELETED with a new resourceVersion; deleting again is NotFound', (t) => {
  const { store } = newStore();
  const events: WatchEvent[] = [];
  const s = store.create(service('web', { app: 'web' }));
  store.watch('Service', (e) => events.push(e), store.resourceVersion);
  store.delete('Service', 'default', 'web');
  t.is(store.get('Service', 'default', 'web'), undefined);
  t.is(events.length, 1);
  t.is(events[0]!.type, 'DELETED');
  t.is(events[0]!.object.metadata.uid, s.metadata.uid);
  t.true(Number(events[0]!.object.metadata.resourceVersion) > Number(s.metadata.resourceVersion));
  t.is(
    apiError(() => store.delete('Service', 'default', 'web')).message,
    'services "web" not found',
  );
});

test('list is sorted by namespace then name and can be narrowed to a namespace', (t) => {
  const { store } = newStore();
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } });
  for (const n of ['c', 'a', 'b']) store.create(service(n, {}));
  const other = service('z', {});
  other.metadata.namespace = 'app';
  store.create(other);
  t.deepEqual(
    store.list('Service').map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
    ['app/z', 'default/a', 'default/b', 'default/c'],
  );
  t.deepEqual(
    store.list('Service', 'default').map((s) => s.metadata.name),
    ['a', 'b', 'c'],
  );
  t.is(store.count('Service'), 4);
  t.deepEqual(
    store.list('Namespace').map((n) => n.metadata.name),
    ['app', 'default'],
  );
});

test('watch without a version lists first (synthetic ADDED), then streams changes', (t) => {
  const { store } = newStore();
  store.create(service('a', {}));
  const seen: string[] = [];
  const stop = store.watch('Service', (e) => seen.push(`${e.type} ${e.object.metadata.name}`));
  const b = store.create(service('b', {}));
  store.update({ ...b, spec: { ...b.spec, type: 'NodePort' as const } });
  store.delete('Service', 'default', 'a');
  stop();
  store.create(service('c', {}));
  t.deepEqual(seen, ['ADDED a', 'ADDED b', 'MODIFIED b', 'DELETED a']);
});

test('watch from a resourceVersion replays what came after it', (t) => {
  const { store } = newStore();
  store.create(service('a', {}));
  const from = store.resourceVersion;
  store.create(service('b', {}));
  store.delete('Service', 'default', 'a');
  const seen: string[] = [];
  store.watch('Service', (e) => seen.push(`${e.type} ${e.object.metadata.name}`), from);
  t.deepEqual(seen, ['ADDED b', 'DELETED a']);
});

test('watch from a compacted resourceVersion fails with 410 Gone', (t) => {
  const { store } = newStore({ watchHistory: 2 });
  const first = store.create(service('s0', {})).metadata.resourceVersion!;
  for (let i = 1; i < 10; i++) store.create(service(`s${i}`, {}));
  const e = apiError(() => store.watch('Service', () => {}, first));
  t.is(e.reason, 'Gone');
  t.is(e.code, 410);
  t.regex(e.message, /^too old resource version: /);
  const recent: string[] = [];
  store.watch(
    'Service',
    (ev) => recent.push(ev.object.metadata.name),
    String(Number(store.resourceVersion) - 1),
  );
  t.deepEqual(recent, ['s9']);
});
