// The seed walkthrough is a test: every scenario in scenarios/ must pass in every proxy
// mode that can run it (the expectations are written to hold in all of them).
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadScenario, scenarioParts } from '../../src/scenario/format.ts';
import { scenarioFiles } from '../../src/cli/run.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { PROXY_MODES } from '../../src/control/node-setup.ts';
import { makeProxier } from '../../src/control/node-setup.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { resolveNodes } from '../../src/control/cluster-config.ts';

const DIR = 'scenarios/seed';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'walkthrough.yaml')
  .sort()
  .map((f) => join(DIR, f));

function modeAvailable(mode: (typeof PROXY_MODES)[number]): boolean {
  const c = new Cluster();
  try {
    makeProxier(c, resolveNodes(c.config)[0]!, mode);
    return true;
  } catch {
    return false;
  }
}

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
  const available = modeAvailable(mode);
  for (const file of files) {
    (available ? test : test.skip)(
      `${file} passes in ${mode} mode${available ? '' : ' (mode not built yet)'}`,
      async (t) => {
        const report = await runScenario(loadScenario(file), { mode });
        t.true(report.checks > 0, 'a scenario must check something');
        t.deepEqual(report.failures, [], report.transcript);
      },
    );
  }
}
