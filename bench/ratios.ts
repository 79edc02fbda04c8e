// Headline comparisons, each from figures measured in the same run (absolute times vary
// between machines; ratios travel), set against issue #8's targets. A quick run has no
// 10k/100k sizes, so size-based ratios fall back to the largest size measured and say so.
import type { Figure } from './figures.ts';
import { type BenchResults, type Ratio, findFigure } from './results.ts';

type Results = Pick<BenchResults, 'suites'>;

const fmt = (v: number): string =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

function sizes(r: Results, suite: string, metric: string, mode: string): number[] {
  const s = r.suites.find((x) => x.name === suite);
  const out = new Set<number>();
  for (const f of s?.figures ?? [])
    if (f.metric === metric && f.mode === mode && f.services !== undefined) out.add(f.services);
  return [...out].sort((a, b) => a - b);
}

function ratio(
  id: string,
  label: string,
  value: number | null,
  unit: string,
  target: string,
  test: ((v: number) => boolean) | undefined,
  note = '',
): Ratio {
  return {
    id,
    label,
    value,
    unit,
    target,
    met: value === null || test === undefined ? null : test(value),
    note,
  };
}

const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

/** iptables/ipvs first packet at 10k services (or the largest size both measured). */
function iptablesOverIpvs(r: Results): Ratio {
  const both = sizes(r, 'classify', 'first-packet', 'iptables').filter((n) =>
    sizes(r, 'classify', 'first-packet', 'ipvs').includes(n),
  );
  const n = both.includes(10_000) ? 10_000 : both[both.length - 1];
  const ipt =
    n === undefined
      ? undefined
      : findFigure(r, 'classify', 'first-packet', { mode: 'iptables', services: n });
  const ipvs =
    n === undefined
      ? undefined
      : findFigure(r, 'classify', 'first-packet', { mode: 'ipvs', services: n });
  const v = ipt && ipvs ? ipt.median / ipvs.median : null;
  return ratio(
    'iptables-over-ipvs',
    `first packet, iptables / ipvs at ${n === undefined ? '10k' : k(n)} services`,
    v,
    '×',
    '≥ 100× at 10k services',
    n === 10_000 ? (x) => x >= 100 : undefined,
    n !== undefined && n !== 10_000
      ? 'no 10k size in this run (quick?): not comparable to the target'
      : '',
  );
}

/** Classification cost growth from 100 services to the largest size (target 100k: ≤ 1.5×). */
function flatness(r: Results, mode: 'ipvs' | 'nftables'): Ratio {
  const s = sizes(r, 'classify', 'first-packet', mode);
  const top = s[s.length - 1];
  const lo = findFigure(r, 'classify', 'first-packet', { mode, services: 100 });
  const hi =
    top === undefined
      ? undefined
      : findFigure(r, 'classify', 'first-packet', { mode, services: top });
  const v = lo && hi && top !== 100 ? hi.median / lo.median : null;
  return ratio(
    `${mode}-flatness`,
    `first packet, ${mode} ${top === undefined ? '100k' : k(top)} / 100 services`,
    v,
    '×',
    '≤ 1.5× from 100 to 100k services',
    top === 100_000 ? (x) => x <= 1.5 : undefined,
    top !== undefined && top !== 100_000 ? `largest size measured: ${k(top)}` : '',
  );
}

/** iptables grows linearly: cost per service at the top size vs at 10k (1.0 = linear). */
function iptablesLinear(r: Results): Ratio {
  const s = sizes(r, 'classify', 'first-packet', 'iptables');
  const top = s[s.length - 1];
  // From 10k up (1k if the run stops there) the walk dominates fixed per-packet costs.
  const base =
    top !== undefined && top > 10_000 && s.includes(10_000)
      ? 10_000
      : s.includes(1000) && top !== undefined && top > 1000
        ? 1000
        : s[0];
  const a =
    base === undefined
      ? undefined
      : findFigure(r, 'classify', 'first-packet', { mode: 'iptables', services: base });
  const b =
    top === undefined
      ? undefined
      : findFigure(r, 'classify', 'first-packet', { mode: 'iptables', services: top });
  const v = a && b && top !== base ? b.median / a.median / (top! / base!) : null;
  return ratio(
    'iptables-linear',
    `iptables first-packet growth ${base === undefined ? '' : k(base)} → ${top === undefined ? '' : k(top)} services, per service (1.0 = linear)`,
    v,
    '',
    'grows linearly (≈ 1.0)',
    // Judged only over a real span: at 10 services fixed costs dominate the walk.
    base !== undefined && base >= 1000 ? (x) => x >= 0.5 && x <= 2 : undefined,
    base !== undefined && base < 1000 ? 'small sizes only: not judged' : '',
  );
}

function established(r: Results): Ratio[] {
  const s = r.suites.find((x) => x.name === 'dataplane');
  const figs = (s?.figures ?? []).filter(
    (f: Figure) => f.metric === 'established' && f.unit === 'packets/s',
  );
  if (figs.length === 0)
    return [
      ratio(
        'established',
        'established forwarding',
        null,
        'M packets/s',
        '≥ 5 M packets/s per core',
        undefined,
      ),
    ];
  return figs.map((f) =>
    ratio(
      `established-${f.mode ?? ''}`,
      `established forwarding, ${f.mode ?? 'all'} mode`,
      f.median / 1e6,
      'M packets/s',
      '≥ 5 M packets/s per core',
      (x) => x >= 5,
    ),
  );
}

