// The seed walkthrough is a test: every scenario in scenarios/seed must pass in every proxy
// mode (the expectations are written to hold in all of them). Every mode in PROXY_MODES
// is built, so none is skipped: a mode whose proxier fails to construct fails here.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadScenario, scenarioParts } from '../../src/scenario/format.ts';
import { scenarioFiles } from '../../src/cli/run.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { PROXY_MODES } from '../../src/control/node-setup.ts';

const DIR = 'scenarios/seed';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'walkthrough.yaml')
  .sort()
  .map((f) => join(DIR, f));

test('the seed scenarios are all there, and walkthrough.yaml chains every one in order', (t) => {
  t.true(files.length >= 10, files.join(', '));
  const parts = scenarioParts(join(DIR, 'walkthrough.yaml'))?.map((p) =>
    relative(process.cwd(), p),
  );
  t.deepEqual(parts, files);
  t.deepEqual(
    scenarioFiles([DIR]),
    [...files],
    'a folder with walkthrough.yaml runs each part once',
  );
});

for (const mode of PROXY_MODES) {
  for (const file of files) {
    test(`${file} passes in ${mode} mode`, async (t) => {
      const report = await runScenario(loadScenario(file), { mode });
      t.true(report.checks > 0, 'a scenario must check something');
      t.deepEqual(report.failures, [], report.transcript);
    });
  }
}
