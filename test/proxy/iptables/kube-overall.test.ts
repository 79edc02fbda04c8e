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