/** Full sync per mode at 10k services × 10 (or the largest size the control suite ran). */
function fullSync(r: Results): Ratio[] {
  const s = r.suites.find((x) => x.name === 'control');
  const all = (s?.figures ?? []).filter((f) => f.metric === 'full-sync' && f.unit === 'ms');
  const sizes = [...new Set(all.map((f) => f.services ?? 0))].sort((a, b) => a - b);
  const n = sizes.includes(10_000) ? 10_000 : sizes[sizes.length - 1];
  const figs = all.filter((f) => (f.services ?? 0) === n);
  if (figs.length === 0 || n === undefined)
    return [
      ratio(
        'full-sync',
        'full sync 10k services × 10 endpoints',
        null,
        'ms',
        '≤ 500 ms',
        undefined,
      ),
    ];
  return figs.map((f) =>
    ratio(
      `full-sync-${f.mode ?? 'control'}`,
      `full sync ${k(n)} services × 10 endpoints${f.mode ? `, ${f.mode}` : ''}`,
      f.median,
      'ms',
      '≤ 500 ms at 10k services',
      n === 10_000 ? (x) => x <= 500 : undefined,
      n !== 10_000 ? `largest size measured: ${k(n)}` : '',
    ),
  );
}

function endpointChange(r: Results): Ratio {
  const s = r.suites.find((x) => x.name === 'control');
  const f = (s?.figures ?? []).find(
    (x) => x.metric === 'endpoint-change' && x.unit.startsWith('ms'),
  );
  return ratio(
    'endpoint-change',
    `one endpoint change${f?.services !== undefined ? ` at ${k(f.services)} services` : ''}`,
    f?.median ?? null,
    'ms',
    '≤ 1 ms',
    (x) => x <= 1,
  );
}

/** TUN lab forwarding vs the C forwarder: bench/tun.ts's per-repetition `ratio` medians. */
function tun(r: Results): Ratio[] {
  const s = r.suites.find((x) => x.name === 'tun');
  const figs = s?.figures ?? [];
  const direct = figs.filter((f) => f.metric === 'ratio');
  const c = figs.find((f) => f.metric === 'tun-forward' && f.mode === 'c-forwarder');
  const ours = figs.filter((f) => f.metric === 'tun-forward' && f.mode !== 'c-forwarder');
  const values =
    direct.length > 0
      ? direct.map((f) => ({ mode: f.mode, v: f.median }))
      : c === undefined
        ? []
        : ours.map((f) => ({ mode: f.mode, v: f.median / c.median }));
  if (values.length === 0) {
    const why = s === undefined ? '' : (s.reason ?? '');
    return [
      ratio(
        'tun-vs-c',
        'TUN lab forwarding / C forwarder',
        null,
        '×',
        '≥ 0.6× (issue #7)',
        undefined,
        why,
      ),
    ];
  }
  return values.map(({ mode, v }) =>
    ratio(
      `tun-vs-c-${mode ?? ''}`,
      `TUN lab packets/s, ${mode ?? 'svclab'} / C forwarder`,
      v,
      '×',
      '≥ 0.6× (issue #7)',
      (x) => x >= 0.6,
    ),
  );
}

/** Kernel iptables / nftables TCP connect p50 at the largest size measured (no target). */
function kernel(r: Results): Ratio {
  const s = sizes(r, 'kernel', 'connect-latency', 'kernel-iptables').filter((n) =>
    sizes(r, 'kernel', 'connect-latency', 'kernel-nftables').includes(n),
  );
  const n = s[s.length - 1];
  const a =
    n === undefined
      ? undefined
      : findFigure(r, 'kernel', 'connect-latency', { mode: 'kernel-iptables', services: n });
  const b =
    n === undefined
      ? undefined
      : findFigure(r, 'kernel', 'connect-latency', { mode: 'kernel-nftables', services: n });
  return ratio(
    'kernel-iptables-over-nftables',
    `kernel TCP connect p50, iptables / nftables at ${n === undefined ? 'N' : k(n)} services`,
    a && b ? a.median / b.median : null,
    '×',
    'shape: iptables grows, nftables flat',
    undefined,
  );
}

/** userspace mode's CPU per KiB over iptables mode's, the same transfer in the same run. */
function userspaceOverIptables(r: Results): Ratio {
  const x = findFigure(r, 'userspace', 'userspace-vs-iptables', { mode: 'userspace' });
  return ratio(
    'userspace-over-iptables',
    'TCP transfer through a ClusterIP, CPU per KiB, userspace / iptables mode',
    x?.median ?? null,
    '×',
    '> 1: a copy through kube-proxy per packet (why v1.2 made iptables the default)',
    (v) => v > 1,
  );
}

export function headlineRatios(r: Results): Ratio[] {
  return [
    iptablesOverIpvs(r),
    iptablesLinear(r),
    flatness(r, 'ipvs'),
    flatness(r, 'nftables'),
    ...established(r),
    ...fullSync(r),
    endpointChange(r),
    ...tun(r),
    kernel(r),
    userspaceOverIptables(r),
  ];
}

export const formatRatio = (x: Ratio): string =>
  x.value === null
    ? 'not measured'
    : `${fmt(x.value)}${x.unit === '' ? '' : x.unit === '×' ? '×' : ` ${x.unit}`}`;
