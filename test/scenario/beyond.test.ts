// The scenarios beyond the seed are tests too: every scenario in scenarios/beyond must pass
// in every proxy mode (the expectations are written to hold in all of them; mode-specific
// views are marked `only:`), except that a scenario pinning `proxyMode:` runs in that mode.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/format.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { PROXY_MODES } from '../../src/control/node-setup.ts';

const DIR = 'scenarios/beyond';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(DIR, f));

test('the scenarios beyond the seed are all there', (t) => {
  t.true(files.length >= 8, files.join(', '));
});

for (const mode of PROXY_MODES) {
  for (const file of files) {
    // A scenario that pins its mode (proxyMode:) is about that mode: it runs in it alone.
    const pinned = loadScenario(file).proxyMode;
    if (pinned !== undefined && pinned !== mode) continue;
    test(`${file} passes in ${mode} mode`, async (t) => {
      const report = await runScenario(loadScenario(file), { mode });
      t.true(report.checks > 0, 'a scenario must check something');
      t.deepEqual(report.failures, [], report.transcript);
    });
  }
}
