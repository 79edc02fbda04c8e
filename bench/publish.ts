// Publishes one run as the repository's reference: copies its results.json, summary.md and
// SVG charts to bench/results/latest/ (kept by git) and writes bench/RESULTS.md from it — the
// summary tables with the charts linked, the exact command, and where the run happened.
// Closing notes on missed targets are written by hand below the generated part.
// Run: node --import=tsx bench/publish.ts bench/results/<run>/
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartSpec, renderSvg } from './chart.ts';
import { BENCH_DIR } from './harness.ts';
import type { BenchResults } from './results.ts';
import { summaryMarkdown } from './summary.ts';

export const NOTES_MARK = '<!-- notes: written by hand, kept by bench/publish.ts -->';

export async function publish(runDir: string, benchDir: string = BENCH_DIR): Promise<void> {
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as BenchResults;
  const latest = join(benchDir, 'results', 'latest');
  rmSync(latest, { recursive: true, force: true });
  mkdirSync(latest, { recursive: true });
  for (const f of readdirSync(runDir)) {
    if (f.endsWith('.svg') || f === 'results.json' || f === 'summary.md')
      copyFileSync(join(runDir, f), join(latest, f));
  }
  // A run stopped before its end has results.json (written after every suite) but no
  // charts or summary yet: make them here.
  for (const run of results.suites) {
    if (run.chart !== undefined) continue;
    const spec = chartSpec(run);
    if (spec === undefined) continue;
    run.chart = `${run.name}.svg`;
    writeFileSync(join(latest, run.chart), await renderSvg(spec));
  }
  writeFileSync(join(latest, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(latest, 'summary.md'), summaryMarkdown(results));
  const file = join(benchDir, 'RESULTS.md');
  let notes = '';
  try {
    const old = readFileSync(file, 'utf8');
    const i = old.indexOf(NOTES_MARK);
    if (i >= 0) notes = old.slice(i);
  } catch {
    // first publication
  }
  const m = results.machine;
  const head = [
    '# svclab benchmark results',
    '',
    `The latest full run, made with \`npx svclab bench ${results.argv.join(' ')}\` at commit`,
    `${results.commit} on ${results.date.slice(0, 10)} (results, summary and charts in`,
    '[results/latest/](results/latest/); how to read them: [docs/bench.md](../docs/bench.md)).',
    '',
    `The machine: ${m.cpu}, **${m.cores} cores, which other work may share** (the load`,
    `average of each suite is recorded beside its figures), ${m.memoryGiB} GiB, Linux ${m.kernel},`,
    `Node ${results.node}. Userspace figures are CPU time (medians of rounds), which sharing`,
    'disturbs less than wall time; kernel latencies are wall time. Compare ratios and shapes',
    'within the run rather than absolute numbers across machines.',
    '',
  ];
  const body = summaryMarkdown(results, { chartDir: 'results/latest' })
    .split('\n')
    .slice(1) // the summary's own title
    .map((l) => (l.startsWith('## ') ? `#${l}` : l));
  const text = [...head, '## The run', ...body, '', notes === '' ? NOTES_MARK : notes].join('\n');
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (dir === undefined) {
    console.error('usage: bench/publish.ts RUN_DIR');
    process.exit(2);
  }
  await publish(dir);
  console.log(`published ${dir} → bench/results/latest/, bench/RESULTS.md`);
}
