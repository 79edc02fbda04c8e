// svclab's iptables mode against kube-proxy's own expected restore payload:
// TestOverallIPTablesRules in pkg/proxy/iptables/proxier_test.go (kubernetes/kubernetes
// commit 2bb4b1042dfd3a7645d1812037074b5eeedfab78), its inputs as Services and
// EndpointSlices (kube-fixture.ts) and its NewFakeProxier as options, compared the way
// assertIPTablesRulesEqual compares: svclab's payload through sortIPTablesRules, the
// expected text (fixtures/kube-overall-iptables.txt, copied from the test) as it stands.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { compileRuleSet } from '../../../src/proxy/iptables/compile.ts';
import type { IptablesOptions } from '../../../src/proxy/iptables/compile.ts';
import { restoreText } from '../../../src/proxy/iptables/rules.ts';
import {
  FAKE_PROXIER_OPTIONS,
  entriesOf,
  overallServicesCurrent,
  overallSlices,
} from './kube-fixture.ts';
import { sortIPTablesRules } from './kube-sort.ts';

const EXPECTED = readFileSync(
  new URL('./fixtures/kube-overall-iptables.txt', import.meta.url),
  'utf8',
);

const payload = (opts: Partial<IptablesOptions> = {}): string =>
  sortIPTablesRules(
    restoreText(
      compileRuleSet(entriesOf(overallServicesCurrent(), overallSlices()), {
        ...FAKE_PROXIER_OPTIONS,
        ...opts,
      }),
    ),
  );

/** Lines of `want` that `got` has, in order-insensitive multiset terms. */
function matching(want: string, got: string): number {
  const left = new Map<string, number>();
  for (const l of got.split('\n')) left.set(l, (left.get(l) ?? 0) + 1);
  let n = 0;
  for (const l of want.split('\n')) {
    const k = left.get(l) ?? 0;
    if (l !== '' && k > 0) {
      n++;
      left.set(l, k - 1);
    }
  }
  return n;
}

const expectedLines = EXPECTED.split('\n').filter((l) => l !== '').length;

test('matches kube-proxy TestOverallIPTablesRules (current release, the default)', (t) => {
  const got = payload();
  t.log(`${matching(EXPECTED, got)} of ${expectedLines} expected lines match`);
  t.is(got, EXPECTED);
});

test('v1.30 counts ct-state-invalid drops but has no localhost node-port counters', (t) => {
  const got = payload({ version: 'v1.30.4' });
  t.log(`v1.30 shape: ${matching(EXPECTED, got)} of ${expectedLines} current lines match`);
  t.true(
    got.includes(
      '-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
    ),
  );
  t.false(got.includes('localhost_nps_accepted_pkts'));
  t.is(
    got,
    EXPECTED.split('\n')
      .filter((l) => !l.includes('localhost_nps_accepted_pkts'))
      .join('\n'),
  );
});

test('a node without nfnetlink_acct (or kube-proxy before v1.30) writes no nfacct match', (t) => {
  const none = EXPECTED.split('\n')
    .filter((l) => !l.includes('localhost_nps_accepted_pkts'))
    .map((l) => l.replace(' -m nfacct --nfacct-name ct_state_invalid_dropped_pkts', ''))
    .join('\n');
  t.is(payload({ nfacct: false }), none);
  t.is(payload({ version: 'v1.29.0' }), none);
});

test('a node whose iptables supports it gets MASQUERADE --random-fully, as kube-proxy detects', (t) => {
  const got = payload({ randomFully: true });
  t.true(
    got.includes(
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully\n',
    ),
  );
  t.is(got.replace(' --random-fully', ''), EXPECTED);
});

/** assertIPTablesChainEqual: the chain's rules in the payload, in order. */
const chain = (opts: Partial<IptablesOptions>, table: 'filter' | 'nat', name: string): string =>
  restoreText(compileRuleSet([], { ...FAKE_PROXIER_OPTIONS, ...opts }))
    .split(`*${table}\n`)[1]!
    .split('COMMIT')[0]!
    .split('\n')
    .filter((l) => l.startsWith(`-A ${name} `))
    .map((l) => `${l}\n`)
    .join('');

// TestDropInvalidRule (same file and commit): KUBE-FORWARD with and without the counter.
// (Its third case, --conntrack-tcp-be-liberal dropping the rule, svclab does not model.)
const FORWARD_TAIL =
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n' +
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n';

test('matches kube-proxy TestDropInvalidRule (nfacct ensured or not)', (t) => {
  t.is(
    chain({ nfacct: false }, 'filter', 'KUBE-FORWARD'),
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n' + FORWARD_TAIL,
  );
  t.is(
    chain({ nfacct: true }, 'filter', 'KUBE-FORWARD'),
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\n' +
      FORWARD_TAIL,
  );
});

// TestMasqueradeRule (same file and commit): KUBE-POSTROUTING for a fake iptables with and
// without --random-fully support.
test('matches kube-proxy TestMasqueradeRule (randomFully false and true)', (t) => {
  for (const randomFully of [false, true]) {
    t.is(
      chain({ randomFully }, 'nat', 'KUBE-POSTROUTING'),
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n' +
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n' +
        `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}\n`,
    );
  }
});
