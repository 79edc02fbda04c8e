// rr and wrr against ip_vs_rr.c / ip_vs_wrr.c: list order is newest first, the cursor wraps,
// weight 0 is quiesced, deleting the cursor's server continues from its predecessor.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP, TCP_SYN } from '../../../src/proxy/ipvs/constants.ts';
import { Ipvs } from '../../../src/proxy/ipvs/ipvs.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { VirtualService } from '../../../src/proxy/ipvs/service.ts';
import { ip, packet, picks, service } from './helpers.ts';

test('rr walks the list newest first and wraps', (t) => {
  const svc = service('rr', ['10.244.1.2', '10.244.2.3', '10.244.3.4']);
  t.deepEqual(picks(svc, 6), [
    '10.244.3.4',
    '10.244.2.3',
    '10.244.1.2',
    '10.244.3.4',
    '10.244.2.3',
    '10.244.1.2',
  ]);
});

test('rr skips a quiesced (weight 0) server', (t) => {
  const svc = service('rr', ['10.244.1.2', '10.244.2.3:0', '10.244.3.4']);
  t.deepEqual(picks(svc, 4), ['10.244.3.4', '10.244.1.2', '10.244.3.4', '10.244.1.2']);
});

test('rr continues after the deleted cursor server', (t) => {
  const svc = service('rr', ['10.244.1.2', '10.244.2.3', '10.244.3.4']);
  t.deepEqual(picks(svc, 2), ['10.244.3.4', '10.244.2.3']);
  svc.delDest(ipToU32('10.244.2.3'), 8080);
  t.deepEqual(picks(svc, 3), ['10.244.1.2', '10.244.3.4', '10.244.1.2']);
});

test('rr with no usable server returns null and counts it', (t) => {
  const svc = service('rr', ['10.244.1.2:0']);
  t.deepEqual(picks(svc, 2), [null, null]);
  t.is(svc.noDestCount, 2);
  t.is(svc.lastSchedulerError, 'no destination available');
});

test('wrr interleaves by weight 3:2:1, starting where the adds left cw', (t) => {
  // Added A(3) B(2) C(1): the kernel's list is C, B, A. Adding A alone set di=3, mw=cw=1;
  // the later adds keep cw=1 (ip_vs_wrr_dest_changed), so the first round is the cw=1 pass.
  const svc = service('wrr', ['10.0.0.1:3', '10.0.0.2:2', '10.0.0.3:1']);
  const A = '10.0.0.1';
  const B = '10.0.0.2';
  const C = '10.0.0.3';
  t.deepEqual(picks(svc, 12), [C, B, A, A, B, A, C, B, A, A, B, A]);
});

test('wrr from a fresh mark (init with all servers) starts at the max weight', (t) => {
  const svc = service('wrr', ['10.0.0.1:3', '10.0.0.2:2', '10.0.0.3:1']);
  svc.edit({ protocol: svc.protocol, addr: svc.addr, port: svc.port, scheduler: 'rr' });
  svc.edit({ protocol: svc.protocol, addr: svc.addr, port: svc.port, scheduler: 'wrr' });
  t.deepEqual(picks(svc, 6), [
    '10.0.0.1',
    '10.0.0.2',
    '10.0.0.1',
    '10.0.0.3',
    '10.0.0.2',
    '10.0.0.1',
  ]);
});

test('wrr ratios hold over many picks, gcd-reduced weights too', (t) => {
  const svc = service('wrr', ['10.0.0.1:40', '10.0.0.2:20', '10.0.0.3:20', '10.0.0.4:0']);
  const counts = new Map<string | null, number>();
  for (const p of picks(svc, 400)) counts.set(p, (counts.get(p) ?? 0) + 1);
  t.is(counts.get('10.0.0.1'), 200);
  t.is(counts.get('10.0.0.2'), 100);
  t.is(counts.get('10.0.0.3'), 100);
  t.false(counts.has('10.0.0.4'));
});

test('wrr: every server quiesced -> null with the reason', (t) => {
  const svc = service('wrr', ['10.0.0.1:0', '10.0.0.2:0']);
  t.is(picks(svc, 1)[0], null);
  t.is(svc.noDestCount, 1);
});

