// summary.md: the run's context, the headline ratios against their targets, then one
// Markdown table per suite — swept figures pivoted (services down, modes across, median with
// min–max), the rest as a flat list — and the suites that skipped, with their reasons.
import type { Figure } from './figures.ts';
import { formatRatio } from './ratios.ts';
import type { BenchResults, SuiteRun } from './results.ts';

/** Three significant figures, thousands separated; µs-scale values keep their decimals. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

const cell = (f: Figure | undefined): string =>
  f === undefined
    ? '–'
    : f.samples > 1 && f.min !== f.max
      ? `${num(f.median)} (${num(f.min)}–${num(f.max)})`
      : num(f.median);

function pivot(metric: string, unit: string, figs: readonly Figure[]): string[] {
  const modeOf = (f: Figure): string => f.mode ?? 'value';
  const modes = [...new Set(figs.map(modeOf))];
  const services = [...new Set(figs.map((f) => f.services!))].sort((a, b) => a - b);
  const lines = [
    `**${metric}** (${unit}; median, min–max in parentheses)`,
    '',
    `| services | ${modes.join(' | ')} |`,
    `| ---: | ${modes.map(() => '---:').join(' | ')} |`,
  ];
  for (const n of services) {
    const row = modes.map((m) => cell(figs.find((f) => f.services === n && modeOf(f) === m)));
    lines.push(`| ${n.toLocaleString('en-US')} | ${row.join(' | ')} |`);
  }
  return [...lines, ''];
}

function flat(figs: readonly Figure[]): string[] {
  const lines = [
    '| metric | mode | unit | median | min | max | samples |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const f of figs) {
    lines.push(
      `| ${f.metric} | ${f.mode ?? ''} | ${f.unit} | ${num(f.median)} | ${num(f.min)} | ${num(f.max)} | ${f.samples} |`,
    );
  }
  return [...lines, ''];
}

export function suiteTables(run: Pick<SuiteRun, 'figures'>): string[] {
  const out: string[] = [];
  const swept = new Map<string, Figure[]>();
  const rest: Figure[] = [];
  for (const f of run.figures) {
    if (f.services === undefined) {
      rest.push(f);
      continue;
    }
    const key = `${f.metric}\u0000${f.unit}`;
    swept.set(key, [...(swept.get(key) ?? []), f]);
  }
  for (const [key, figs] of swept) {
    const [metric, unit] = key.split('\u0000') as [string, string];
    out.push(...pivot(metric, unit, figs));
  }
  if (rest.length > 0) out.push(...flat(rest));
  return out;
}

const minutes = (ms: number): string =>
  ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;

export function summaryMarkdown(r: BenchResults, opts: { chartDir?: string } = {}): string {
  const m = r.machine;
  const lines = [
    `# svclab bench ${r.quick ? '--quick' : '--full'}`,
    '',
    `- date: ${r.date}; commit ${r.commit}${r.dirty ? ' (uncommitted changes in the tree)' : ''}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${r.node}`,
    `- command: \`svclab bench ${r.argv.join(' ')}\`; took ${minutes(r.durationMs)}`,
    '',
    '## Headline ratios (measured in this run)',
    '',
    'Load: the 1-minute load average when the suite that measured the value started and',
    'ended (this machine has 2 cores; other work shares them).',
    '',
    '| comparison | measured | target | met | load |',
    '| --- | ---: | --- | :---: | ---: |',
  ];
  for (const x of r.ratios) {
    const met = x.met === null ? '' : x.met ? 'yes' : 'no';
    const note = x.note === '' ? '' : ` (${x.note})`;
    lines.push(
      `| ${x.label}${note} | ${formatRatio(x)} | ${x.target} | ${met} | ${x.load ?? ''} |`,
    );
  }
  lines.push('');
  const skipped = r.suites.filter((s) => s.status !== 'ok');
  for (const s of r.suites) {
    if (s.status !== 'ok') continue;
    const load =
      s.load === undefined ? '' : `, load ${s.load.start.toFixed(1)}–${s.load.end.toFixed(1)}`;
    lines.push(`## ${s.name} (\`${s.file}\`, ${minutes(s.durationMs)}${load})`, '');
    if (s.chart !== undefined) lines.push(`![${s.name}](${opts.chartDir ?? '.'}/${s.chart})`, '');
    lines.push(...suiteTables(s));
  }
  if (skipped.length > 0) {
    lines.push(
      '## Suites without figures',
      '',
      '| suite | status | reason |',
      '| --- | --- | --- |',
    );
    for (const s of skipped) lines.push(`| ${s.name} | ${s.status} | ${s.reason ?? ''} |`);
    // A crashed or skipped suite may still have reported some figures.
    for (const s of skipped.filter((x) => x.figures.length > 0)) {
      lines.push('', `### ${s.name} (partial)`, '', ...suiteTables(s));
    }
    lines.push('');
  }
  return lines.join('\n');
}
