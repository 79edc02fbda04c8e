// lc / wlc / sed / nq / lblc / lblcr under a given connection load, against the kernel's
// formulas: lc/wlc overhead = active*256 + inactive; sed/nq use active + 1 (ip_vs_sed.c).
import test from 'ava';
import type { VirtualService } from '../../../src/proxy/ipvs/service.ts';
import { ip, packet, picks, service } from './helpers.ts';

/** Set [active, inactive] per server, by address. */
function load(svc: VirtualService, conns: Record<string, [number, number]>): void {
  for (const d of svc.dests()) {
    const key = [...Object.keys(conns)].find((k) => ip(d) === k);
    if (key === undefined) continue;
    const [a, i] = conns[key]!;
    d.activeConns = a;
    d.inactConns = i;
  }
}

test('lc picks the smallest active*256+inactive; one active outweighs 255 inactive', (t) => {
  const svc = service('lc', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  load(svc, { '10.0.0.1': [1, 0], '10.0.0.2': [0, 255], '10.0.0.3': [0, 256] });
  t.deepEqual(picks(svc, 1), ['10.0.0.2']);
});

test('lc ties go to the first in list order (the newest server)', (t) => {
  const svc = service('lc', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  t.deepEqual(picks(svc, 1), ['10.0.0.3']);
});

test('lc ignores weight except 0, which quiesces', (t) => {
  const svc = service('lc', ['10.0.0.1:100', '10.0.0.2:1', '10.0.0.3:0']);
  load(svc, { '10.0.0.1': [2, 0], '10.0.0.2': [1, 0], '10.0.0.3': [0, 0] });
  t.deepEqual(picks(svc, 1), ['10.0.0.2']);
});

test('wlc divides the overhead by the weight', (t) => {
  const svc = service('wlc', ['10.0.0.1:4', '10.0.0.2:1']);
  // 10.0.0.1: 3*256/4 = 192; 10.0.0.2: 1*256/1 = 256
  load(svc, { '10.0.0.1': [3, 0], '10.0.0.2': [1, 0] });
  t.deepEqual(picks(svc, 1), ['10.0.0.1']);
  load(svc, { '10.0.0.1': [5, 0], '10.0.0.2': [1, 0] });
  t.deepEqual(picks(svc, 1), ['10.0.0.2']);
});

test('sed: (active+1)/weight, inactive connections do not count', (t) => {
  const svc = service('sed', ['10.0.0.1:1', '10.0.0.2:10']);
  // 10.0.0.1: (0+1)/1 = 1; 10.0.0.2: (1+1)/10 = 0.2
  load(svc, { '10.0.0.1': [0, 0], '10.0.0.2': [1, 500] });
  t.deepEqual(picks(svc, 1), ['10.0.0.2']);
});

test('nq: an idle server wins at once, else sed', (t) => {
  const svc = service('nq', ['10.0.0.1:1', '10.0.0.2:10']);
  load(svc, { '10.0.0.1': [0, 7], '10.0.0.2': [1, 0] });
  t.deepEqual(picks(svc, 1), ['10.0.0.1']);
  load(svc, { '10.0.0.1': [1, 0], '10.0.0.2': [1, 0] });
  t.deepEqual(picks(svc, 1), ['10.0.0.2']);
});

for (const name of ['lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'sh', 'dh', 'mh', 'rr', 'wrr']) {
  test(`${name}: every server quiesced -> null and the no-destination counter`, (t) => {
    const svc = service(name, ['10.0.0.1:0', '10.0.0.2:0']);
    t.is(svc.scheduler.schedule(svc, packet('192.168.7.7')), null);
    t.is(svc.noDestCount, 1);
    t.regex(svc.lastSchedulerError, /^no destination available/);
  });

  test(`${name}: an empty service -> null`, (t) => {
    const svc = service(name, []);
    t.is(svc.scheduler.schedule(svc, packet('192.168.7.7')), null);
    t.is(svc.noDestCount, 1);
  });
}

test('lblc keeps a destination IP on its server until that server is overloaded', (t) => {
  const svc = service('lblc', ['10.0.0.1:2', '10.0.0.2:2']);
  const p = packet('192.168.1.1', 1, '10.96.0.1');
  const first = ip(svc.scheduler.schedule(svc, p));
  t.is(first, '10.0.0.2');
  // Loaded beyond wlc's choice but not "overloaded": the cache still wins.
  load(svc, { '10.0.0.2': [2, 0], '10.0.0.1': [0, 0] });
  t.is(ip(svc.scheduler.schedule(svc, p)), '10.0.0.2');
  // active > weight while the other is under half its weight: rescheduled.
  load(svc, { '10.0.0.2': [3, 0], '10.0.0.1': [0, 0] });
  t.is(ip(svc.scheduler.schedule(svc, p)), '10.0.0.1');
});

test('lblcr grows the set when its member is overloaded, then serves the least loaded', (t) => {
  const svc = service('lblcr', ['10.0.0.1:2', '10.0.0.2:2']);
  const p = packet('192.168.1.1', 1, '10.96.0.1');
  t.is(ip(svc.scheduler.schedule(svc, p)), '10.0.0.2');
  load(svc, { '10.0.0.2': [3, 0], '10.0.0.1': [0, 0] });
  t.is(ip(svc.scheduler.schedule(svc, p)), '10.0.0.1');
  load(svc, { '10.0.0.2': [0, 0], '10.0.0.1': [1, 0] });
  t.is(ip(svc.scheduler.schedule(svc, p)), '10.0.0.2');
});
