// The shape of one `svclab bench` run as written to results.json, and the lookups the chart,
// summary and ratio builders share.
import type { Figure } from './figures.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  platform: string;
}

export type SuiteStatus = 'ok' | 'skipped' | 'no-figures' | 'crashed';

export interface SuiteRun {
  /** The harness's name for the suite (--suite NAME). */
  name: string;
  file: string;
  status: SuiteStatus;
  /** Why the suite skipped, printed no figures, or crashed. */
  reason?: string;
  exitCode: number | null;
  durationMs: number;
  figures: Figure[];
  /** The suite's own output, beside results.json. */
  log: string;
  /** SVG chart file name, when the suite had figures to draw. */
  chart?: string;
  /** The machine's 1-minute load average when the suite started and when it ended. */
  load?: { start: number; end: number };
}

/** A comparison measured in this run, against the target where it has one. */
export interface Ratio {
  id: string;
  label: string;
  /** null: not measured in this run (suite skipped or not selected). */
  value: number | null;
  /** How value reads, e.g. `×` or `M packets/s`. */
  unit: string;
  target: string;
  /** null when there is no value or no target. */
  met: boolean | null;
  note: string;
  /** The suite whose figures gave the value. */
  suite?: string;
  /** That suite's load average, start–end (the machine's other work while it measured). */
  load?: string;
}

export interface BenchResults {
  version: 1;
  date: string;
  argv: string[];
  quick: boolean;
  machine: Machine;
  node: string;
  commit: string;
  /** True when the working tree had uncommitted changes. */
  dirty: boolean;
  durationMs: number;
  suites: SuiteRun[];
  ratios: Ratio[];
}

/** The figure with this metric (and mode / services when given) in a suite, if measured. */
export function findFigure(
  results: Pick<BenchResults, 'suites'>,
  suite: string,
  metric: string,
  where: { mode?: string; services?: number; unit?: string } = {},
): Figure | undefined {
  const s = results.suites.find((x) => x.name === suite);
  return s?.figures.find(
    (f) =>
      f.metric === metric &&
      (where.mode === undefined || f.mode === where.mode) &&
      (where.services === undefined || f.services === where.services) &&
      (where.unit === undefined || f.unit === where.unit),
  );
}
