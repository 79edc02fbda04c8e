// Store handles: the per-object record watch events carry, the queues that dedupe on a bit
// of it, and the writes that use one to skip a lookup.
import test from 'ava';
import type { Namespace, Pod } from '../../src/api/types.ts';
import { VirtualClock } from '../../src/control/clock.ts';
import { Rng } from '../../src/control/rng.ts';
import { Store } from '../../src/control/store.ts';
import type { StoreHandle } from '../../src/control/store.ts';
import { HandleQueue, drainHandles } from '../../src/control/workqueue.ts';
import { pod } from './fixtures.ts';

function newStore() {
  const store = new Store(new VirtualClock(0), new Rng(1));
  const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } };
  store.create(ns);
  return store;
}

test('watch events carry the live handle; it goes dead on delete and a successor gets a new one', (t) => {
  const store = newStore();
  const seen: StoreHandle<Pod>[] = [];
  store.watch('Pod', (ev) => seen.push(ev.handle));
  const p = store.create(pod('web-1', { app: 'web' }));
  const h = store.handle('Pod', 'default/web-1')!;
  t.is(seen[0], h);
  t.is(h.obj, p);
  const q = store.update({ ...p, metadata: { ...p.metadata, labels: { app: 'db' } } });
  t.is(h.obj, q, 'an update swaps the object in place');
  store.delete('Pod', 'default', 'web-1', { gracePeriodSeconds: 0 });
  t.false(h.live);
  t.is(seen[2], h);
  store.create(pod('web-1', { app: 'web' }));
  const h2 = store.handle('Pod', 'default/web-1')!;
  t.not(h2, h);
  t.true(h2.live);
});

test('HandleQueue processes a handle once however often it is added, and again once re-added', (t) => {
  const store = newStore();
  const queue = new HandleQueue<Pod>(store);
  const other = new HandleQueue<Pod>(store);
  store.create(pod('a', { app: 'web' }));
  store.create(pod('b', { app: 'web' }));
  const a = store.handle('Pod', 'default/a')!;
  const b = store.handle('Pod', 'default/b')!;
  queue.add(a);
  queue.add(b);
  queue.add(a);
  other.add(a);
  t.is(queue.length, 2);
  t.is(other.length, 1, 'each queue has its own membership bit');
  const order: string[] = [];
  drainHandles(queue, (h) => {
    order.push(h.key);
    if (order.length === 1) queue.add(h); // re-added while processed: runs again
  });
  t.deepEqual(order, ['default/a', 'default/b', 'default/a']);
  t.is(queue.length, 0);
  t.is(other.next(), a);
});

test('update() uses a matching live handle and ignores a stale or foreign one', (t) => {
  const store = newStore();
  const a = store.create(pod('a', { app: 'web' }));
  store.create(pod('b', { app: 'web' }));
  const ha = store.handle('Pod', 'default/a')!;
  const hb = store.handle('Pod', 'default/b')!;
  // A foreign handle (b's) must not redirect a's write.
  const a2 = store.update({ ...a, metadata: { ...a.metadata, labels: { app: 'x' } } }, hb);
  t.is(ha.obj, a2);
  t.is(hb.obj.metadata.labels?.['app'], 'web');
  // A dead handle of a deleted namesake is ignored too.
  store.delete('Pod', 'default', 'a', { gracePeriodSeconds: 0 });
  const a3 = store.create(pod('a', { app: 'web' }));
  const a4 = store.update({ ...a3, metadata: { ...a3.metadata, labels: { app: 'y' } } }, ha);
  t.is(store.get('Pod', 'default', 'a'), a4);
  t.false(ha.live);
});

test('createIfAbsent() creates once, then reports the existing object by undefined', (t) => {
  const store = newStore();
  const first = store.createIfAbsent(pod('a', { app: 'web' }));
  t.truthy(first);
  const rv = store.resourceVersion;
  t.is(store.createIfAbsent(pod('a', { app: 'db' })), undefined);
  t.is(store.resourceVersion, rv, 'nothing written');
  t.is(store.get('Pod', 'default', 'a'), first);
});

test('uuid() values are pinned (stored uids and everything derived from the RNG depend on them)', (t) => {
  const r = new Rng(5);
  t.is(r.uuid(), 'd796c42a-d4ba-4ed1-9fd1-8ce44448c236');
  t.is(r.uuid(), '78d74561-bebd-4ee7-8b26-26b436947fcd');
});
