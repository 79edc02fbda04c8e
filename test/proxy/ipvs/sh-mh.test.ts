// sh / dh / mh against ip_vs_sh.c, ip_vs_dh.c and ip_vs_mh.c: stickiness while membership
// holds, the 256-bucket refill order (weights fill consecutive buckets), and how many flows
// move when a server leaves -- most of them for sh, about 1/N for Maglev.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  IPPROTO_TCP,
  SCHED_MH_FALLBACK,
  SCHED_SH_PORT,
} from '../../../src/proxy/ipvs/constants.ts';
import { hash32 } from '../../../src/proxy/ipvs/hash.ts';
import type { DestinationHashingScheduler } from '../../../src/proxy/ipvs/schedulers/dh.ts';
import type { MaglevHashingScheduler } from '../../../src/proxy/ipvs/schedulers/mh.ts';
import { MH_TAB_SIZE } from '../../../src/proxy/ipvs/schedulers/mh.ts';
import type { SourceHashingScheduler } from '../../../src/proxy/ipvs/schedulers/sh.ts';
import { shHashKey } from '../../../src/proxy/ipvs/schedulers/sh.ts';
import type { SchedPacket } from '../../../src/proxy/ipvs/schedulers/index.ts';
import type { VirtualService } from '../../../src/proxy/ipvs/service.ts';
import { clients, ip, packet, service } from './helpers.ts';

function assignment(svc: VirtualService, srcs: readonly number[], sport = 0): (string | null)[] {
  const p: SchedPacket = { proto: IPPROTO_TCP, saddr: 0, sport, daddr: 0, dport: 80, now: 0 };
  return srcs.map((s) => {
    p.saddr = s;
    return ip(svc.scheduler.schedule(svc, p));
  });
}

function moved(
  before: readonly (string | null)[],
  after: readonly (string | null)[],
  gone: string,
) {
  let kept = 0;
  let changed = 0;
  before.forEach((b, i) => {
    if (b === gone) return;
    kept++;
    if (after[i] !== b) changed++;
  });
  return changed / kept;
}

test('sh bucket of a source is hash_32(saddr, 8), as the kernel computes it', (t) => {
  const a = ipToU32('192.168.1.10');
  t.is(shHashKey(a, 0, 0), hash32(a, 8));
  t.is(shHashKey(a, 0, 0), Number(((BigInt(a) * 0x61c88647n) & 0xffffffffn) >> 24n));
});

test('sh fills 256 buckets in list order, weight w taking w consecutive buckets', (t) => {
  // List order (newest first): C(1), B(2), A(1).
  const svc = service('sh', ['10.0.0.1:1', '10.0.0.2:2', '10.0.0.3:1']);
  const b = (svc.scheduler as SourceHashingScheduler).buckets.map(ip);
  t.deepEqual(b.slice(0, 8), [
    '10.0.0.3',
    '10.0.0.2',
    '10.0.0.2',
    '10.0.0.1',
    '10.0.0.3',
    '10.0.0.2',
    '10.0.0.2',
    '10.0.0.1',
  ]);
  t.is(b.filter((x) => x === '10.0.0.2').length, 128);
  t.is(b.filter((x) => x === '10.0.0.1').length, 64);
});

test('sh: the same source always lands on the same server while membership holds', (t) => {
  const svc = service('sh', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  const srcs = clients(200);
  t.deepEqual(assignment(svc, srcs), assignment(svc, srcs));
  // Source ports do not matter without the sh-port flag...
  t.deepEqual(assignment(svc, srcs, 1111), assignment(svc, srcs, 2222));
});

test('sh-port hashes the source port too', (t) => {
  const svc = service('sh', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], SCHED_SH_PORT);
  const srcs = clients(200);
  t.notDeepEqual(assignment(svc, srcs, 1111), assignment(svc, srcs, 2222));
});

test('sh: a weight-0 server still takes a bucket per round, which then fails (no fallback)', (t) => {
  const svc = service('sh', ['10.0.0.1', '10.0.0.2:0']);
  const b = (svc.scheduler as SourceHashingScheduler).buckets.map(ip);
  t.is(b.filter((x) => x === '10.0.0.2').length, 128); // weight 0 still moves on after 1
  const got = assignment(svc, clients(300));
  t.true(got.includes(null));
  t.false(got.includes('10.0.0.2'));
});

test('dh: the same destination IP -> the same server; weights ignored', (t) => {
  const svc = service('dh', ['10.0.0.1:5', '10.0.0.2:1']);
  const sched = svc.scheduler as DestinationHashingScheduler;
  t.is(sched.buckets.filter((d) => ip(d) === '10.0.0.1').length, 128);
  const p = packet('1.1.1.1', 1, '93.184.216.34');
  const first = ip(svc.scheduler.schedule(svc, p));
  p.saddr = ipToU32('2.2.2.2');
  t.is(ip(svc.scheduler.schedule(svc, p)), first);
});

test('mh: table slots follow the weights', (t) => {
  const svc = service('mh', ['10.0.0.1:2', '10.0.0.2:1', '10.0.0.3:1']);
  const lookup = (svc.scheduler as MaglevHashingScheduler).lookup.map(ip);
  t.is(lookup.length, MH_TAB_SIZE);
  t.false(lookup.includes(null));
  const share = lookup.filter((x) => x === '10.0.0.1').length / MH_TAB_SIZE;
  t.true(share > 0.45 && share < 0.55, `share ${share}`);
});

test('one of ten servers leaves: Maglev moves about 1/10 of the other flows, sh most', (t) => {
  const servers = Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 1}`);
  const srcs = clients(4000);
  const mh = service('mh', servers);
  const sh = service('sh', servers);
  const mhBefore = assignment(mh, srcs);
  const shBefore = assignment(sh, srcs);
  mh.delDest(ipToU32('10.0.1.5'), 8080);
  sh.delDest(ipToU32('10.0.1.5'), 8080);
  const mhMoved = moved(mhBefore, assignment(mh, srcs), '10.0.1.5');
  const shMoved = moved(shBefore, assignment(sh, srcs), '10.0.1.5');
  t.true(mhMoved < 0.15, `mh moved ${mhMoved}`);
  t.true(shMoved > 0.6, `sh moved ${shMoved}`);
});

test('mh: a quiesced server keeps its slots; mh-fallback rehashes past it', (t) => {
  const srcs = clients(2000);
  const plain = service('mh', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  const fb = service('mh', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], SCHED_MH_FALLBACK);
  const before = assignment(fb, srcs);
  for (const svc of [plain, fb]) {
    svc.editDest({ addr: ipToU32('10.0.0.2'), port: 8080, weight: 0 });
    t.is(svc.getDest(ipToU32('10.0.0.2'), 8080)?.lastWeight, 1);
  }
  const p = assignment(plain, srcs);
  const f = assignment(fb, srcs);
  t.true(p.includes(null));
  t.false(f.includes(null));
  t.false(f.includes('10.0.0.2'));
  // Flows of the other servers did not move at all: the table was not rebuilt differently.
  t.is(moved(before, f, '10.0.0.2'), 0);
});
