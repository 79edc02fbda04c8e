// VirtualClock against a plain sorted list: any mix of after/post/cancel, a reusable
// Timer's arm()/disarm() and fireNext fires the same timers in the same order, the total
// order (at, priority, insertion); a re-armed Timer fires where cancel() of its pending
// arming + after() would have put it. Runs depend on this order being exactly that.
import test from 'ava';
import fc from 'fast-check';
import { Timer, TimerPriority, VirtualClock } from '../../src/control/clock.ts';

type Op =
  | { k: 'after'; delay: number; prio: number }
  | { k: 'post'; delay: number }
  | { k: 'cancel'; which: number }
  | { k: 'fire'; step: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('after' as const),
    delay: fc.integer({ min: 0, max: 20 }),
    prio: fc.constantFrom(TimerPriority.Normal, TimerPriority.Late),
  }),
  fc.record({ k: fc.constant('post' as const), delay: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ k: fc.constant('cancel' as const), which: fc.nat() }),
  fc.record({ k: fc.constant('fire' as const), step: fc.integer({ min: 0, max: 10 }) }),
);

interface Ref {
  at: number;
  prio: number;
  seq: number;
  id: number;
  cancelled: boolean;
}

type TimerOp = Op | { k: 'arm'; which: number; delay: number } | { k: 'disarm'; which: number };

const timerOp: fc.Arbitrary<TimerOp> = fc.oneof(
  op,
  fc.record({
    k: fc.constant('arm' as const),
    which: fc.nat({ max: 3 }),
    delay: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({ k: fc.constant('disarm' as const), which: fc.nat({ max: 3 }) }),
);

test('fires in (at, priority, insertion) order with cancels, posts, batches and re-armed Timers', (t) => {
  fc.assert(
    fc.property(fc.array(timerOp, { maxLength: 300 }), (ops) => {
      const clock = new VirtualClock();
      const fired: number[] = [];
      const want: number[] = [];
      const handles: ReturnType<VirtualClock['after']>[] = [];
      const ref: Ref[] = [];
      const refHandles: Ref[] = [];
      // Four reusable timers; each fires the id of its latest arming.
      const armedId = [-1, -1, -1, -1];
      const armedRef: (Ref | undefined)[] = [undefined, undefined, undefined, undefined];
      const timers = armedId.map((_, k) => Timer.of((i: number) => fired.push(armedId[i]!), k));
      let now = 0;
      let seq = 0;
      let id = 0;
      const refFire = (limit: number): void => {
        const live = ref.filter((r) => !r.cancelled);
        live.sort((a, b) => a.at - b.at || a.prio - b.prio || a.seq - b.seq);
        const top = live[0];
        if (top === undefined || top.at > limit) return;
        now = Math.max(now, top.at);
        for (const r of live) {
          if (r.at !== top.at || r.prio !== top.prio) break;
          r.cancelled = true;
          want.push(r.id);
        }
      };
      for (const o of ops) {
        if (o.k === 'after' || o.k === 'post' || o.k === 'arm') {
          const myId = id++;
          const r: Ref = {
            at: now + o.delay,
            prio: o.k === 'after' ? o.prio : 0,
            seq: seq++,
            id: myId,
            cancelled: false,
          };
          if (o.k === 'arm') {
            const old = armedRef[o.which];
            if (old !== undefined) old.cancelled = true;
            armedRef[o.which] = r;
            armedId[o.which] = myId;
            clock.arm(timers[o.which]!, o.delay);
          } else if (o.k === 'after') {
            handles.push(clock.after(o.delay, () => fired.push(myId), o.prio));
            refHandles.push(r);
          } else clock.post(o.delay, () => fired.push(myId));
          ref.push(r);
        } else if (o.k === 'disarm') {
          const old = armedRef[o.which];
          if (old !== undefined) old.cancelled = true;
          clock.disarm(timers[o.which]!);
        } else if (o.k === 'cancel') {
          if (handles.length === 0) continue;
          const i = o.which % handles.length;
          clock.cancel(handles[i]);
          refHandles[i]!.cancelled = true;
        } else {
          const limit = now + o.step;
          clock.fireNext(limit);
          refFire(limit);
        }
        t.is(clock.now(), now);
        t.is(clock.pending(), ref.filter((r) => !r.cancelled).length);
        for (let k = 0; k < timers.length; k++)
          t.is(timers[k]!.armed, armedRef[k] !== undefined && !armedRef[k]!.cancelled);
      }
      for (;;) {
        const before = want.length;
        clock.fireNext(Infinity);
        refFire(Infinity);
        if (want.length === before) break;
      }
      t.deepEqual(fired, want);
      t.is(clock.nextTime(), undefined);
    }),
    { numRuns: 200 },
  );
});
