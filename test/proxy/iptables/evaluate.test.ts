// The linear evaluator on hand-written rule sets: netfilter traversal semantics,
// each match module, counters and traces.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  ADDR_DST_LOCAL,
  CtState,
  Verdict,
  newEvalResult,
  newPacketMeta,
  resetEvalResult,
} from '../../../src/proxy/hooks.ts';
import type { PacketMeta, TraceEvent } from '../../../src/proxy/hooks.ts';
import { evaluateTable } from '../../../src/proxy/iptables/evaluate.ts';
import type { EvalContext } from '../../../src/proxy/iptables/evaluate.ts';
import { loadRestoreText } from '../../../src/proxy/iptables/load.ts';
import { RecentTables } from '../../../src/proxy/iptables/recent.ts';
import type { RuleSet } from '../../../src/proxy/iptables/rules.ts';

function ctx(randoms: number[] = [], now = 0): EvalContext & { clock: { t: number } } {
  const clock = { t: now };
  return {
    random: () => randoms.shift() ?? 0,
    now: () => clock.t,
    recent: new RecentTables(),
    clock,
  };
}

function pkt(init: Partial<PacketMeta> = {}): PacketMeta {
  return newPacketMeta({
    src: ipToU32('10.0.0.2'),
    dst: ipToU32('172.30.0.41'),
    sport: 40000,
    dport: 80,
    ctstate: CtState.NEW,
    len: 60,
    ...init,
  });
}

function nat(rules: string): RuleSet {
  const chains = [...new Set([...rules.matchAll(/-[Aj] (X-[A-Z0-9-]+)/g)].map((m) => m[1]))];
  return loadRestoreText(
    `*nat\n:PREROUTING ACCEPT [0:0]\n${chains.map((c) => `:${c} - [0:0]`).join('\n')}\n${rules}\nCOMMIT\n`,
  );
}

function run(rs: RuleSet, p: PacketMeta, c: EvalContext = ctx()) {
  const out = newEvalResult();
  resetEvalResult(out, p.mark);
  const v = evaluateTable(rs.nat, 0, p, c, out);
  return { v, out };
}

test('jumps return to the next rule; the built-in policy ends the walk', (t) => {
  const rs = nat(
    [
      '-A PREROUTING -j X-A',
      '-A PREROUTING -j X-B',
      '-A X-A -p udp -j DROP',
      '-A X-B -p tcp --dport 81 -j DROP',
    ].join('\n'),
  );
  const { v, out } = run(rs, pkt());
  t.is(v, Verdict.Accept);
  t.is(out.rulesVisited, 4);
  t.false(out.dnat);
  const policyIndex = 0;
  t.is(rs.nat.counters.policyPkts[policyIndex], 1);
  t.is(rs.nat.counters.policyBytes[policyIndex], 60);
});

test('the first terminal target wins and later rules are not visited', (t) => {
  const rs = nat(
    [
      '-A PREROUTING -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j X-SVC',
      '-A PREROUTING -j DROP',
      '-A X-SVC -j DNAT --to-destination 10.180.0.1:8080',
      '-A X-SVC -j DROP',
    ].join('\n'),
  );
  const { v, out } = run(rs, pkt());
  t.is(v, Verdict.Accept);
  t.true(out.dnat);
  t.is(out.dnatIp, ipToU32('10.180.0.1'));
  t.is(out.dnatPort, 8080);
  t.is(out.rulesVisited, 2);
  t.deepEqual([...rs.nat.counters.pkts], [1, 0, 1, 0]);
});

test('RETURN pops to the caller; in a built-in chain it applies the policy', (t) => {
  const rs = nat(
    ['-A PREROUTING -j X-A', '-A PREROUTING -j DROP', '-A X-A -j RETURN', '-A X-A -j DROP'].join(
      '\n',
    ),
  );
  t.is(run(rs, pkt()).v, Verdict.Drop);
  const rs2 = nat(['-A PREROUTING -j RETURN', '-A PREROUTING -j DROP'].join('\n'));
  const r2 = run(rs2, pkt());
  t.is(r2.v, Verdict.Accept);
  t.is(r2.out.rulesVisited, 1);
});

test('inverted addresses, port ranges and protocols', (t) => {
  const rs = nat(
    [
      '-A PREROUTING ! -s 10.0.0.0/8 -j DROP',
      '-A PREROUTING -p udp -j DROP',
      '-A PREROUTING -p tcp -m tcp --sport 1:1023 -j DROP',
      '-A PREROUTING -p tcp -m tcp ! --dport 80 -j DROP',
    ].join('\n'),
  );
  t.is(run(rs, pkt()).v, Verdict.Accept);
  t.is(run(rs, pkt({ src: ipToU32('203.0.113.2') })).v, Verdict.Drop);
  t.is(run(rs, pkt({ proto: 17 })).v, Verdict.Drop);
  t.is(run(rs, pkt({ sport: 1023 })).v, Verdict.Drop);
  t.is(run(rs, pkt({ dport: 443 })).v, Verdict.Drop);
});

