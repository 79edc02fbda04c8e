// The seed walkthrough is a test: every scenario in scenarios/seed must pass in every proxy
// mode (the expectations are written to hold in all of them). Every mode in PROXY_MODES
// is built, so none is skipped: a mode whose proxier fails to construct fails here.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../src/scenario/format.ts';
import { scenarioFiles } from '../../src/cli/run.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { PROXY_MODES } from '../../src/control/node-setup.ts';

const DIR = 'scenarios/seed';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(DIR, f));

test('the seed scenarios are all there, one per section', (t) => {
  t.true(files.length >= 10, files.join(', '));
  t.deepEqual(scenarioFiles([DIR]), [...files], 'a folder runs each of its scenarios once');
});

// npm start: the whole walkthrough on ONE cluster. Its own expectations check what only a
// cumulative cluster shows (myapp "configured" by nodeport.yaml, nginx-test replaced by
// re.yaml, kube-proxy restarted in ipvs mode from its ConfigMap); this test checks that
// they are there and hold.
test('scenarios/walkthrough.yaml: the seed on one cluster, switched to ipvs through the kube-proxy ConfigMap', async (t) => {
  const sc = loadScenario('scenarios/walkthrough.yaml');
  const report = await runScenario(sc);
  t.deepEqual(report.failures, [], report.transcript);
  for (const text of [
    'service/myapp configured',
    'ingress.extensions/nginx-test configured',
    'configmap/kube-proxy configured',
    '] Using ipvs Proxier.',
    'ipvsadm -Ln',
    'iptables -t nat -nvL\n',
  ])
    t.true(report.transcript.includes(text), text);
  t.is(
    report.transcript.match(/^\[root@k8s-master01 ~\]# kubectl apply -f svc.yaml$/gm)?.length,
    1,
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
