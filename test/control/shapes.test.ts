// LiteralCopier: copies with keys set in place or appended, dropped keys moved to the
// end, values by slot, and the generic path (keys a literal cannot carry, too many shapes)
// giving the same objects.
import test from 'ava';
import { LiteralCopier } from '../../src/control/shapes.ts';

const entries = (o: object): [string, unknown][] => Object.entries(o);

test('a set key is replaced where the source has it and appended where it has not', (t) => {
  const c = new LiteralCopier(['spec', 'status']);
  const src = { apiVersion: 'v1', kind: 'Pod', spec: { a: 1 } };
  const out = c.copy(src, ['S', 'T']);
  t.deepEqual(entries(out), [
    ['apiVersion', 'v1'],
    ['kind', 'Pod'],
    ['spec', 'S'],
    ['status', 'T'],
  ]);
  t.deepEqual(src, { apiVersion: 'v1', kind: 'Pod', spec: { a: 1 } }, 'the source is untouched');
});

test('an omitted key is dropped, and moves to the end when it is also set', (t) => {
  const c = new LiteralCopier(['namespace', 'uid'], ['namespace', 'uid', 'resourceVersion']);
  const out = c.copy({ namespace: 'x', name: 'a', resourceVersion: '7', labels: {} }, ['ns', 'u']);
  t.deepEqual(Object.keys(out), ['name', 'labels', 'namespace', 'uid']);
  t.is((out as { namespace: string }).namespace, 'ns');
  t.false('resourceVersion' in out);
});

test('slots pick each key its value out of a shared values array', (t) => {
  const c = new LiteralCopier(['b', 'd'], [], [1, 3]);
  t.deepEqual(entries(c.copy({ a: 0 }, ['v0', 'v1', 'v2', 'v3'])), [
    ['a', 0],
    ['b', 'v1'],
    ['d', 'v3'],
  ]);
  t.throws(() => new LiteralCopier(['a'], [], [0, 1]), { message: 'one slot per key' });
});

test('shapes alternate: each copy follows its own source key order', (t) => {
  const c = new LiteralCopier(['m']);
  for (let i = 0; i < 3; i++) {
    t.deepEqual(Object.keys(c.copy({ x: 1, y: 2 }, [i])), ['x', 'y', 'm']);
    t.deepEqual(Object.keys(c.copy({ y: 2, m: 0, x: 1 }, [i])), ['y', 'm', 'x']);
    t.deepEqual(Object.keys(c.copy({}, [i])), ['m']);
  }
});

test('keys a literal cannot carry take the generic path with the same result', (t) => {
  const c = new LiteralCopier(['v']);
  const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
  const out = c.copy(proto, [2]) as Record<string, unknown>;
  t.deepEqual(Object.keys(out), ['__proto__', 'a', 'v']);
  t.is(Object.getPrototypeOf(out), Object.prototype, 'the prototype is not replaced');
  t.is(({} as Record<string, unknown>).polluted, undefined);
  const indexed = c.copy({ b: 1, 2: 'two' } as object, [3]);
  t.deepEqual(entries(indexed), [
    ['2', 'two'],
    ['b', 1],
    ['v', 3],
  ]);
  t.throws(() => new LiteralCopier(['__proto__']), { message: 'unsafe key __proto__' });
});

test('past the learnt shapes, copies stay correct', (t) => {
  const c = new LiteralCopier(['z']);
  for (let i = 0; i < 40; i++) {
    const src: Record<string, number> = {};
    for (let k = 0; k <= i; k++) src[`k${k}`] = k;
    const out = c.copy(src, [i]) as Record<string, number>;
    t.is(Object.keys(out).length, i + 2);
    t.is(out[`k${i}`], i);
    t.is(out.z, i);
  }
});
