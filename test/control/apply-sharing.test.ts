// Objects of a kind applied one after another share equal (frozen) spec and labels copies; only equal trees
// with the same key order are shared, so every object still prints as it was written.
import test from 'ava';
import type { Pod } from '../../src/api/types.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { canonicalJson, sameTree } from '../../src/control/objects.ts';
import { pod, service } from './fixtures.ts';

test('pods applied in a row with equal spec and labels share one frozen copy', (t) => {
  const c = new Cluster({ systemPods: false });
  const a = pod('a', { app: 'web' });
  const b = pod('b', { app: 'web' });
  const d = pod('d', { app: 'other' });
  c.apply([a, b, d], { settle: false });
  const [pa, pb, pd] = ['a', 'b', 'd'].map((n) => c.get('Pod', 'default', n)!);
  t.is(pa!.spec, pb!.spec);
  t.is(pa!.metadata.labels, pb!.metadata.labels);
  t.not(pb!.metadata.labels, pd!.metadata.labels);
  t.deepEqual(pd!.metadata.labels, { app: 'other' });
  t.true(Object.isFrozen(pb!.spec.containers[0]));
  // The input is not shared: a later change to it does not reach the store.
  (b.spec.containers[0] as { image: string }).image = 'changed';
  t.not(c.get('Pod', 'default', 'b')!.spec.containers[0]!.image, 'changed');
});

test('an object of another kind in between does not stop the sharing', (t) => {
  const c = new Cluster({ systemPods: false });
  c.apply([pod('a', { app: 'a' }), service('a', { app: 'a' }), pod('b', { app: 'b' })], {
    settle: false,
  });
  t.is(c.get('Pod', 'default', 'a')!.spec, c.get('Pod', 'default', 'b')!.spec);
});

test('a spec with the same content in another key order is copied, not shared', (t) => {
  const c = new Cluster({ systemPods: false });
  const a = pod('a', { app: 'web' });
  const spec = a.spec as unknown as Record<string, unknown>;
  const reordered: Record<string, unknown> = {};
  for (const k of Object.keys(spec).reverse()) reordered[k] = spec[k];
  const b: Pod = { ...pod('b', { app: 'web' }), spec: reordered as unknown as Pod['spec'] };
  c.apply([a, b], { settle: false });
  const pa = c.get('Pod', 'default', 'a')!;
  const pb = c.get('Pod', 'default', 'b')!;
  t.not(pa.spec, pb.spec);
  t.deepEqual(Object.keys(pb.spec), Object.keys(reordered));
  t.is(canonicalJson(pa.spec), canonicalJson(pb.spec));
});

test('sameTree: order-sensitive, typed arrays never equal', (t) => {
  t.true(sameTree({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }));
  t.false(sameTree({ a: 1, b: 2 }, { b: 2, a: 1 }));
  t.false(sameTree({ a: 1 }, { a: 1, b: undefined }));
  t.false(sameTree(new Uint8Array([1]), new Uint8Array([1])));
  t.false(sameTree([1, 2], { 0: 1, 1: 2 }));
});

test('sameTree: nested objects compare key order at every level, after a mismatch too', (t) => {
  const deep = (last: string): unknown => ({ a: { b: { c: [1, { d: 2 }] }, e: 3 }, [last]: 4 });
  t.false(sameTree(deep('f'), deep('g')));
  t.false(sameTree({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }));
  t.false(sameTree({ a: { x: 1 }, b: 1 }, { a: { x: 1 } }));
  t.false(sameTree({ a: { x: 1 } }, { a: { x: 1 }, b: 1 }));
  // The shared key stack is back at its base after every answer.
  t.true(sameTree(deep('f'), deep('f')));
  t.true(sameTree({}, {}));
});
