// Statistics and cost of the nftables ruleset: `numgen random mod 3` spreads new
// connections evenly, and a first packet visits the same number of rules (one map
// probe per lookup) whether the table holds a hundred services or ten thousand.
import test from 'ava';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { u32ToIp } from '../../../src/packet/addr.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { nftProxier } from './fixture.ts';
import { sendFirstPacket } from '../flow.ts';

const THREE = makeSlice(
  'default',
  'myapp',
  'myapp-abc',
  [ep('10.244.1.10'), ep('10.244.2.10'), ep('10.244.3.10')],
  [tcp('http', 8080)],
);
const MYAPP = makeService('default', 'myapp', {
  clusterIP: '10.96.0.100',
  ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
});

/** A distinct pod-network client address per index. */
function client(i: number): string {
  return `10.${100 + ((i >> 16) & 7)}.${(i >> 8) & 255}.${i & 255}`;
}

test('30,000 new connections spread within ±2% of 1/3 over three endpoints (seeded)', (t) => {
  const px = nftProxier([MYAPP], [THREE], { random: seededRandom(42) });
  const counts = new Map<string, number>();
  const N = 30000;
  for (let i = 0; i < N; i++) {
    const r = sendFirstPacket(px, { src: client(i), dst: '10.96.0.100', dport: 80 }, 1024 + i);
    counts.set(r.output, (counts.get(r.output) ?? 0) + 1);
  }
  t.deepEqual([...counts.keys()].sort(), [
    '10.244.1.10:8080',
    '10.244.2.10:8080',
    '10.244.3.10:8080',
  ]);
  t.log([...counts].map(([k, n]) => `${k} ${(n / N).toFixed(4)}`).join('  '));
  for (const [target, n] of counts) t.true(Math.abs(n / N - 1 / 3) <= 0.02, `${target}: ${n}`);
});

test('numgen maps the random word as reciprocal_scale does (u32 * n >> 32)', (t) => {
  // Random words at the edges of each third pick the endpoint kube-proxy's rule names.
  const words = [0, 0x55555555, 0x55555556, 0xaaaaaaaa, 0xaaaaaaab, 0xffffffff];
  const picked = words.map((w) => {
    const px = nftProxier([MYAPP], [THREE], { random: () => w / 4294967296 });
    return sendFirstPacket(px, { src: '10.100.0.1', dst: '10.96.0.100', dport: 80 }).output;
  });
  t.deepEqual(picked, [
    '10.244.1.10:8080',
    '10.244.1.10:8080',
    '10.244.2.10:8080',
    '10.244.2.10:8080',
    '10.244.3.10:8080',
    '10.244.3.10:8080',
  ]);
});

function manyServices(n: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push(
      makeService('bench', name, {
        type: 'NodePort',
        clusterIP: u32ToIp(0x0a600000 + 16 + i),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 20000 + i }],
      }),
    );
    slices.push(
      makeSlice(
        'bench',
        name,
        `${name}-1`,
        [ep(u32ToIp(0x0af40000 + 256 + 2 * i)), ep(u32ToIp(0x0af40000 + 257 + 2 * i))],
        [tcp('http', 8080)],
      ),
    );
  }
  return { services, slices };
}

test('a first packet visits as many rules at 10,000 services as at 100', (t) => {
  const visited = (n: number) => {
    const { services, slices } = manyServices(n);
    const px = nftProxier(services, slices);
    // First, middle and last service: to the ClusterIP, and to the NodePort.
    return [0, n >> 1, n - 1].flatMap((i) => {
      const vip = sendFirstPacket(px, {
        src: '10.1.0.5',
        dst: u32ToIp(0x0a600000 + 16 + i),
        dport: 80,
      });
      const np = sendFirstPacket(px, { src: '203.0.113.9', dst: '192.168.0.2', dport: 20000 + i });
      t.regex(vip.output, /^10\.244\./);
      t.regex(np.output, /^10\.244\./);
      return [vip.rulesVisited, np.rulesVisited];
    });
  };
  const small = visited(100);
  const large = visited(10_000);
  t.log(`rules visited at 100: ${small.join(' ')}; at 10,000: ${large.join(' ')}`);
  t.deepEqual(large, small);
  // filter-prerouting 1 + firewall-check 1, nat-prerouting 1 + services 1 + service 2 +
  // endpoint 2, filter-forward 2 + service-endpoints-check 1 + cluster-ips-check 2,
  // nat-postrouting 1 + masquerading 1.
  t.is(small[0], 15);
});
