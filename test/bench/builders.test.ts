import test from 'ava';
import { chartSpec, panels, renderSvg } from '../../bench/chart.ts';
import { classifyExit, parseBenchJson } from '../../bench/harness.ts';
import { Progress, clock } from '../../bench/progress.ts';
import { headlineRatios } from '../../bench/ratios.ts';
import { suiteByName } from '../../bench/suites.ts';
import { suiteTables, summaryMarkdown } from '../../bench/summary.ts';
import { f, fixedResults } from './fixtures.ts';

test('headline ratios come from the same run and are judged against the targets', (t) => {
  const r = fixedResults();
  const byId = new Map(headlineRatios(r).map((x) => [x.id, x]));
  const ipt = byId.get('iptables-over-ipvs')!;
  t.is(ipt.value, 50_000 / 400);
  t.true(ipt.met);
  const ipvs = byId.get('ipvs-flatness')!;
  t.is(ipvs.value, 600 / 400);
  t.true(ipvs.met);
  t.is(byId.get('nftables-flatness')!.value, 1);
  t.true(byId.get('established-iptables')!.met);
  t.false(byId.get('established-ipvs')!.met);
  // Not measured: the control suite did not run.
  t.is(byId.get('full-sync')!.value, null);
  t.is(byId.get('full-sync')!.met, null);
  const linear = byId.get('iptables-linear')!;
  t.is(linear.value, 500_000 / 5_000 / 100);
});

test('a run without the 10k size says its iptables/ipvs ratio is not the target comparison', (t) => {
  const r = fixedResults();
  const c = r.suites[0]!;
  c.figures = c.figures.filter((f) => f.services !== 10_000 && f.services !== 100_000);
  const x = headlineRatios(r).find((y) => y.id === 'iptables-over-ipvs')!;
  t.regex(x.label, /1k services/);
  t.is(x.met, null);
  t.regex(x.note, /not comparable/);
});

