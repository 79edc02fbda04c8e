// The scenarios beyond the seed are tests too: every scenario in scenarios/beyond must pass
// in every proxy mode (the expectations are written to hold in all of them).
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/format.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { PROXY_MODES } from '../../src/sim/node-setup.ts';
import { makeProxier } from '../../src/sim/node-setup.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { resolveNodes } from '../../src/control/cluster-config.ts';

const DIR = 'scenarios/beyond';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
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

test('the scenarios beyond the seed are all there', (t) => {
  t.true(files.length >= 8, files.join(', '));
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
