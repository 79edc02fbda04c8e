// A fixed results object for the chart, summary and ratio builders: the shapes a full run
// produces (swept classification figures, per-mode established pps, a skipped suite).
import type { Figure } from '../../bench/figures.ts';
import type { BenchResults } from '../../bench/results.ts';

/** A figure with min/max ±10% around `median`, 5 samples. */
export const f = (
  metric: string,
  unit: string,
  median: number,
  extra: { mode?: string; services?: number } = {},
): Figure => ({ metric, ...extra, unit, min: median * 0.9, median, max: median * 1.1, samples: 5 });

const SIZES = [100, 1_000, 10_000, 100_000];

export function fixedResults(): BenchResults {
  const classify: Figure[] = [];
  for (const n of SIZES) {
    classify.push(f('first-packet', 'ns/packet', 5 * n, { mode: 'iptables', services: n }));
    classify.push(
      f('first-packet', 'ns/packet', n === 100_000 ? 600 : 400, { mode: 'ipvs', services: n }),
    );
    classify.push(f('first-packet', 'ns/packet', 500, { mode: 'nftables', services: n }));
    classify.push(f('visited', 'rules', n / 2, { mode: 'iptables', services: n }));
  }
  return {
    version: 1,
    date: '2026-11-27T17:50:00.000Z',
    argv: ['--full'],
    quick: false,
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, kernel: '6.1.0', platform: 'linux x64' },
    node: 'v20.0.0',
    commit: 'abc1234',
    dirty: false,
    durationMs: 300_000,
    suites: [
      {
        name: 'classify',
        file: 'bench/classify.ts',
        status: 'ok',
        exitCode: 0,
        durationMs: 200_000,
        figures: classify,
        log: 'classify.log',
      },
      {
        name: 'dataplane',
        file: 'bench/dataplane.ts',
        status: 'ok',
        exitCode: 0,
        durationMs: 60_000,
        figures: [
          f('established', 'packets/s', 6e6, { mode: 'iptables' }),
          f('established', 'packets/s', 4e6, { mode: 'ipvs' }),
          f('established', 'ns/packet', 166, { mode: 'iptables' }),
        ],
        log: 'dataplane.log',
      },
      {
        name: 'kernel',
        file: 'bench/kernel.ts',
        status: 'skipped',
        reason: 'needs root',
        exitCode: 0,
        durationMs: 500,
        figures: [],
        log: 'kernel.log',
      },
    ],
    ratios: [],
  };
}
