// `svclab bench`: the benchmark suites under bench/, each in its own process, with a
// progress line, results.json, one SVG chart per suite and summary.md (bench/harness.ts).
import type { Command } from 'commander';
import { CliError, collect } from './cluster-from-files.ts';
import { SUITES } from '../../bench/suites.ts';

interface BenchCliOptions {
  quick?: boolean;
  full?: boolean;
  suite?: string[];
  out?: string;
  verbose?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suites; write results.json, SVG charts and summary.md')
    .option('--quick', 'small sizes, short rounds (the whole run in under 2 minutes)')
    .option('--full', 'every size (the default; several minutes)')
    .option(
      '--suite <name>',
      `only this suite (repeatable): ${SUITES.map((s) => s.name).join(', ')}`,
      collect,
    )
    .option('--out <dir>', 'output directory (default bench/results/<date>-<commit>/)')
    .option('-v, --verbose', "show each suite's own output as it runs")
    .action(async (o: BenchCliOptions) => {
      if (o.quick && o.full) throw new CliError('error: --quick and --full exclude each other', 2);
      // Loaded here: the harness brings vega for its charts, which no other command needs.
      const { UnknownSuiteError, runBench, shortPath } = await import('../../bench/harness.ts');
      let run;
      try {
        run = await runBench({
          quick: o.quick === true,
          suites: o.suite ?? [],
          ...(o.out !== undefined ? { outDir: o.out } : {}),
          verbose: o.verbose === true,
          argv: [
            o.quick ? '--quick' : '--full',
            ...(o.suite ?? []).flatMap((s) => ['--suite', s]),
            ...(o.out !== undefined ? ['--out', o.out] : []),
          ],
        });
      } catch (err) {
        if (err instanceof UnknownSuiteError) throw new CliError(`error: ${err.message}`, 2);
        throw err;
      }
      const out = shortPath(run.outDir);
      process.stdout.write(
        `results: ${out}/results.json, ${out}/summary.md, charts ${out}/*.svg\n`,
      );
      for (const x of run.results.ratios) {
        if (x.value === null) continue;
        const v = x.value >= 100 ? x.value.toFixed(0) : x.value.toPrecision(3);
        const met = x.met === null ? '' : x.met ? ' (target met)' : ` (target ${x.target}: missed)`;
        process.stdout.write(`  ${x.label}: ${v}${x.unit === '×' ? '×' : ` ${x.unit}`}${met}\n`);
      }
      if (run.exitCode !== 0) throw new CliError('svclab bench: a suite crashed (see its log)', 1);
    });
}
