import test from 'ava';
import dnsPacket from 'dns-packet';
import { SECOND } from '../../src/control/clock.ts';
import { answerQuery } from '../../src/dns/server.ts';
import {
  formatResolvConf,
  parseResolvConf,
  podResolvConf,
  resolveName,
  searchCandidates,
} from '../../src/sim/clients/resolver.ts';
import type { ResolveResult } from '../../src/sim/clients/resolver.ts';
import { seedIndex } from '../dns/fixtures.ts';
import { wire } from './wire.ts';

const conf = podResolvConf('default');

test("a pod's resolv.conf, as the kubelet writes it", (t) => {
  const text = formatResolvConf(conf);
  t.is(
    text,
    'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
  );
  t.deepEqual(parseResolvConf(text), conf);
});

test('search order: fewer than ndots dots tries the suffixes first; a trailing dot never searches', (t) => {
  t.deepEqual(searchCandidates('myapp', conf), [
    'myapp.default.svc.cluster.local',
    'myapp.svc.cluster.local',
    'myapp.cluster.local',
    'myapp',
  ]);
  t.deepEqual(
    searchCandidates('myapp.default.svc.cluster.local', conf)[0],
    'myapp.default.svc.cluster.local.default.svc.cluster.local',
  );
  t.deepEqual(searchCandidates('myapp.default.svc.cluster.local.', conf), [
    'myapp.default.svc.cluster.local',
  ]);
  t.deepEqual(searchCandidates('a.b.c.d.e.f', conf)[0], 'a.b.c.d.e.f');
  t.deepEqual(searchCandidates('a.b', { search: ['x'], ndots: 1 }), ['a.b', 'a.b.x']);
});

/** Resolve on a (10.0.0.1) against CoreDNS answers on b (10.0.0.2), recording the questions. */
function resolveWith(name: string, silent = false) {
  const w = wire();
  const asked: string[] = [];
  const index = seedIndex();
  const dns = w.b.udpBind(53);
  dns.onMessage = (q, r) => {
    asked.push(dnsPacket.decode(Buffer.from(q)).questions?.[0]?.name ?? '?');
    const out = answerQuery(index, q, { ttl: 5, serial: 1, transport: 'udp' });
    if (out && !silent) dns.send(r.address, r.port, out);
  };
  let res: ResolveResult | undefined;
  resolveName(w.a, name, { ...conf, nameservers: ['10.0.0.2'] }, (r) => (res = r));
  w.run(600 * SECOND);
  return { res: res!, asked };
}

test('the pod resolver asks the names in search order and stops at the first answer', (t) => {
  const short = resolveWith('myapp');
  t.deepEqual(short.asked, ['myapp.default.svc.cluster.local']);
  t.deepEqual(short.res.ips, ['10.100.7.45']);
  const ns = resolveWith('myapp.default');
  t.deepEqual(ns.asked, [
    'myapp.default.default.svc.cluster.local',
    'myapp.default.svc.cluster.local',
  ]);
  t.deepEqual(
    ns.res.tried.map((x) => x.result),
    ['NXDOMAIN', 'NOERROR'],
  );
  const headless = resolveWith('myapp-headless');
  t.deepEqual(headless.res.ips, ['10.244.1.2', '10.244.2.2', '10.244.1.3']);
  const missing = resolveWith('nosuch');
  t.is(missing.asked.length, 4);
  t.is(missing.asked[3], 'nosuch');
  t.is(missing.res.error, 'NXDOMAIN');
  const external = resolveWith('my-service-1');
  t.deepEqual(external.res.tried.map((x) => x.result)[0], 'NODATA');
});

test('a silent nameserver: 5 s per try, 2 attempts per name, then TIMEOUT', (t) => {
  const { res, asked } = resolveWith('myapp', true);
  t.is(res.error, 'TIMEOUT');
  t.is(asked.length, 8);
  t.is(res.elapsedNs, 40 * SECOND);
});
