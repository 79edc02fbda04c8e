// The evaluator's chain semantics (jump/goto/return/policy, accept ending only its
// base chain, dnat rewriting what later chains see) and its trace steps.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  CtState,
  Hook,
  TABLE_FILTER,
  TABLE_NAT,
  Verdict,
  newPacketMeta,
} from '../../../src/proxy/hooks.ts';
import type { TraceEvent } from '../../../src/proxy/hooks.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { nftProxier } from './fixture.ts';

const svc = makeService('ns1', 'svc1', {
  clusterIP: '172.30.0.41',
  ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
});
const slice = makeSlice('ns1', 'svc1', 'svc1-1', [ep('10.180.0.1')], [tcp('p80', 80)]);

const meta = (src: string, dst: string, dport = 80) =>
  newPacketMeta({
    src: ipToU32(src),
    dst: ipToU32(dst),
    sport: 40000,
    dport,
    ctstate: CtState.NEW,
  });

test('trace names table kube-proxy, each chain and rule, and carries the nft rule text', (t) => {
  const px = nftProxier([svc], [slice], { random: seededRandom(1) });
  const steps: TraceEvent[] = [];
  const r = px.trace(
    meta('10.0.0.2', '172.30.0.41'),
    Hook.Prerouting,
    (e) => steps.push(e),
    TABLE_NAT,
  );
  t.true(r.dnat);
  t.true(steps.every((e) => e.table === 'kube-proxy'));
  t.deepEqual(
    steps.map((e) => `${e.chain}:${e.kind}:${e.ruleNum} ${e.text}`.trim()),
    [
      'filter-prerouting-pre-dnat:rule:1 ct state new jump firewall-check',
      'firewall-check:return:2',
      'filter-prerouting-pre-dnat:policy:2',
      'nat-prerouting:rule:1 jump services',
      'services:rule:1 ip daddr . meta l4proto . th dport vmap @service-ips',
      'service-ULMVA6XW-ns1/svc1/tcp/p80:rule:2 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }',
      'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80:rule:2 meta l4proto tcp dnat to 10.180.0.1:80',
    ],
  );
  t.deepEqual(
    steps.filter((e) => e.result !== undefined).map((e) => `${e.chain} -> ${e.result}`),
    [
      'services -> goto service-ULMVA6XW-ns1/svc1/tcp/p80',
      'service-ULMVA6XW-ns1/svc1/tcp/p80 -> goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
    ],
    'a verdict-map step names the element it found',
  );
  t.is(r.rulesVisited, 8, 'the rules examined, matching or not');
});

test('OUTPUT (v1.34+): filter-output-pre-dnat, nat-output, then filter-output sees the DNATed address', (t) => {
  const px = nftProxier([svc], [slice]);
  const chains: string[] = [];
  const r = px.trace(
    meta('192.168.0.2', '172.30.0.41'),
    Hook.Output,
    (e) => {
      if (e.kind === 'policy') chains.push(e.chain);
    },
    TABLE_NAT | TABLE_FILTER,
  );
  t.is(r.verdict, Verdict.Accept);
  t.true(r.dnat);
  // nat-output ends with the dnat statement (an accept), so it has no policy step.
  t.deepEqual(chains, ['filter-output-pre-dnat', 'filter-output']);
  // The same packet to an unserved port is refused by cluster-ips-check after nat.
  const bad = px.classify(meta('192.168.0.2', '172.30.0.41', 81), Hook.Output);
  t.is(bad.verdict, Verdict.Reject);
  t.false(bad.dnat);
});

test('OUTPUT (v1.30-v1.33): filter-output, nat-output, then filter-output-post-dnat', (t) => {
  const px = nftProxier([svc], [slice], { version: 'v1.33.2' });
  const chains: string[] = [];
  const r = px.trace(
    meta('192.168.0.2', '172.30.0.41'),
    Hook.Output,
    (e) => {
      if (e.kind === 'policy') chains.push(e.chain);
    },
    TABLE_NAT | TABLE_FILTER,
  );
  t.true(r.dnat);
  t.deepEqual(chains, ['filter-output', 'filter-output-post-dnat']);
  const bad = px.classify(meta('192.168.0.2', '172.30.0.41', 81), Hook.Output);
  t.is(bad.verdict, Verdict.Reject);
});

test('tables select chains by type: nat alone at OUTPUT skips the filters', (t) => {
  const px = nftProxier([svc], [slice]);
  const r = px.classify(meta('192.168.0.2', '172.30.0.41', 81), Hook.Output, TABLE_NAT);
  t.is(r.verdict, Verdict.Accept);
  const f = px.classify(meta('10.0.0.2', '172.30.0.41', 81), Hook.Forward, TABLE_NAT);
  t.is(f.verdict, Verdict.Accept, 'no nat chain at FORWARD');
  t.is(f.rulesVisited, 0);
});

test('established packets pass the ct state new checks untouched', (t) => {
  const px = nftProxier([svc], [slice]);
  const m = meta('10.0.0.2', '172.30.0.41', 81);
  m.ctstate = CtState.ESTABLISHED;
  t.is(px.classify(m, Hook.Forward, TABLE_FILTER).verdict, Verdict.Accept);
});

test('masquerading: only marked packets, and the mark is cleared', (t) => {
  const px = nftProxier([svc], [slice]);
  const m = meta('10.0.0.2', '10.180.0.1');
  t.false(px.classify(m, Hook.Postrouting, TABLE_NAT).masquerade);
  m.mark = 0x4001;
  const r = px.classify(m, Hook.Postrouting, TABLE_NAT);
  t.true(r.masquerade);
  t.true(r.masqueradeRandomFully);
  t.is(r.mark, 0x0001);
});

test('isLocalAddress: node IPs and loopback', (t) => {
  const px = nftProxier([], []);
  t.true(px.isLocalAddress(ipToU32('192.168.1.2')));
  t.true(px.isLocalAddress(ipToU32('127.0.0.53')));
  t.false(px.isLocalAddress(ipToU32('192.168.0.3')));
});

test('a result object passed in is reused and reset', (t) => {
  const px = nftProxier([svc], [slice]);
  const out = px.classify(meta('10.0.0.2', '172.30.0.41'), Hook.Prerouting, TABLE_NAT);
  t.true(out.dnat);
  const again = px.classify(meta('10.0.0.2', '172.30.0.99'), Hook.Prerouting, TABLE_NAT, out);
  t.is(again, out);
  t.false(again.dnat);
});
