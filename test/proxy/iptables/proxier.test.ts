import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import type { Proxier } from '../../../src/proxy/proxier.ts';
import { CtState, Hook, Verdict, newPacketMeta } from '../../../src/proxy/hooks.ts';
import type { TraceEvent } from '../../../src/proxy/hooks.ts';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { sendFirstPacket } from './flow.ts';

const OPTS = {
  nodeName: 'k8s-node01',
  nodeIPs: ['10.0.100.11'],
  clusterCIDR: '10.244.0.0/16',
};
const web = makeService('default', 'myapp', {
  clusterIP: '10.96.0.100',
  ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
});
const slice = makeSlice(
  'default',
  'myapp',
  'myapp-1',
  [ep('10.244.1.10'), ep('10.244.2.10')],
  [tcp('http', 8080)],
);

function fresh(): IptablesProxier {
  const px = new IptablesProxier(OPTS);
  const p: Proxier = px; // the mode implements the control plane's interface
  p.onServiceAdd(web);
  p.onEndpointSliceAdd(slice);
  p.onServiceSynced();
  p.onEndpointSlicesSynced();
  p.sync();
  return px;
}

const toService = { src: '10.244.3.7', dst: '10.96.0.100', dport: 80 };

test('sync compiles; an unchanged state keeps the installed rule set object', (t) => {
  const px = fresh();
  t.true(px.initialized);
  const rs = px.ruleSet;
  t.regex(px.restoreInput(), /"default\/myapp:http cluster IP"/);
  px.sync();
  t.is(px.ruleSet, rs);
  px.onServiceUpdate(web, { ...web });
  px.sync();
  t.is(px.ruleSet, rs, 'a no-op update does not recompile');
});

test('a change swaps in a new rule set; the old one is left intact', (t) => {
  const px = fresh();
  const before = px.ruleSet;
  const rulesBefore = before.nat.rules.length;
  t.regex(sendFirstPacket(px, toService).output, /^10\.244\.[12]\.10:8080$/);
  px.onEndpointSliceDelete(slice);
  px.sync();
  t.not(px.ruleSet, before);
  t.is(before.nat.rules.length, rulesBefore);
  t.is(sendFirstPacket(px, toService).output, 'REJECT');
  px.onEndpointSliceUpdate(slice, slice);
  px.sync();
  t.regex(sendFirstPacket(px, toService).output, /^10\.244\.[12]\.10:8080$/);
});

test('built-in chain counters survive a swap; service chain counters start again', (t) => {
  const px = fresh();
  for (let i = 0; i < 5; i++) sendFirstPacket(px, toService, 1000 + i);
  const pre = px.ruleSet.nat;
  const idx = pre.chainIndex.get('PREROUTING') ?? -1;
  const first = pre.chains[idx]?.first ?? -1;
  t.is(pre.counters.pkts[first], 5);
  px.onServiceAdd(
    makeService('default', 'other', { clusterIP: '10.96.0.101', ports: web.spec.ports }),
  );
  px.sync();
  const post = px.ruleSet.nat;
  t.is(post.counters.pkts[post.chains[idx]?.first ?? -1], 5);
  const svcChain = post.chains.find((c) => c.name.startsWith('KUBE-SVC-'));
  t.is(post.counters.pkts[svcChain?.first ?? -1], 0);
  t.regex(px.list('nat'), /^ {4}5 {3}300 KUBE-SERVICES/m);
});

test('classify runs OUTPUT as nat then filter, with the DNATed destination', (t) => {
  const px = fresh();
  px.onEndpointSliceDelete(slice);
  px.sync();
  const node = ipToU32('10.0.100.11');
  const meta = newPacketMeta({
    src: node,
    dst: ipToU32('10.96.0.100'),
    sport: 5555,
    dport: 80,
    ctstate: CtState.NEW,
    addrFlags: px.addrFlags(node, ipToU32('10.96.0.100')),
    len: 60,
  });
  t.is(px.classify(meta, Hook.Output).verdict, Verdict.Reject);
});

test('trace shows the walk with iptables-save rule text', (t) => {
  const px = fresh();
  const steps: string[] = [];
  const src = ipToU32('10.244.3.7');
  const dst = ipToU32('10.96.0.100');
  const r = px.trace(
    newPacketMeta({ src, dst, sport: 1234, dport: 80, ctstate: CtState.NEW, len: 60 }),
    Hook.Prerouting,
    (e: TraceEvent) => steps.push(`${e.table}:${e.chain}:${e.kind}:${e.ruleNum} ${e.text}`.trim()),
  );
  t.true(r.dnat);
  t.is(
    steps[0],
    'nat:PREROUTING:rule:1 -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  );
  t.regex(
    steps[1] ?? '',
    /^nat:KUBE-SERVICES:rule:1 -A KUBE-SERVICES -d 10\.96\.0\.100\/32 -p tcp/,
  );
  t.regex(steps.at(-1) ?? '', /-j DNAT --to-destination 10\.244\.[12]\.10:8080$/);
});

test('save and list views of the installed rules', (t) => {
  const px = fresh();
  const save = px.save({ date: 'Thu Jan  1 00:00:00 1970' });
  t.true(save.includes('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'));
  t.true(
    save.includes(
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ),
  );
  t.true(save.includes('--probability 0.50000000000'));
  t.regex(px.list('nat'), /^Chain KUBE-SERVICES \(2 references\)$/m);
  t.regex(px.list('filter'), /^Chain KUBE-FORWARD \(1 references\)$/m);
  t.true(px.restoreInput().includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000'));
});

test('the node IPs and loopback are LOCAL for addrtype', (t) => {
  const px = fresh();
  t.true(px.isLocalAddress(ipToU32('10.0.100.11')));
  t.true(px.isLocalAddress(ipToU32('127.0.0.53')));
  t.false(px.isLocalAddress(ipToU32('10.0.100.12')));
});

test('a re-sync after a small change reuses the rules of untouched services', (t) => {
  const px = fresh();
  px.onServiceAdd(
    makeService('default', 'other', { clusterIP: '10.96.0.101', ports: web.spec.ports }),
  );
  px.sync();
  const before = new Set(px.ruleSet.nat.rules);
  px.onEndpointSliceUpdate(slice, { ...slice, endpoints: [ep('10.244.1.10')] });
  px.sync();
  const after = px.ruleSet.nat.rules;
  const shared = after.filter((r) => before.has(r)).length;
  // Only the changed service's rules are new: KUBE-SERVICES entry, masquerade and
  // endpoint rule in its KUBE-SVC chain, and the two rules of the one KUBE-SEP chain.
  t.is(shared, after.length - 5, `${shared} of ${after.length} rules shared`);
  const mine = (r: { line: string }) => r.line.includes('default/myapp');
  t.true(
    after.filter((r) => !mine(r)).every((r) => before.has(r)),
    'every rule of other services and every fixed rule is the same object',
  );
  t.true(
    after.some((r) => !before.has(r)),
    'the changed service has new rules',
  );
});
