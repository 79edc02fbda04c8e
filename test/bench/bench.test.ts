// Smoke run of `svclab bench --quick` on one fast suite: the suites work end to end and the
// output files are written. No timing assertions (speed belongs in bench/, not in tests).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResults } from '../../bench/results.ts';

test('svclab bench --quick --suite classify writes results.json, an SVG chart and summary.md', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'svclab-bench-test-'));
  try {
    const stdout = execFileSync(
      process.execPath,
      ['bin/svclab.js', 'bench', '--quick', '--suite', 'classify', '--out', out],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 110_000 },
    );
    t.regex(stdout, /results\.json/);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
    t.is(r.version, 1);
    t.true(r.quick);
    t.is(r.suites.length, 1);
    const s = r.suites[0]!;
    t.is(s.status, 'ok');
    for (const mode of ['iptables', 'ipvs', 'nftables']) {
      const f = s.figures.filter((x) => x.metric === 'first-packet' && x.mode === mode);
      t.deepEqual(
        f.map((x) => x.services),
        [10, 100, 1000],
        mode,
      );
      t.true(f.every((x) => x.min <= x.median && x.median <= x.max && x.median > 0));
    }
    t.true(r.machine.cores > 0);
    t.true(r.ratios.some((x) => x.id === 'iptables-over-ipvs' && x.value !== null));
    const svg = readFileSync(join(out, s.chart!), 'utf8');
    t.true(svg.includes('<svg'));
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    t.regex(md, /\| services \| iptables \| ipvs \| nftables \|/);
    t.true(existsSync(join(out, 'classify.log')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('svclab bench --suite with an unknown name exits 2 and names the suites', (t) => {
  const err = t.throws(() =>
    execFileSync(process.execPath, ['bin/svclab.js', 'bench', '--suite', 'nope'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }),
  ) as Error & { status: number; stderr: string };
  t.is(err.status, 2);
  t.regex(err.stderr, /unknown suite "nope".*classify/);
});
