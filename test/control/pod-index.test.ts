// The pod label index is built for a label key on first use; it must answer like an index
// kept from the start: same pods, in the order of their last (re)filing.
import test from 'ava';
import { Cluster } from '../../src/control/cluster.ts';
import { pod } from './fixtures.ts';

const names = (c: Cluster, sel: Record<string, string>): string[] =>
  c.pods.selectedBy('default', sel).map((p) => p.metadata.name);

test('a key indexed late keeps the order of the last label change, then stays current', (t) => {
  const c = new Cluster({ systemPods: false });
  c.apply([pod('a', { app: 'web' }), pod('b', { app: 'web' }), pod('c', { app: 'web' })], {
    settle: false,
  });
  // A label change re-files `a` last (store order stays a, b, c).
  c.apply([pod('a', { app: 'web', v: '2' })], { settle: false });
  t.deepEqual(names(c, { app: 'web' }), ['b', 'c', 'a']);
  t.deepEqual(names(c, { app: 'web', v: '2' }), ['a']);
  c.apply([pod('d', { app: 'web' })], { settle: false });
  c.delete('Pod', 'default', 'b', { settle: false });
  t.deepEqual(names(c, { app: 'web' }), ['c', 'a', 'd']);
  t.deepEqual(names(c, { tier: 'none' }), []);
});
