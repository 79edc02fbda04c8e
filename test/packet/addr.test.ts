import test from 'ava';
import {
  cidrContains,
  cidrSize,
  formatCidr,
  ipToU32,
  parseCidr,
  prefixMask,
  tryIpToU32,
  tryParseCidr,
  u32ToIp,
} from '../../src/packet/addr.ts';

test('ipToU32 / u32ToIp on the seed cluster addresses', (t) => {
  t.is(ipToU32('10.0.100.10'), 0x0a00640a);
  t.is(ipToU32('10.96.0.10'), 0x0a60000a);
  t.is(ipToU32('255.255.255.255'), 0xffffffff);
  t.is(ipToU32('0.0.0.0'), 0);
  t.is(ipToU32('192.168.1.200'), 0xc0a801c8); // > 2^31: stays unsigned
  t.true(ipToU32('192.168.1.200') > 0);
  t.is(u32ToIp(0xc0a801c8), '192.168.1.200');
  t.is(u32ToIp(0xffffffff), '255.255.255.255');
  t.is(u32ToIp(-1), '255.255.255.255'); // a signed view of the same bits
});

test('malformed addresses: tryIpToU32 returns undefined, ipToU32 throws', (t) => {
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.-4',
    '01.2.3.4',
    '1..3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    'a.b.c.d',
    '1.2.3.4/8',
    '1.2.3.',
    '.1.2.3',
    '1.2.3.4444',
  ]) {
    t.is(tryIpToU32(bad), undefined, bad);
    t.throws(() => ipToU32(bad), { message: /invalid IPv4 address/ }, bad);
  }
  t.is(tryIpToU32(42 as unknown as string), undefined);
});

test('round trip over random addresses', (t) => {
  let x = 0x12345678;
  for (let i = 0; i < 2000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    t.is(ipToU32(u32ToIp(x)), x);
  }
});

test('parseCidr and cidrContains', (t) => {
  const pods = parseCidr('10.244.0.0/16');
  t.deepEqual(pods, { base: 0x0af40000, prefix: 16 });
  t.true(cidrContains(pods, ipToU32('10.244.2.3')));
  t.true(cidrContains(pods, ipToU32('10.244.255.255')));
  t.false(cidrContains(pods, ipToU32('10.245.0.0')));
  const svc = parseCidr('10.96.0.0/12');
  t.true(cidrContains(svc, ipToU32('10.96.0.10')));
  t.true(cidrContains(svc, ipToU32('10.111.255.255')));
  t.false(cidrContains(svc, ipToU32('10.112.0.0')));
  const all = parseCidr('0.0.0.0/0');
  t.true(cidrContains(all, 0xffffffff));
  const host = parseCidr('192.168.1.200/32');
  t.true(cidrContains(host, ipToU32('192.168.1.200')));
  t.false(cidrContains(host, ipToU32('192.168.1.201')));
  t.is(formatCidr(svc), '10.96.0.0/12');
  t.is(cidrSize(svc), 1 << 20);
  t.is(prefixMask(0), 0);
  t.is(prefixMask(32), 0xffffffff);
  t.is(prefixMask(12), 0xfff00000);
});

test('parseCidr rejects host bits unless loose, and malformed input', (t) => {
  t.is(tryParseCidr('10.244.1.0/16'), undefined);
  t.deepEqual(parseCidr('10.244.1.7/16', true), { base: 0x0af40000, prefix: 16 });
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/08', 'x/8']) {
    t.is(tryParseCidr(bad), undefined, bad);
    t.throws(() => parseCidr(bad), { message: /invalid IPv4 CIDR/ }, bad);
  }
});
