// VirtualClock's heap against a plain sorted list: any mix of schedule/after/post/cancel
// and fireNext fires the same timers in the same order, the total order (at, priority,
// insertion). Runs depend on this order being exactly that.
import test from 'ava';
import fc from 'fast-check';
import { TimerPriority, VirtualClock } from '../../src/control/clock.ts';

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

test('fires in (at, priority, insertion) order with cancels, posts and batches', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const clock = new VirtualClock();
      const fired: number[] = [];
      const want: number[] = [];
      const handles: ReturnType<VirtualClock['after']>[] = [];
      const ref: Ref[] = [];
      const refHandles: Ref[] = [];
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
        if (o.k === 'after' || o.k === 'post') {
          const myId = id++;
          const r: Ref = {
            at: now + o.delay,
            prio: o.k === 'after' ? o.prio : 0,
            seq: seq++,
            id: myId,
            cancelled: false,
          };
          ref.push(r);
          if (o.k === 'after') {
            handles.push(clock.after(o.delay, () => fired.push(myId), o.prio));
            refHandles.push(r);
          } else clock.post(o.delay, () => fired.push(myId));
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
