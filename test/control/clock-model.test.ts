// The virtual clock against a plain model (a list sorted on every step) when the timers
// themselves queue, cancel and re-arm while a batch runs: the clock fires runs of one
// FIFO at a time and must stop a run exactly where an entry of another FIFO, or one
// queued by the run itself, comes first. Run with the default ring sizes and with tiny
// ones, so that FIFOs grow and compact mid-batch.
import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { Timer, TimerPriority, VirtualClock } from '../../src/control/clock.ts';
import type { ClockTuning, TimerHandle } from '../../src/control/clock.ts';

type Act =
  | { k: 'after'; delay: number; prio: number }
  | { k: 'post'; delay: number }
  | { k: 'cancel'; which: number }
  | { k: 'arm'; which: number; delay: number }
  | { k: 'disarm'; which: number };

type Op = Act | { k: 'fire'; step: number } | { k: 'setNow'; step: number };

// Mostly a few delays, so that FIFOs are shared and entries of several FIFOs meet at one
// instant; 0..20 are more delays than the clock has FIFOs for (16), so some go to the
// heap, as negative ones (clamped to now) do.
const delay = fc.oneof(fc.constantFrom(0, 0, 1, 2, 5), fc.integer({ min: -2, max: 20 }));
const act: fc.Arbitrary<Act> = fc.oneof(
  fc.record({
    k: fc.constant('after' as const),
    delay,
    prio: fc.constantFrom(TimerPriority.Normal, TimerPriority.Normal, TimerPriority.Late),
  }),
  fc.record({ k: fc.constant('post' as const), delay }),
  fc.record({ k: fc.constant('cancel' as const), which: fc.nat() }),
  fc.record({ k: fc.constant('arm' as const), which: fc.nat({ max: 3 }), delay }),
  fc.record({ k: fc.constant('disarm' as const), which: fc.nat({ max: 3 }) }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  act,
  fc.record({ k: fc.constant('fire' as const), step: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ k: fc.constant('setNow' as const), step: fc.integer({ min: 0, max: 3 }) }),
);

/** The clock's API as the program below uses it; timers are addressed by index. */
interface Clock {
  now(): number;
  setNow(ns: number): void;
  after(delay: number, fn: () => void, prio: number): unknown;
  post(delay: number, fn: () => void): void;
  cancel(h: unknown): void;
  arm(which: number, delay: number, fn: () => void): void;
  disarm(which: number): void;
  fireNext(limit: number): number;
  nextTime(): number | undefined;
  pending(): number;
}

function real(tuning: ClockTuning): Clock {
  const c = new VirtualClock(0, tuning);
  const fns: (() => void)[] = [];
  const timers = [0, 1, 2, 3].map((k) => Timer.of((i: number) => fns[i]!(), k));
  return {
    now: () => c.now(),
    setNow: (ns) => c.setNow(ns),
    after: (d, fn, prio) => c.after(d, fn, prio),
    post: (d, fn) => c.post(d, fn),
    cancel: (h) => c.cancel(h as TimerHandle),
    arm: (k, d, fn) => {
      fns[k] = fn;
      c.arm(timers[k]!, d);
    },
    disarm: (k) => c.disarm(timers[k]!),
    fireNext: (limit) => c.fireNext(limit),
    nextTime: () => c.nextTime(),
    pending: () => c.pending(),
  };
}

interface Entry {
  at: number;
  prio: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** The model: every step sorts the live entries by (at, priority, insertion). */
function model(): Clock {
  let now = 0;
  let seq = 0;
  let entries: Entry[] = [];
  const armed: (Entry | undefined)[] = [undefined, undefined, undefined, undefined];
  const first = (): Entry | undefined => {
    entries = entries.filter((e) => e.live);
    entries.sort((a, b) => a.at - b.at || a.prio - b.prio || a.seq - b.seq);
    return entries[0];
  };
  const after = (d: number, fn: () => void, prio: number): Entry => {
    const e = { at: Math.max(now + d, now), prio, seq: seq++, fn, live: true };
    entries.push(e);
    return e;
  };
  const disarm = (k: number): void => {
    if (armed[k] !== undefined) armed[k].live = false;
    armed[k] = undefined;
  };
  return {
    now: () => now,
    setNow: (ns) => {
      now = ns;
    },
    after,
    post: (d, fn) => void after(d, fn, 0),
    cancel: (h) => {
      (h as Entry).live = false;
    },
    arm: (k, d, fn) => {
      disarm(k);
      armed[k] = after(
        d,
        () => {
          armed[k] = undefined;
          fn();
        },
        0,
      );
    },
    disarm,
    fireNext: (limit) => {
      const top = first();
      if (top === undefined || top.at > limit) return 0;
      now = Math.max(now, top.at);
      let n = 0;
      for (let e = top; e !== undefined; e = first()!) {
        if (e.at !== top.at || e.prio !== top.prio) break;
        e.live = false;
        n++;
        e.fn();
      }
      return n;
    },
    nextTime: () => first()?.at,
    pending: () => entries.filter((e) => e.live).length,
  };
}

/**
 * Run the program on a clock; returns what happened, in order. An entry, when it fires,
 * logs its id and performs the acts `children[id % n]` (up to a depth of three).
 */
function run(clock: Clock, ops: Op[], children: Act[][]): unknown[] {
  const log: unknown[] = [];
  const handles: unknown[] = [];
  let id = 0;
  const perform = (a: Act, depth: number): void => {
    if (a.k === 'cancel') {
      if (handles.length > 0) clock.cancel(handles[a.which % handles.length]);
      return;
    }
    if (a.k === 'disarm') return clock.disarm(a.which);
    const me = id++;
    const fn = (): void => {
      log.push(me, clock.now());
      if (depth < 3 && children.length > 0)
        for (const c of children[me % children.length]!) perform(c, depth + 1);
    };
    if (a.k === 'after') handles.push(clock.after(a.delay, fn, a.prio));
    else if (a.k === 'post') clock.post(a.delay, fn);
    else clock.arm(a.which, a.delay, fn);
  };
  for (const o of ops) {
    if (o.k === 'fire') log.push('fired', clock.fireNext(clock.now() + o.step));
    else if (o.k === 'setNow') clock.setNow(clock.now() + o.step);
    else perform(o, 0);
    log.push('now', clock.now(), 'next', clock.nextTime(), 'pending', clock.pending());
  }
  for (let n = clock.fireNext(Infinity); n > 0; n = clock.fireNext(Infinity)) log.push('end', n);
  log.push('now', clock.now(), 'next', clock.nextTime(), 'pending', clock.pending());
  return log;
}

const program = fc.tuple(
  fc.array(op, { maxLength: 200 }),
  fc.array(fc.array(act, { maxLength: 3 }), { maxLength: 8 }),
);

test('timers that queue, cancel and re-arm during a batch fire as the sorted model says', (t) => {
  fc.assert(
    fc.property(program, ([ops, children]) => {
      const want = run(model(), ops, children);
      assert.deepEqual(run(real({}), ops, children), want);
      assert.deepEqual(run(real({ fifoSize: 2, compactMin: 1 }), ops, children), want);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('long runs through tiny rings: growth and compaction mid-batch keep the order', (t) => {
  fc.assert(
    fc.property(
      fc.array(op, { minLength: 500, maxLength: 2000 }),
      fc.array(fc.array(act, { maxLength: 2 }), { minLength: 1, maxLength: 8 }),
      (ops, children) => {
        const want = run(model(), ops, children);
        assert.deepEqual(run(real({ fifoSize: 4, compactMin: 2 }), ops, children), want);
      },
    ),
    { numRuns: 20 },
  );
  t.pass();
});
