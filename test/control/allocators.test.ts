import test from 'ava';
import { ipToU32 } from '../../src/packet/addr.ts';
import { AllocationError } from '../../src/control/allocators/bitmap.ts';
import { ClusterIPAllocator } from '../../src/control/allocators/cluster-ip.ts';
import { LoadBalancerPool } from '../../src/control/allocators/load-balancer.ts';
import { NodePortAllocator, parsePortRange } from '../../src/control/allocators/node-port.ts';
import { HostLocalIpam, nodePodCidr } from '../../src/control/ipam.ts';
import { Rng } from '../../src/control/rng.ts';

const failure = (fn: () => unknown): [string, string] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AllocationError) return [e.failure, e.message];
    throw e;
  }
  return ['none', ''];
};

test('ClusterIP: explicit addresses are honoured, a second claim conflicts', (t) => {
  const a = new ClusterIPAllocator('10.96.0.0/12', new Rng(1));
  a.allocate('10.96.0.10');
  t.true(a.has('10.96.0.10'));
  t.deepEqual(
    failure(() => a.allocate('10.96.0.10')),
    ['allocated', 'provided IP is already allocated'],
  );
  t.deepEqual(
    failure(() => a.allocate('10.112.0.1')),
    [
      'notInRange',
      'provided IP (10.112.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ],
  );
  // Network and broadcast addresses are not allocatable.
  t.is(failure(() => a.allocate('10.96.0.0'))[0], 'notInRange');
  t.is(failure(() => a.allocate('10.111.255.255'))[0], 'notInRange');
});

test('ClusterIP: dynamic picks are random, in range, and avoid the static band', (t) => {
  const a = new ClusterIPAllocator('10.96.0.0/12', new Rng(1));
  const base = ipToU32('10.96.0.0');
  const picks = Array.from({ length: 200 }, () => a.allocateNext());
  t.is(new Set(picks).size, 200);
  for (const ip of picks) {
    const off = ipToU32(ip) - base;
    // The first 256 addresses (10.96.0.1 .. 10.96.1.0) are left for explicit IPs.
    t.true(off > 256 && off < 2 ** 20 - 1, ip);
  }
  const again = new ClusterIPAllocator('10.96.0.0/12', new Rng(1));
  t.is(again.allocateNext(), picks[0]!);
});

test('ClusterIP: a tiny range is exhausted with a clear error, and release makes room', (t) => {
  const a = new ClusterIPAllocator('10.0.0.0/29', new Rng(3));
  const got = Array.from({ length: 6 }, () => a.allocateNext()).sort();
  t.deepEqual(got, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  t.deepEqual(
    failure(() => a.allocateNext()),
    ['full', 'range is full'],
  );
  a.release('10.0.0.4');
  t.is(a.used, 5);
  t.is(a.allocateNext(), '10.0.0.4');
});

test('NodePort: explicit, conflict, out of range, dynamic band, exhaustion, release', (t) => {
  const p = new NodePortAllocator(parsePortRange('30000-32767'), new Rng(9));
  p.allocate(30080);
  t.deepEqual(
    failure(() => p.allocate(30080)),
    ['allocated', 'provided port is already allocated'],
  );
  t.deepEqual(
    failure(() => p.allocate(80)),
    [
      'notInRange',
      'provided port is not in the valid range. The range of valid ports is 30000-32767',
    ],
  );
  for (let i = 0; i < 100; i++) {
    const n = p.allocateNext();
    // min(max(16, 2768/32), 128) = 86 ports are kept for explicit requests.
    t.true(n >= 30086 && n <= 32767, String(n));
  }
  const tiny = new NodePortAllocator({ min: 30000, max: 30004 }, new Rng(9));
  const all = Array.from({ length: 5 }, () => tiny.allocateNext()).sort();
  t.deepEqual(all, [30000, 30001, 30002, 30003, 30004]);
  t.deepEqual(
    failure(() => tiny.allocateNext()),
    ['full', 'range is full'],
  );
  tiny.release(30002);
  t.is(tiny.allocateNext(), 30002);
  t.throws(() => parsePortRange('32767-30000'));
});

test('LoadBalancer pool hands out the lowest free address, honours requests, runs out', (t) => {
  const pool = new LoadBalancerPool('192.168.100.240/30');
  t.is(pool.allocateNext(), '192.168.100.241');
  pool.allocate('192.168.100.242');
  t.is(failure(() => pool.allocateNext())[0], 'full');
  t.is(failure(() => pool.allocate('192.168.100.1'))[0], 'notInRange');
  pool.release('192.168.100.241');
  t.is(pool.allocateNext(), '192.168.100.241');
});

test('node pod CIDRs are carved in node order', (t) => {
  t.deepEqual(
    [0, 1, 2].map((i) => nodePodCidr('10.244.0.0/16', 24, i)),
    ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24'],
  );
  t.is(nodePodCidr('10.128.0.0/9', 20, 3), '10.128.48.0/20');
  t.throws(() => nodePodCidr('10.244.0.0/16', 24, 256), { message: /no room for node #257/ });
});

test('host-local IPAM: starts at .2, moves on after the last address, wraps around', (t) => {
  const ipam = new HostLocalIpam('10.244.1.0/29');
  t.is(ipam.gateway, '10.244.1.1');
  const first = [ipam.allocate(), ipam.allocate(), ipam.allocate()];
  t.deepEqual(first, ['10.244.1.2', '10.244.1.3', '10.244.1.4']);
  ipam.release('10.244.1.2');
  // A freed address is not reused at once: the next pod gets a new IP.
  t.is(ipam.allocate(), '10.244.1.5');
  t.is(ipam.allocate(), '10.244.1.6');
  t.is(ipam.allocate(), '10.244.1.2'); // wrapped
  t.is(ipam.allocate(), undefined); // .2-.6 all used (.7 is broadcast)
});
