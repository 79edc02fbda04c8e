// Headline comparisons, each from figures measured in the same run (absolute times vary
// between machines; ratios travel), set against issues #8 and #18's targets. A quick run has
// no 10k/100k sizes, so size-based ratios fall back to the largest size measured and say so.
// Each ratio names the suite it came from, and carries that suite's load average.
import type { Figure } from './figures.ts';
import { type BenchResults, type Ratio, findFigure } from './results.ts';

const MODES = ['iptables', 'ipvs', 'nftables'] as const;

type Results = Pick<BenchResults, 'suites'>;

const fmt = (v: number): string =>
  v >= 100
    ? Math.round(v).toLocaleString('en-US')
    : v >= 10
      ? v.toFixed(1)
      : v >= 1
        ? v.toFixed(2)
        : v.toPrecision(2);

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

/** Classification cost growth from 100 services to the largest size (issue #18: ≤ 2× at 100k). */
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
    '≤ 2× from 100 to 100k services',
    top === 100_000 ? (x) => x <= 2 : undefined,
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
  const feeds = (s?.figures ?? []).filter(
    (f) => f.metric === 'full-sync-feed' && (f.services ?? 0) === n,
  );
  return figs.map((f) => {
    const fed = feeds.find((x) => x.mode === f.mode);
    const notes = [
      n !== 10_000 ? `largest size measured: ${k(n)}` : '',
      fed === undefined ? '' : feedNote(fed.median),
    ];
    return ratio(
      `full-sync-${f.mode ?? 'control'}`,
      `full sync ${k(n)} services × 10 endpoints${f.mode ? `, ${f.mode}` : ''}`,
      f.median,
      'ms',
      '≤ 500 ms at 10k services',
      n === 10_000 ? (x) => x <= 500 : undefined,
      notes.filter((x) => x !== '').join('; '),
    );
  });
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

/** A hashed mode's first packet at 100k services (issue #18: ≤ 1 µs). */
function firstPacket100k(r: Results, mode: 'ipvs' | 'nftables'): Ratio {
  const x = findFigure(r, 'classify', 'first-packet', { mode, services: 100_000 });
  return ratio(
    `${mode}-first-packet-100k`,
    `first packet, ${mode} at 100k services`,
    x === undefined ? null : x.median,
    'ns',
    '≤ 1,000 ns at 100k services',
    (v) => v <= 1000,
  );
}

/** Heap + typed arrays after filling a mode with 100k services × 10 (issue #18: ≤ 1 GiB). */
function memory100k(r: Results): Ratio[] {
  return MODES.map((mode) => {
    const heap = findFigure(r, 'classify', 'heap', { mode, services: 100_000 });
    const ab = findFigure(r, 'classify', 'array-buffers', { mode, services: 100_000 });
    return ratio(
      `memory-100k-${mode}`,
      `memory at 100k services × 10 endpoints, ${mode} (heap + typed arrays)`,
      heap === undefined ? null : heap.median + (ab?.median ?? 0),
      'MiB',
      '≤ 1,024 MiB',
      (v) => v <= 1024,
    );
  });
}

/**
 * The sync figures are sync() alone, as kube-proxy's sync_proxy_rules_duration_seconds;
 * the handlers' work before it (Services converted, slices parsed, as kube-proxy's
 * change trackers do on arrival) is printed beside them.
 */
const feedNote = (ms: number): string =>
  `plus ${Math.round(ms).toLocaleString('en-US')} ms in the event handlers before it`;

/** A proxier's first sync of 100k services × 10, from the classify suite (issue #18: ≤ 5 s). */
function sync100k(r: Results): Ratio[] {
  return MODES.map((mode) => {
    const x = findFigure(r, 'classify', 'sync', { mode, services: 100_000 });
    const fed = findFigure(r, 'classify', 'feed', { mode, services: 100_000 });
    return ratio(
      `sync-100k-${mode}`,
      `full sync 100k services × 10 endpoints, ${mode}`,
      x === undefined ? null : x.median,
      'ms',
      '≤ 5,000 ms at 100k services',
      (v) => v <= 5000,
      fed === undefined ? '' : feedNote(fed.median),
    );
  });
}

/**
 * The simulation engine against the best ns-3 build measured in the same run, packets per
 * CPU second (issue #18: ≥ 2×): the smallest svclab / ns-3 ratio over the ns-3 builds.
 */
function simVsNs3(r: Results): Ratio {
  const s = r.suites.find((x) => x.name === 'ns3');
  const figs = (s?.figures ?? []).filter(
    (f) => f.metric === 'ratio-cpu' && (f.mode ?? '').startsWith('svclab/'),
  );
  let worst: Figure | undefined;
  for (const f of figs) if (worst === undefined || f.median < worst.median) worst = f;
  const against = worst?.mode?.split('/')[1] ?? '';
  return ratio(
    'sim-vs-ns3',
    `simulation packets per CPU second, svclab / best ns-3${against === '' ? '' : ` (${against})`}`,
    worst?.median ?? null,
    '×',
    '≥ 2× the best ns-3 build',
    (v) => v >= 2,
    worst === undefined ? (s?.reason ?? '') : '',
  );
}

const fmtLoad = (x: number): string => x.toFixed(1);

/** Name the suite these ratios came from and copy its load average beside each. */
function fromSuite(r: Results, suite: string, ratios: readonly Ratio[]): Ratio[] {
  const load = r.suites.find((s) => s.name === suite)?.load;
  const l = load === undefined ? {} : { load: `${fmtLoad(load.start)}–${fmtLoad(load.end)}` };
  return ratios.map((x) => ({ ...x, suite, ...l }));
}

export function headlineRatios(r: Results): Ratio[] {
  return [
    ...fromSuite(r, 'classify', [
      iptablesOverIpvs(r),
      iptablesLinear(r),
      flatness(r, 'ipvs'),
      flatness(r, 'nftables'),
      firstPacket100k(r, 'ipvs'),
      firstPacket100k(r, 'nftables'),
      ...memory100k(r),
    ]),
    ...fromSuite(r, 'dataplane', established(r)),
    ...fromSuite(r, 'control', fullSync(r)),
    ...fromSuite(r, 'classify', sync100k(r)),
    ...fromSuite(r, 'control', [endpointChange(r)]),
    ...fromSuite(r, 'ns3', [simVsNs3(r)]),
    ...fromSuite(r, 'tun', tun(r)),
    ...fromSuite(r, 'kernel', [kernel(r)]),
    ...fromSuite(r, 'userspace', [userspaceOverIptables(r)]),
  ];
}

export const formatRatio = (x: Ratio): string =>
  x.value === null
    ? 'not measured'
    : `${fmt(x.value)}${x.unit === '' ? '' : x.unit === '×' ? '×' : ` ${x.unit}`}`;