test('MARK rewrites the mark that later mark matches see', (t) => {
  const rs = nat(
    [
      '-A PREROUTING -j X-MASQ',
      '-A PREROUTING -m mark ! --mark 0x4000/0x4000 -j DROP',
      '-A PREROUTING -j MARK --xor-mark 0x4000',
      '-A PREROUTING -m mark --mark 0x4000/0x4000 -j DROP',
      '-A PREROUTING -j MASQUERADE --random-fully',
      '-A X-MASQ -j MARK --or-mark 0x4000',
    ].join('\n'),
  );
  const { v, out } = run(rs, pkt({ mark: 0x1 }));
  t.is(v, Verdict.Accept);
  t.true(out.masquerade);
  t.true(out.masqueradeRandomFully);
  t.is(out.mark, 0x1, 'or-mark then xor-mark leaves the other bits alone');
});

test('statistic compares the low 31 bits of a random u32 with round(p * 2^31)', (t) => {
  const rs = nat('-A PREROUTING -m statistic --mode random --probability 0.5 -j DROP');
  // u32 = r * 2^32; the kernel masks it to 31 bits, so r in [0.5, 0.75) also matches.
  const v = (r: number) => run(rs, pkt(), ctx([r])).v;
  t.is(v(0.2), Verdict.Drop);
  t.is(v(0.26), Verdict.Accept);
  t.is(v(0.6), Verdict.Drop);
  t.is(v(0.8), Verdict.Accept);
});

test('conntrack state and addrtype matches', (t) => {
  const rs = nat(
    [
      '-A PREROUTING -m conntrack --ctstate INVALID -j DROP',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j X-NP',
      '-A X-NP -m conntrack ! --ctstate NEW -j DROP',
      '-A X-NP -j DNAT --to-destination 10.180.0.9:80',
    ].join('\n'),
  );
  t.is(run(rs, pkt({ ctstate: CtState.INVALID })).v, Verdict.Drop);
  t.false(run(rs, pkt()).out.dnat);
  t.true(run(rs, pkt({ addrFlags: ADDR_DST_LOCAL })).out.dnat);
  t.is(run(rs, pkt({ addrFlags: ADDR_DST_LOCAL, ctstate: CtState.ESTABLISHED })).v, Verdict.Drop);
});

test('recent: --set records the source, --rcheck --seconds --reap honours the window', (t) => {
  const rs = nat(
    [
      '-A PREROUTING -m recent --name X --rcheck --seconds 10 --reap -j DROP',
      '-A PREROUTING -m recent --name X --set -j ACCEPT',
    ].join('\n'),
  );
  const c = ctx([], 100);
  t.is(run(rs, pkt(), c).v, Verdict.Accept, 'first packet is recorded');
  c.clock.t = 110;
  t.is(run(rs, pkt(), c).v, Verdict.Drop, 'exactly 10 s later still matches');
  t.is(run(rs, pkt({ src: ipToU32('10.0.0.3') }), c).v, Verdict.Accept, 'other sources do not');
  c.clock.t = 121;
  t.is(run(rs, pkt(), c).v, Verdict.Accept, '11 s after the last --set it has expired');
  t.deepEqual(
    c.recent.entries('X').map(([a]) => a),
    [ipToU32('10.0.0.3'), ipToU32('10.0.0.2')],
    'reaped then set again (LRU order)',
  );
});

test('recent tables hold ip_list_tot (200) entries and evict the least recently set', (t) => {
  const r = new RecentTables();
  for (let i = 0; i < 201; i++) r.set('X', i, i);
  t.is(r.entries('X').length, 200);
  t.false(r.check('X', 0, 201, 0, false));
  t.true(r.check('X', 1, 201, 0, false));
});

test('trace reports each matching rule, implicit returns and the policy', (t) => {
  const rs = nat(
    ['-A PREROUTING -j X-A', '-A X-A -p udp -j DROP', '-A X-A -m comment --comment hi'].join('\n'),
  );
  const events: TraceEvent[] = [];
  const c = ctx();
  c.trace = (e) => events.push(e);
  run(rs, pkt(), c);
  t.deepEqual(
    events.map((e) => `${e.chain}:${e.kind}:${e.ruleNum}`),
    ['PREROUTING:rule:1', 'X-A:rule:2', 'X-A:return:3', 'PREROUTING:policy:2'],
  );
});

test('a DROP policy applies when a built-in chain runs out', (t) => {
  const rs = loadRestoreText(
    '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n',
  );
  const out = newEvalResult();
  t.is(evaluateTable(rs.filter, 1, pkt(), ctx(), out), Verdict.Drop);
  t.is(evaluateTable(rs.filter, 0, pkt(), ctx(), out), Verdict.Accept);
});
