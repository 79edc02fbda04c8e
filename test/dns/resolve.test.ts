import test from 'ava';
import type { RecordType } from 'dns-packet';
import { type Rcode, resolve } from '../../src/dns/resolve.ts';
import { seedIndex } from './fixtures.ts';

const opts = { ttl: 5, serial: 1658834300 };
const index = seedIndex();
const data = (name: string, type: RecordType) =>
  resolve(index, name, type, opts).answers.map((a) => ('data' in a ? a.data : undefined));

const table: [string, RecordType, Rcode, unknown[]][] = [
  ['myapp.default.svc.cluster.local', 'A', 'NOERROR', ['10.100.7.45']],
  ['MyApp.Default.svc.cluster.local.', 'A', 'NOERROR', ['10.100.7.45']],
  [
    'myapp-headless.default.svc.cluster.local',
    'A',
    'NOERROR',
    ['10.244.1.2', '10.244.2.2', '10.244.1.3'],
  ],
  ['empty-headless.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['my-service-1.default.svc.cluster.local', 'A', 'NOERROR', ['hub.atguigu.com']],
  ['myapp.default.svc.cluster.local', 'AAAA', 'NOERROR', []],
  ['nosuch.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['myapp.nosuchns.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['default.svc.cluster.local', 'A', 'NOERROR', []],
  ['10-244-1-2.myapp-headless.default.svc.cluster.local', 'A', 'NOERROR', ['10.244.1.2']],
  ['10-244-1-2.myapp.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['10-244-2-3.myapp-headless.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
  [
    '_http._tcp.myapp.default.svc.cluster.local',
    'SRV',
    'NOERROR',
    [{ priority: 0, weight: 100, port: 80, target: 'myapp.default.svc.cluster.local' }],
  ],
  ['_http._udp.myapp.default.svc.cluster.local', 'SRV', 'NXDOMAIN', []],
  [
    '_dns._udp.kube-dns.kube-system.svc.cluster.local',
    'SRV',
    'NOERROR',
    [{ priority: 0, weight: 100, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' }],
  ],
  ['45.7.100.10.in-addr.arpa', 'PTR', 'NOERROR', ['myapp.default.svc.cluster.local']],
  [
    '2.1.244.10.in-addr.arpa',
    'PTR',
    'NOERROR',
    ['10-244-1-2.myapp-headless.default.svc.cluster.local'],
  ],
  ['9.9.9.10.in-addr.arpa', 'PTR', 'NXDOMAIN', []],
  ['10-244-1-7.default.pod.cluster.local', 'A', 'NOERROR', ['10.244.1.7']],
  ['10-244-1.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['dns-version.cluster.local', 'TXT', 'NOERROR', [[Buffer.from('1.1.0')]]],
  ['hub.atguigu.com', 'A', 'SERVFAIL', []],
];

for (const [name, type, rcode, want] of table) {
  test(`${type} ${name} → ${rcode} ${JSON.stringify(want)}`, (t) => {
    const r = resolve(index, name, type, opts);
    t.is(r.rcode, rcode);
    const got = r.answers.map((a) => ('data' in a ? a.data : undefined));
    t.deepEqual(type === 'TXT' ? got.map((d) => [Buffer.from(String(d))]) : got, want);
  });
}

test('NXDOMAIN and NODATA carry the zone SOA in the authority section', (t) => {
  for (const [name, type] of [
    ['nosuch.default.svc.cluster.local', 'A'],
    ['myapp.default.svc.cluster.local', 'AAAA'],
  ] as const) {
    const r = resolve(index, name, type, opts);
    t.is(r.authorities.length, 1);
    t.is(r.authorities[0]?.type, 'SOA');
    t.is(r.authorities[0]?.name, 'cluster.local');
  }
});

test('headless SRV lists one record per ready endpoint, weight split evenly, with glue', (t) => {
  const r = resolve(index, '_web._tcp.myapp-headless.default.svc.cluster.local', 'SRV', opts);
  t.is(r.answers.length, 3);
  for (const a of r.answers) t.like(a, { type: 'SRV', data: { weight: 33, port: 80 } });
  t.deepEqual(
    r.additionals.map((a) => a.name),
    [
      '10-244-1-2.myapp-headless.default.svc.cluster.local',
      '10-244-2-2.myapp-headless.default.svc.cluster.local',
      '10-244-1-3.myapp-headless.default.svc.cluster.local',
    ],
  );
});

test('every record uses the configured TTL', (t) => {
  const r = resolve(index, 'myapp-headless.default.svc.cluster.local', 'A', { ...opts, ttl: 30 });
  t.true(r.answers.every((a) => 'ttl' in a && a.ttl === 30));
  t.is(data('myapp.default.svc.cluster.local', 'A').length, 1);
});

test('the shuffle hook reorders answers (loadbalance plugin)', (t) => {
  const r = resolve(index, 'myapp-headless.default.svc.cluster.local', 'A', {
    ...opts,
    shuffle: (x) => [...x].reverse(),
  });
  t.deepEqual(
    r.answers.map((a) => ('data' in a ? a.data : '')),
    ['10.244.1.3', '10.244.2.2', '10.244.1.2'],
  );
});