test('summary.md: ratio table, one pivot table per swept metric, skipped suites with reasons', (t) => {
  const r = fixedResults();
  r.ratios = headlineRatios(r);
  const md = summaryMarkdown(r);
  t.regex(md, /^# svclab bench --full/);
  t.regex(md, /\| comparison \| measured \| target \| met \|/);
  t.regex(
    md,
    /first packet, iptables \/ ipvs at 10k services \| 125× \| ≥ 100× at 10k services \| yes \|/,
  );
  t.regex(md, /\| services \| iptables \| ipvs \| nftables \|/);
  t.regex(md, /\| 10,000 \| 50,000 \(45,000–55,000\) \| 400 \(360–440\) \| 500 \(450–550\) \|/);
  t.regex(md, /\| metric \| mode \| unit \| median \| min \| max \| samples \|/);
  t.regex(md, /\| kernel \| skipped \| needs root \|/);
  t.regex(md, /!\[classify\]\(\.\/classify\.svg\)|## classify/);
});

test('chart panels: one per unit, swept figures as lines per mode, the rest as bars', (t) => {
  const r = fixedResults();
  const ps = panels(r.suites[0]!.figures);
  t.deepEqual(
    ps.map((p) => [p.title, p.swept]),
    [
      ['first-packet (ns/packet)', true],
      ['visited (rules)', true],
    ],
  );
  t.deepEqual([...new Set(ps[0]!.rows.map((x) => x.series))], ['iptables', 'ipvs', 'nftables']);
  const dp = panels(r.suites[1]!.figures);
  t.is(dp.length, 2);
  t.false(dp[0]!.swept);
  t.is(chartSpec(r.suites[2]!), undefined);
  // One size only (a control run at 10k services): no services axis, labels say the size.
  const one = panels([
    {
      metric: 'full-sync',
      mode: 'ipvs',
      services: 10_000,
      unit: 'ms',
      min: 1,
      median: 2,
      max: 3,
      samples: 3,
    },
  ]);
  t.false(one[0]!.swept);
  t.is(one[0]!.rows[0]!.label, 'full-sync ipvs @ 10,000');
});

test('a suite chart renders to SVG headlessly with a log-scale services axis', async (t) => {
  const r = fixedResults();
  const spec = chartSpec(r.suites[0]!)!;
  const json = JSON.stringify(spec);
  t.regex(json, /"field":"services","type":"quantitative","scale":\{"type":"log"\}/);
  const svg = await renderSvg(spec);
  t.true(svg.startsWith('<svg'));
  t.regex(svg, /iptables/);
  t.regex(svg, /nftables/);
});

test('BENCH_JSON: the last line is parsed; a suite without one has no figures; a crash is a crash', (t) => {
  const spec = suiteByName('classify')!;
  const line =
    'BENCH_JSON {"suite":"classify","figures":[{"metric":"m","unit":"ms","min":1,"median":2,"max":3,"samples":3}]}';
  t.is(parseBenchJson(`hello\n${line}\n`)!.figures.length, 1);
  t.is(parseBenchJson('no json here\n'), undefined);
  t.is(classifyExit(spec, { code: 0, signal: null, stdout: `${line}\n` }).status, 'ok');
  const none = classifyExit(spec, { code: 0, signal: null, stdout: 'just text\n' });
  t.is(none.status, 'no-figures');
  t.regex(none.reason!, /no BENCH_JSON/);
  const skipped = classifyExit(spec, {
    code: 0,
    signal: null,
    stdout: 'BENCH_JSON {"suite":"kernel","figures":[],"skipped":"needs root"}\n',
  });
  t.deepEqual([skipped.status, skipped.reason], ['skipped', 'needs root']);
  t.is(classifyExit(spec, { code: 1, signal: null, stdout: '' }).status, 'crashed');
  t.regex(classifyExit(spec, { code: null, signal: 'SIGKILL', stdout: '' }).reason!, /SIGKILL/);
});

test('progress: suite i/n, elapsed and time left from the estimates, plain lines off a TTY', (t) => {
  const chunks: string[] = [];
  const out = {
    write: (s: string) => (chunks.push(s), true),
    isTTY: false,
  } as unknown as NodeJS.WritableStream;
  const p = new Progress(out, ['a', 'b'], [10_000, 20_000]);
  t.is(p.left(), 30_000);
  p.start(0);
  t.regex(chunks[0]!, /^\[1\/2\] a {2}0:00 \(total 0:00\) {2}~0:30 left\n$/);
  p.finish(0, 'ok');
  t.regex(chunks[1]!, /^\[1\/2\] a ok in 0:00\n$/);
  p.close();
  t.is(clock(61_000), '1:01');
});

test('summary.md: a swept figure without a mode fills its value column', (t) => {
  const md = suiteTables({ figures: [f('apply-settle', 'ms', 2000, { services: 10_000 })] }).join(
    '\n',
  );
  t.regex(md, /\| services \| value \|/);
  t.regex(md, /\| 10,000 \| 2,000 \(1,800–2,200\) \|/);
});

test("issue #18's ratios: first packet at 100k, memory and sync at 100k, ns-3, and each suite's load", (t) => {
  const r = fixedResults();
  const c = r.suites[0]!;
  c.load = { start: 1.25, end: 3.5 };
  c.figures.push(
    f('heap', 'MiB', 900, { mode: 'ipvs', services: 100_000 }),
    f('array-buffers', 'MiB', 100, { mode: 'ipvs', services: 100_000 }),
    f('heap', 'MiB', 2000, { mode: 'nftables', services: 100_000 }),
    f('sync', 'ms', 4000, { mode: 'ipvs', services: 100_000 }),
    f('sync', 'ms', 6000, { mode: 'iptables', services: 100_000 }),
    f('feed', 'ms', 1234, { mode: 'ipvs', services: 100_000 }),
  );
  r.suites.push({
    name: 'ns3',
    file: 'bench/ns3/compare.ts',
    status: 'ok',
    exitCode: 0,
    durationMs: 1000,
    figures: [
      f('ratio-cpu', 'x', 2.5, { mode: 'svclab/ns3-hashed' }),
      f('ratio-cpu', 'x', 1.4, { mode: 'svclab/ns3opt-hashed' }),
    ],
    log: 'ns3.log',
  });
  const byId = new Map(headlineRatios(r).map((x) => [x.id, x]));
  t.is(byId.get('ipvs-first-packet-100k')!.value, 600);
  t.true(byId.get('ipvs-first-packet-100k')!.met);
  t.is(byId.get('ipvs-first-packet-100k')!.load, '1.3–3.5');
  t.is(byId.get('ipvs-first-packet-100k')!.suite, 'classify');
  t.is(byId.get('memory-100k-ipvs')!.value, 1000);
  t.true(byId.get('memory-100k-ipvs')!.met);
  t.false(byId.get('memory-100k-nftables')!.met);
  t.is(byId.get('memory-100k-iptables')!.value, null);
  t.true(byId.get('sync-100k-ipvs')!.met);
  t.false(byId.get('sync-100k-iptables')!.met);
  // The event handlers' share is printed beside the sync it precedes, where it was measured.
  t.is(byId.get('sync-100k-ipvs')!.note, 'plus 1,234 ms in the event handlers before it');
  t.is(byId.get('sync-100k-iptables')!.note, '');
  // The best ns-3 build is the one svclab leads by least.
  const ns3 = byId.get('sim-vs-ns3')!;
  t.is(ns3.value, 1.4);
  t.false(ns3.met);
  t.regex(ns3.label, /ns3opt-hashed/);
  // A suite without a recorded load leaves the column empty.
  t.is(byId.get('established-iptables')!.load, undefined);
  r.ratios = headlineRatios(r);
  t.regex(
    summaryMarkdown(r),
    /first packet, ipvs at 100k services \| 600 ns \| ≤ 1,000 ns at 100k services \| yes \| 1\.3–3\.5 \|/,
  );
});
