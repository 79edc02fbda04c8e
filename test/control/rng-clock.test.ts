import test from 'ava';
import { Rng, SAFE_ALPHABET } from '../../src/control/rng.ts';
import { TimerPriority, VirtualClock } from '../../src/control/clock.ts';
import { podTemplateHash, safeEncodeString } from '../../src/control/template-hash.ts';

const draw = (seed: number, n: number): number[] => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.nextU32());
};

test('the same seed gives the same sequence; another seed another one', (t) => {
  t.deepEqual(draw(42, 20), draw(42, 20));
  t.notDeepEqual(draw(42, 20), draw(43, 20));
  t.notDeepEqual(draw(2 ** 40, 20), draw(0, 20));
});

test('int(n) stays in range and reaches every value', (t) => {
  const r = new Rng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.int(5);
    t.true(v >= 0 && v < 5);
    seen.add(v);
  }
  t.is(seen.size, 5);
  t.throws(() => r.int(0));
});

test('string() draws from the safe alphabet', (t) => {
  const s = new Rng(1).string(200);
  t.is(s.length, 200);
  t.regex(s, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  t.is(SAFE_ALPHABET.length, 27);
});

test('uuid() is an RFC 4122 version 4 UUID, deterministic per seed', (t) => {
  const a = new Rng(5).uuid();
  t.regex(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(new Rng(5).uuid(), a);
  t.not(new Rng(6).uuid(), a);
});

test('safeEncodeString maps decimal digits like Kubernetes (1768484770 -> 5cbd8d8cc4)', (t) => {
  t.is(safeEncodeString('1768484770'), '5cbd8d8cc4');
  t.is(safeEncodeString('0123456789'), '456789bcdf');
});

test('podTemplateHash is deterministic, template-sensitive, ignores its own label', (t) => {
  const tpl = {
    metadata: { labels: { app: 'a' } },
    spec: { containers: [{ name: 'c', image: 'x:1' }] },
  };
  const h = podTemplateHash(tpl);
  t.regex(h, /^[456789bcdf]{1,10}$/);
  t.is(podTemplateHash(structuredClone(tpl)), h);
  t.is(podTemplateHash({ ...tpl, metadata: { labels: { app: 'a', 'pod-template-hash': h } } }), h);
  t.not(podTemplateHash({ ...tpl, spec: { containers: [{ name: 'c', image: 'x:2' }] } }), h);
});

test('clock fires timers in time order, Late after Normal at one instant, same-instant batches', (t) => {
  const c = new VirtualClock();
  const log: string[] = [];
  c.schedule(20, () => log.push('b@20'));
  c.schedule(10, () => log.push('late@10'), TimerPriority.Late);
  c.schedule(10, () => log.push('a@10'));
  c.schedule(10, () => log.push('a2@10'));
  const cancelled = c.schedule(15, () => log.push('never'));
  c.cancel(cancelled);
  t.is(c.nextTime(), 10);
  t.is(c.fireNext(100), 2); // both normal timers at 10, one batch
  t.deepEqual(log, ['a@10', 'a2@10']);
  t.is(c.now(), 10);
  t.is(c.fireNext(100), 1);
  t.is(c.fireNext(19), 0); // next is at 20 > limit
  t.is(c.fireNext(100), 1);
  t.deepEqual(log, ['a@10', 'a2@10', 'late@10', 'b@20']);
  t.is(c.now(), 20);
  t.throws(() => c.setNow(5));
});
