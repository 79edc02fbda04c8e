// `ipset list` against real output: the same operations on ipset 7.17 / Linux 6.18 with the
// same initval give the same member order (jhash2 buckets), sizes and resize (fixture), and the
// bitmap:port / empty-set layouts match what kube-proxy's sets look like on a node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  IpSet,
  ipsetList,
  ipsetSave,
  memberText,
  parseMember,
  portProto,
} from '../../../src/proxy/ipvs/ipset.ts';
import type { IpsetType } from '../../../src/proxy/ipvs/ipset.ts';
import { jhash2 } from '../../../src/proxy/ipvs/jhash.ts';
import { KubeIpsets, SetId } from '../../../src/proxy/ipvs/kube-ipsets.ts';
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

test('members as words: every type parses, prints back and tests the same as its text', (t) => {
  const cases: [IpsetType, string, string][] = [
    ['hash:ip', '10.96.0.1', '10.96.0.1'],
    ['hash:ip', '192.168.255.254', '192.168.255.254'],
    ['hash:ip,port', '10.96.0.1,tcp:443', '10.96.0.1,tcp:443'],
    ['hash:ip,port', '203.0.113.7,sctp:30001', '203.0.113.7,sctp:30001'],
    ['hash:ip,port,ip', '10.244.1.2,udp:53,10.244.1.2', '10.244.1.2,udp:53,10.244.1.2'],
    ['hash:ip,port,net', '1.2.3.4,tcp:80,10.0.0.0/8', '1.2.3.4,tcp:80,10.0.0.0/8'],
    ['hash:ip,port,net', '1.2.3.4,tcp:80,203.0.113.9', '1.2.3.4,tcp:80,203.0.113.9'],
    ['hash:ip,port,net', '1.2.3.4,tcp:80,10.1.2.3/16', '1.2.3.4,tcp:80,10.1.0.0/16'],
    ['bitmap:port', '30001', '30001'],
  ];
  for (const [type, text, printed] of cases) {
    const m = parseMember(type, text)!;
    t.is(memberText(type, m.a, m.b, m.c), printed, text);
    const s = new IpSet('S', type);
    t.true(s.addMember(m.a, m.b, m.c));
    t.true(s.has(printed), text);
    t.deepEqual(s.entries(), [printed]);
    t.true(s.del(text));
    t.is(s.size, 0);
  }
  t.is(parseMember('hash:ip,port', '10.96.0.1:443'), undefined);
  t.is(parseMember('bitmap:port', '70000'), undefined);
});

test('hash:ip,port,net matches a source by each prefix length the set holds', (t) => {
  const s = new IpSet('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net');
  s.add('1.2.3.4,tcp:80,10.0.0.0/8');
  s.add('1.2.3.4,tcp:80,192.168.1.0/24');
  s.add('1.2.3.4,udp:80,172.16.0.1');
  const lb = ipToU32('1.2.3.4');
  const src = (x: string) => ipToU32(x);
  t.true(s.testIpPortSrc(lb, 6, 80, src('10.200.1.1')));
  t.true(s.testIpPortSrc(lb, 6, 80, src('192.168.1.77')));
  t.false(s.testIpPortSrc(lb, 6, 80, src('192.168.2.77')));
  t.false(s.testIpPortSrc(lb, 6, 81, src('10.200.1.1')));
  t.true(s.testIpPortSrc(lb, 17, 80, src('172.16.0.1')));
  t.false(s.testIpPortSrc(lb, 17, 80, src('172.16.0.2')));
  s.del('1.2.3.4,tcp:80,10.0.0.0/8');
  t.false(s.testIpPortSrc(lb, 6, 80, src('10.200.1.1')));
  t.true(s.testIpPortSrc(lb, 6, 80, src('192.168.1.77')));
});

test('reference counts by words and by text are one count', (t) => {
  const k = new KubeIpsets(1);
  const vip = ipToU32('10.96.0.10');
  k.refMember(SetId.CLUSTER_IP, vip, portProto(6, 53), 0);
  k.ref('KUBE-CLUSTER-IP', '10.96.0.10,tcp:53');
  t.is(k.adds, 1);
  k.unref('KUBE-CLUSTER-IP', '10.96.0.10,tcp:53');
  t.true(k.get('KUBE-CLUSTER-IP').has('10.96.0.10,tcp:53'));
  k.unrefMember(SetId.CLUSTER_IP, vip, portProto(6, 53), 0);
  t.false(k.get('KUBE-CLUSTER-IP').testIpPort(vip, 6, 53));
  t.is(k.dels, 1);
  t.is(k.list[SetId.IPVS_IPS]!.name, 'KUBE-IPVS-IPS');
  t.is(k.list[SetId.NODE_PORT_LOCAL_SCTP]!.name, 'KUBE-NODE-PORT-LOCAL-SCTP-HASH');
});
