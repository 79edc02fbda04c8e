import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOTES_MARK, publish } from '../../bench/publish.ts';
import { headlineRatios } from '../../bench/ratios.ts';
import { fixedResults } from './fixtures.ts';

test('publish copies a run to results/latest and writes RESULTS.md, keeping hand-written notes', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'svclab-publish-'));
  try {
    const run = join(root, 'run');
    mkdirSync(run);
    const r = fixedResults();
    r.ratios = headlineRatios(r);
    r.suites[0]!.chart = 'classify.svg';
    writeFileSync(join(run, 'results.json'), JSON.stringify(r));
    writeFileSync(join(run, 'summary.md'), '# x\n');
    writeFileSync(join(run, 'classify.svg'), '<svg/>');
    writeFileSync(join(run, 'classify.log'), 'not published');
    const bench = join(root, 'bench');
    await publish(run, bench);
    t.true(existsSync(join(bench, 'results/latest/classify.svg')));
    t.true(existsSync(join(bench, 'results/latest/results.json')));
    // The dataplane suite had no chart in the run (stopped early): drawn here.
    t.regex(readFileSync(join(bench, 'results/latest/dataplane.svg'), 'utf8'), /^<svg/);
    t.false(existsSync(join(bench, 'results/latest/classify.log')));
    const md = readFileSync(join(bench, 'RESULTS.md'), 'utf8');
    t.regex(md, /`npx svclab bench --full`/);
    t.regex(md, /2 cores, which other work may share/);
    t.regex(md, /!\[classify\]\(results\/latest\/classify\.svg\)/);
    t.regex(md, /### Headline ratios/);
    // Notes below the mark survive the next publication.
    writeFileSync(
      join(bench, 'RESULTS.md'),
      `${md.split(NOTES_MARK)[0]}${NOTES_MARK}\n\nmy note\n`,
    );
    await publish(run, bench);
    t.regex(readFileSync(join(bench, 'RESULTS.md'), 'utf8'), /my note/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
