// `ipset list` against real output: the same operations on ipset 7.17 / Linux 6.18 with the
// same initval give the same member order (jhash2 buckets), sizes and resize (fixture), and the
// bitmap:port / empty-set layouts match what kube-proxy's sets look like on a node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { IpSet, ipsetList, ipsetSave } from '../../../src/proxy/ipvs/ipset.ts';
import { jhash2 } from '../../../src/proxy/ipvs/jhash.ts';
import { KubeIpsets } from '../../../src/proxy/ipvs/kube-ipsets.ts';
import { ipsetCases } from './ipset-cases.ts';

const fixture = readFileSync(new URL('./fixtures/ipset-list.txt', import.meta.url), 'utf8');

test('ipset list matches ipset 7.17 for the recorded operations, member for member', (t) => {
  const sets: IpSet[] = [];
  for (const c of ipsetCases()) {
    const s = new IpSet(c.name, c.type, { initval: c.initval });
    for (const [op, e] of c.ops) {
      if (op === 'add') s.add(e);
      else s.del(e);
    }
    sets.push(s);
  }
  const blocks = ipsetList(sets).trimEnd().split('\n\n');
  const e = sets.find((s) => s.name === 'E')!;
  const digest = createHash('sha256').update(e.entries().join('\n')).digest('hex');
  const mine = blocks
    .map((b) =>
      b.startsWith('Name: E\n') ? b.slice(0, b.indexOf('Members:') + 9) + `# sha256 ${digest}` : b,
    )
    .join('\n\n');
  const real = fixture.replace(/^#.*\n/gm, (l) => (l.startsWith('# sha256') ? l : '')).trimEnd();
  t.is(mine, real);
  t.is(e.hashsize, 2048);
});

test('kube-proxy shaped sets: bitmap:port and an empty hash set print as on a node', (t) => {
  const np = new IpSet('KUBE-NODE-PORT-TCP', 'bitmap:port');
  np.add('32642');
  np.add('30001');
  np.references = 1;
  const empty = new IpSet('KUBE-LOAD-BALANCER', 'hash:ip,port', { initval: 0x7383c9e9 });
  t.is(
    ipsetList([np, empty]),
    [
      'Name: KUBE-NODE-PORT-TCP',
      'Type: bitmap:port',
      'Revision: 3',
      'Header: range 0-65535',
      'Size in memory: 8264',
      'References: 1',
      'Number of entries: 2',
      'Members:',
      '30001',
      '32642',
      '',
      'Name: KUBE-LOAD-BALANCER',
      'Type: hash:ip,port',
      'Revision: 7',
      'Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x7383c9e9',
      'Size in memory: 216',
      'References: 0',
      'Number of entries: 0',
      'Members:',
      '',
    ].join('\n'),
  );
  t.is(
    ipsetSave([np]),
    'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30001\nadd KUBE-NODE-PORT-TCP 32642\n',
  );
});

test('adding twice is a no-op, deleting an absent member is false, bad entries throw', (t) => {
  const s = new IpSet('KUBE-CLUSTER-IP', 'hash:ip,port');
  t.true(s.add('10.96.0.1,tcp:443'));
  t.false(s.add('10.96.0.1,tcp:443'));
  t.true(s.has('10.96.0.1,tcp:443'));
  t.false(s.has('10.96.0.1,udp:443'));
  t.false(s.del('10.96.0.2,tcp:443'));
  t.throws(() => s.add('10.96.0.1:443'));
  t.is(s.size, 1);
});

test('jhash2 with no words is JHASH_INITVAL + initval (the case-0 path)', (t) => {
  t.is(jhash2([], 0), 0xdeadbeef);
  t.is(jhash2([], 1), 0xdeadbef0);
  t.not(jhash2([1], 0), jhash2([2], 0));
});

test('past maxelem an add fails with "Hash is full"; kube-proxy logs it and goes on', (t) => {
  const s = new IpSet('KUBE-CLUSTER-IP', 'hash:ip,port', { maxelem: 3 });
  for (let i = 1; i <= 3; i++) s.add(`10.96.0.${i},tcp:80`);
  t.throws(() => s.add('10.96.0.4,tcp:80'), { message: 'ipset KUBE-CLUSTER-IP: Hash is full' });
  const k = new KubeIpsets();
  const full = k.get('KUBE-IPVS-IPS');
  for (let i = 0; i < 65536; i++)
    k.ref('KUBE-IPVS-IPS', `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
  t.is(full.size, 65536);
  k.ref('KUBE-IPVS-IPS', '10.97.0.0');
  t.is(k.errors, 1);
  t.is(k.lastError, 'ipset KUBE-IPVS-IPS: Hash is full');
});