test('wrr: all overloaded -> "all destinations are overloaded"', (t) => {
  const svc = service('wrr', ['10.0.0.1:1', '10.0.0.2:1']);
  for (const d of svc.dests()) d.flags |= 2; // IP_VS_DEST_F_OVERLOAD
  t.is(picks(svc, 1)[0], null);
  t.is(svc.lastSchedulerError, 'no destination available: all destinations are overloaded');
});

test('server lookups agree whether the list is walked (few servers) or a map answers (many)', (t) => {
  for (const n of [3, 16, 17, 40]) {
    const ips = Array.from({ length: n }, (_, i) => `10.244.${i >> 8}.${(i & 255) + 1}`);
    const svc = service('rr', ips);
    for (const a of ips) t.is(ip(svc.getDest(ipToU32(a), 8080) ?? null), a, `${n}: ${a}`);
    t.is(svc.getDest(ipToU32(ips[0]!), 8081), undefined, `${n}: another port`);
    t.is(svc.getDest(ipToU32('10.245.0.1'), 8080), undefined, `${n}: another address`);
    t.throws(() => svc.addDest({ addr: ipToU32(ips[1]!), port: 8080, weight: 1 }), {
      message: 'Destination already exists',
    });
    svc.delDest(ipToU32(ips[1]!), 8080);
    t.is(svc.getDest(ipToU32(ips[1]!), 8080), undefined, `${n}: deleted`);
    t.throws(() => svc.editDest({ addr: ipToU32(ips[1]!), port: 8080, weight: 2 }), {
      message: 'No such destination',
    });
    svc.addDest({ addr: ipToU32(ips[1]!), port: 8080, weight: 3 });
    t.is(svc.getDest(ipToU32(ips[1]!), 8080)?.weight, 3, `${n}: added again`);
    t.is(svc.numDests, n);
  }
});

test('the packet path rr walk picks what rr.ts picks through list changes (cursor successor kept)', (t) => {
  // Twin services: one scheduled by Ipvs.classify on the records (which keeps the cursor's
  // successor), one by RoundRobinScheduler on the objects; the same random adds, deletes,
  // quiesces and scheduler rebinds on both. Any stale successor shows as a different pick.
  const rnd = seededRandom(11);
  const ipvs = new Ipvs();
  const vip = ipToU32('10.96.0.9');
  const spec = { protocol: IPPROTO_TCP, addr: vip, port: 80, scheduler: 'rr' };
  const fast = ipvs.services.add(spec);
  const slow = new VirtualService(spec);
  const pool = Array.from({ length: 8 }, (_, i) => ipToU32(`10.244.0.${i + 1}`));
  let sport = 1000;
  for (let step = 0; step < 3000; step++) {
    const r = rnd();
    const addr = pool[Math.floor(rnd() * pool.length)]!;
    const both = (f: (s: VirtualService) => void) => [fast, slow].forEach(f);
    const has = fast.getDest(addr, 8080) !== undefined;
    if (r < 0.15 && !has) both((s) => s.addDest({ addr, port: 8080, weight: 1 }));
    else if (r < 0.25 && has) both((s) => s.delDest(addr, 8080));
    else if (r < 0.3 && has) {
      const weight = rnd() < 0.5 ? 0 : 2;
      both((s) => s.editDest({ addr, port: 8080, weight }));
    } else if (r < 0.31) {
      both((s) => s.edit({ ...spec, scheduler: 'wrr' }));
      both((s) => s.edit(spec));
    } else {
      const id = ipvs.classify(
        IPPROTO_TCP,
        ipToU32('10.244.9.9'),
        sport++,
        vip,
        80,
        TCP_SYN,
        60,
        0,
      );
      const want = slow.scheduler.schedule(slow, packet('10.244.9.9'));
      const got = id >= 0 ? ipvs.conns.daddr[id]! : null;
      if (got !== (want?.addr ?? null)) return t.fail(`step ${step}: ${got} vs ${ip(want)}`);
      if (id >= 0) ipvs.expireNow(id, 0);
    }
  }
  t.pass();
});
