// One SVG chart per suite, drawn headlessly: vega-lite spec → vega → SVG. Figures are
// grouped into panels by unit (and by whether they sweep over service counts): swept
// panels draw one line per series (mode, plus the metric when a panel holds several) on a
// log-scale x axis, with min–max bars; other panels are horizontal bars. The y axis goes
// log-scale when a panel's values span more than 30×.
import type { TopLevelSpec } from 'vega-lite';
import type { Figure } from './figures.ts';
import type { SuiteRun } from './results.ts';

interface Row {
  series: string;
  label: string;
  services: number | null;
  median: number;
  min: number;
  max: number;
  /** Repetitions behind min/max; raw distributions (e.g. 2000 connections) get no bars. */
  samples: number;
}

interface Panel {
  title: string;
  swept: boolean;
  rows: Row[];
}

const LOG_SPAN = 30;
/** min–max bars for repeated rounds only; min/max of thousands of samples are outliers. */
const MAX_BAR_SAMPLES = 20;

export function panels(figures: readonly Figure[]): Panel[] {
  // A service-count axis only when the suite swept more than one size.
  const sizes = new Set(figures.map((f) => f.services).filter((n) => n !== undefined));
  const sweeps = sizes.size > 1;
  const byKey = new Map<string, Figure[]>();
  for (const f of figures) {
    if (!(f.median > 0 || f.median === 0)) continue;
    const key = `${f.unit}\u0000${sweeps && f.services !== undefined}`;
    const list = byKey.get(key) ?? [];
    list.push(f);
    byKey.set(key, list);
  }
  const out: Panel[] = [];
  for (const list of byKey.values()) {
    const metrics = [...new Set(list.map((f) => f.metric))];
    const several = metrics.length > 1;
    const swept = sweeps && list[0]!.services !== undefined;
    out.push({
      title: `${metrics.join(', ')} (${list[0]!.unit})`,
      swept,
      rows: list.map((f) => {
        const series = f.mode === undefined ? f.metric : several ? `${f.mode} ${f.metric}` : f.mode;
        return {
          series,
          label:
            (f.mode === undefined ? f.metric : `${f.metric} ${f.mode}`) +
            (!swept && f.services !== undefined ? ` @ ${f.services.toLocaleString('en-US')}` : ''),
          services: f.services ?? null,
          median: f.median,
          min: f.min,
          max: f.max,
          samples: f.samples,
        };
      }),
    });
  }
  return out;
}

function logScale(rows: readonly Row[]): boolean {
  const vals = rows
    .flatMap((r) => (r.samples <= MAX_BAR_SAMPLES ? [r.min, r.max] : [r.median]))
    .filter((v) => v > 0);
  if (vals.length === 0) return false;
  return Math.max(...vals) / Math.min(...vals) > LOG_SPAN && rows.every((r) => r.min > 0);
}

function panelSpec(p: Panel): Record<string, unknown> {
  const log = logScale(p.rows);
  const yScale = log ? { type: 'log' } : { zero: true };
  if (p.swept) {
    const x = {
      field: 'services',
      type: 'quantitative',
      scale: { type: 'log' },
      axis: { title: 'services', format: '~s' },
    };
    const color = { field: 'series', type: 'nominal', legend: { title: null, labelLimit: 400 } };
    return {
      title: p.title,
      width: 520,
      height: 260,
      data: { values: p.rows },
      layer: [
        {
          transform: [{ filter: `datum.samples > 1 && datum.samples <= ${MAX_BAR_SAMPLES}` }],
          mark: { type: 'rule', opacity: 0.5 },
          encoding: {
            x,
            y: { field: 'min', type: 'quantitative', scale: yScale },
            y2: { field: 'max' },
            color,
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: {
              field: 'median',
              type: 'quantitative',
              scale: yScale,
              axis: { title: p.title.replace(/^.*\(/, '').replace(/\)$/, '') },
            },
            color,
          },
        },
      ],
    };
  }
  // Bars need a zero to start from; on a log scale the values are dots instead.
  const unit = p.title.replace(/^.*\(/, '').replace(/\)$/, '');
  return {
    title: p.title,
    width: 520,
    data: { values: p.rows },
    mark: log ? { type: 'point', filled: true, size: 90 } : 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, axis: { title: null, labelLimit: 400 } },
      x: {
        field: 'median',
        type: 'quantitative',
        scale: log ? { type: 'log' } : { zero: true },
        axis: { title: `${unit} (median)` },
      },
      color: { field: 'series', type: 'nominal', legend: null },
    },
  };
}

/** The vega-lite spec for a suite's chart; undefined when it has nothing to draw. */
export function chartSpec(run: Pick<SuiteRun, 'name' | 'figures'>): TopLevelSpec | undefined {
  const ps = panels(run.figures);
  if (ps.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `svclab bench: ${run.name}`, anchor: 'start' },
    vconcat: ps.map(panelSpec),
    resolve: { scale: { color: 'independent' } },
    config: { font: 'sans-serif', background: 'white' },
  } as unknown as TopLevelSpec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega takes ~0.2 s to load and only charts need it (the svclab
  // command is one bundle whose static imports all load at start).
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
