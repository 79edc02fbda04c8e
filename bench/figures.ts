// The one result shape every benchmark suite reports, so `svclab bench` can collect,
// chart and tabulate them. A suite run as a script prints one `BENCH_JSON {...}` line
// (a SuiteResult) after its human-readable output; `--quick` asks for small sizes.

/** One measured quantity: e.g. first-packet cost in ipvs mode at 10,000 services. */
export interface Figure {
  /** What was measured, e.g. `first-packet`, `established`, `full-sync`, `rules-visited`. */
  metric: string;
  /** iptables | ipvs | nftables | kernel-iptables | kernel-nftables | c-forwarder …, when it applies. */
  mode?: string;
  /** Number of Services, when the figure is swept over sizes. */
  services?: number;
  /** e.g. `ns/packet`, `packets/s`, `ms`, `MiB`, `rules`. */
  unit: string;
  min: number;
  median: number;
  max: number;
  /** How many repetitions min/median/max summarise. */
  samples: number;
}

export interface SuiteResult {
  suite: string;
  figures: Figure[];
  /** Set when the suite could not run here (e.g. needs root); figures is then empty. */
  skipped?: string;
}

export const BENCH_JSON_PREFIX = 'BENCH_JSON ';

/** min/median/max of repeated samples as a Figure. */
export function figure(
  metric: string,
  unit: string,
  samples: readonly number[],
  extra: { mode?: string; services?: number } = {},
): Figure {
  if (samples.length === 0) throw new RangeError(`no samples for ${metric}`);
  const s = [...samples].sort((a, b) => a - b);
  return {
    metric,
    ...extra,
    unit,
    min: s[0]!,
    median: s[s.length >> 1]!,
    max: s[s.length - 1]!,
    samples: s.length,
  };
}

/** Print the machine-readable line `svclab bench` parses. */
export function printSuiteResult(result: SuiteResult): void {
  console.log(BENCH_JSON_PREFIX + JSON.stringify(result));
}

/** True when the suite was started with `--quick` (small sizes, for smoke runs). */
export const isQuick = (argv: readonly string[] = process.argv): boolean =>
  argv.includes('--quick');
