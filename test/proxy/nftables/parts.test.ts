// The pieces under the ruleset: kube-proxy's chain names, the pair hash behind sets
// and maps, and nft's ways of printing times, priorities and address sets.
import test from 'ava';
import fc from 'fast-check';
import { parseCidr } from '../../../src/packet/addr.ts';
import { addressSet } from '../../../src/proxy/nftables/exprs.ts';
import { formatPriority, formatTime } from '../../../src/proxy/nftables/list.ts';
import {
  hashAndTruncate,
  isServiceChainName,
  servicePortChainNameBase,
  servicePortEndpointChainNameBase,
} from '../../../src/proxy/nftables/names.ts';
import { PairTable } from '../../../src/proxy/nftables/pair-table.ts';

const spn = (namespace: string, name: string, port: string) =>
  ({ namespace, name, port, protocol: 'TCP' }) as const;

test('chain name bases match kube-proxy (proxier_test.go expected rules)', (t) => {
  t.is(servicePortChainNameBase(spn('ns1', 'svc1', 'p80'), 'tcp'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  t.is(servicePortChainNameBase(spn('ns5', 'svc5', 'p80'), 'tcp'), 'HVFWP5L3-ns5/svc5/tcp/p80');
  t.is(
    servicePortEndpointChainNameBase(spn('ns1', 'svc1', 'p80'), 'tcp', '10.180.0.1', 80),
    '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
  );
  t.is(
    servicePortEndpointChainNameBase(spn('ns5', 'svc5', 'p80'), 'tcp', '10.180.0.3', 80),
    'GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
  );
  t.true(isServiceChainName('service-ULMVA6XW-ns1/svc1/tcp/p80'));
  t.false(isServiceChainName('services'));
});

test('hashAndTruncate keeps names under the nft limit with a trailing ...', (t) => {
  const long = hashAndTruncate('x'.repeat(300));
  t.is(long.length, 240);
  t.true(long.endsWith('...'));
  t.regex(long, /^[A-Z2-7]{8}-x/);
});

test('PairTable agrees with a Map on random keys, through growth and replacement', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffff), fc.nat(1000)), { maxLength: 400 }),
      fc.array(fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffff)), { maxLength: 50 }),
      (puts, probes) => {
        const table = new PairTable(2);
        const ref = new Map<string, number>();
        for (const [a, b, v] of puts) {
          table.set(a, b, v);
          ref.set(`${a}/${b}`, v);
        }
        if (table.size !== ref.size) return false;
        for (const [a, b] of [...puts.map(([a, b]) => [a, b] as const), ...probes]) {
          if (table.get(a, b) !== (ref.get(`${a}/${b}`) ?? -1)) return false;
        }
        return true;
      },
    ),
  );
  t.pass();
});

test('time_print', (t) => {
  t.is(formatTime(10800 * 1000), '3h');
  t.is(formatTime(86400 * 1000), '1d');
  t.is(formatTime(90061 * 1000), '1d1h1m1s');
  t.is(formatTime(10000 * 1000), '2h46m40s');
  t.is(formatTime(58772), '58s772ms');
});

test('priorities print by name only where the hook allows it', (t) => {
  const p = (hookName: 'prerouting' | 'input' | 'output' | 'postrouting', priority: number) =>
    formatPriority({ type: 'filter', hook: 0, hookName, priority });
  t.is(p('prerouting', -110), 'dstnat - 10');
  t.is(p('prerouting', -100), 'dstnat');
  t.is(p('prerouting', -90), 'dstnat + 10');
  t.is(p('input', -110), '-110');
  t.is(p('output', -100), '-100');
  t.is(p('output', -90), '-90');
  t.is(p('postrouting', 100), 'srcnat');
  t.is(p('input', 0), 'filter');
  t.is(p('output', -150), 'mangle');
});

test('anonymous address sets merge like nft and print bare when written with one element', (t) => {
  const s = (...c: string[]) => addressSet(c.map((x) => parseCidr(x))).text;
  t.is(s('203.0.113.0/25'), '203.0.113.0/25');
  t.is(s('1.2.3.4/32'), '1.2.3.4');
  t.is(s('10.0.0.0/25', '10.0.0.128/25'), '{ 10.0.0.0/24 }');
  t.is(
    s('10.0.0.0/25', '10.0.0.128/26', '1.1.1.1/32', '1.1.1.2/32'),
    '{ 1.1.1.1-1.1.1.2, 10.0.0.0-10.0.0.191 }',
  );
  t.is(
    s('192.168.0.0/24', '192.168.0.2/32', '203.0.113.0/25'),
    '{ 192.168.0.0/24, 203.0.113.0/25 }',
  );
  t.is(s('10.0.0.0/8', '0.0.0.0/0'), '{ 0.0.0.0/0 }');
  t.deepEqual([...addressSet([parseCidr('10.0.0.0/31')]).ranges], [0x0a000000, 0x0a000001]);
});
