// svclab's nftables mode against kube-proxy's own expected transaction:
// TestOverallNFTablesRules in pkg/proxy/nftables/proxier_test.go (kubernetes/kubernetes
// commit 030880a5dc5449403c6d1f0aa146a7dc21d6c6dc, the v1.34+ layout), its inputs turned
// into Services and EndpointSlices (kube-fixture.ts) and NewFakeProxier's settings
// (nodePortAddresses 192.168.0.2/32, service CIDR 172.30.0.0/16), compared the way
// assertNFTablesTransactionEqual compares (both sides through sortNFTablesTransaction).
import { readFileSync } from 'node:fs';
import test from 'ava';
import { dumpTransaction } from '../../../src/proxy/nftables/dump.ts';
import { overallServicesCurrent, overallSlices } from '../iptables/kube-fixture.ts';
import { nftProxier } from './fixture.ts';
import { matchingLines, sortNFTablesTransaction } from './kube-sort.ts';

const EXPECTED = readFileSync(
  new URL('./fixtures/kube-overall-nftables.txt', import.meta.url),
  'utf8',
);

const overall = (version?: string) =>
  nftProxier(overallServicesCurrent(), overallSlices(), {
    nodePortAddresses: ['192.168.0.2/32'],
    ...(version !== undefined ? { version } : {}),
  });

test('matches kube-proxy TestOverallNFTablesRules (current layout, the default)', (t) => {
  const want = sortNFTablesTransaction(EXPECTED);
  const got = sortNFTablesTransaction(dumpTransaction(overall().ruleset));
  t.log(`${matchingLines(want, got)} of ${want.length} expected lines match`);
  t.deepEqual(got, want);
});

test('v1.33 selects the older layout: filter chains before DNAT, dport in the masquerade rule', (t) => {
  const want = sortNFTablesTransaction(EXPECTED);
  const got = sortNFTablesTransaction(dumpTransaction(overall('v1.33.0').ruleset));
  const missing = want.filter((l) => !got.includes(l));
  const extra = got.filter((l) => !want.includes(l));
  // kubernetes#132456: the pre-DNAT chains, and the endpoint checks at priority 0.
  t.true(
    missing.includes(
      'add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }',
    ),
  );
  t.true(
    extra.includes(
      'add chain ip kube-proxy filter-output-post-dnat { type filter hook output priority -90 ; }',
    ),
  );
  t.true(
    extra.includes(
      'add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }',
    ),
  );
  // kubernetes#131492: the service chain's masquerade rule also matched the port.
  t.true(
    extra.includes(
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
    ),
  );
  t.log(`v1.33 shape: ${want.length - missing.length} of ${want.length} current lines match`);
  // Renamed or re-prioritised chains and their rules, and the five masquerade rules:
  // every line that differs has its older counterpart.
  t.is(missing.length, extra.length);
});
