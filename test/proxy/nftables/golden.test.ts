// Golden `nft list ruleset` for a service set that exercises every kind of rule
// kube-proxy's nftables mode writes. The fixture was checked against the real nft
// 1.0.6: loaded with `nft -f` in a namespace, `nft list ruleset` printed it back
// unchanged (real-nft.test.ts repeats that check wherever it can run).
import { readFileSync } from 'node:fs';
import test from 'ava';
import { nftProxier } from './fixture.ts';
import { GOLDEN_OPTIONS, goldenServices, goldenSlices } from './golden-fixture.ts';

const GOLDEN = readFileSync(new URL('./fixtures/golden.nft', import.meta.url), 'utf8');

test('nft list ruleset matches the golden text', (t) => {
  const px = nftProxier(goldenServices(), goldenSlices(), GOLDEN_OPTIONS);
  t.is(px.listRuleset(), GOLDEN);
});

test('chain names carry kube-proxy hashes (as a real cluster shows them)', (t) => {
  // Seen in a real kube-proxy nftables ruleset for kube-system/kube-dns.
  t.true(GOLDEN.includes('service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp'));
  t.true(GOLDEN.includes('service-FY5PMXPG-kube-system/kube-dns/udp/dns'));
  t.true(GOLDEN.includes('service-AS2KJYAD-kube-system/kube-dns/tcp/metrics'));
});

test('every kind of service leaves its mark', (t) => {
  const has = (s: string) => t.true(GOLDEN.includes(s), s);
  has('numgen random mod 3 vmap { 0 : goto endpoint-'); // ClusterIP with three endpoints
  has('tcp . 30080 : goto external-SUSTUHLJ-default/web/tcp/http'); // NodePort
  has('10.96.0.130 . tcp . 80 comment "default/empty:http" : goto reject-chain'); // no endpoints
  has('tcp . 30130 comment "default/empty:http" : goto reject-chain');
  has('update @affinity-J6ETG7L3-default/sticky/tcp/http__10.244.1.40/8080 { ip saddr }');
  has('timeout 3h'); // affinity
  has('goto local-4Z6N3DUC-default/local/tcp/http'); // externalTrafficPolicy Local
  has('ip saddr != { 198.51.100.0/24, 203.0.113.0/25 } drop'); // source ranges
  has('192.0.2.30 . tcp . 80 : goto external-TJCMAZV6-default/ext/tcp/http'); // externalIPs
});

test('re-syncing an unchanged state keeps the same table object', (t) => {
  const px = nftProxier(goldenServices(), goldenSlices(), GOLDEN_OPTIONS);
  const before = px.ruleset;
  px.sync();
  t.is(px.ruleset, before);
  px.onServiceDelete(goldenServices()[0]!);
  px.sync();
  t.not(px.ruleset, before);
  t.false(px.listRuleset().includes('default/myapp'));
});
