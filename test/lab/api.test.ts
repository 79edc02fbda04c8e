// The lab's Kubernetes API (root): `lab up` serves it and writes a kubeconfig; the real
// kubectl lists the lab's pods, applies a Service that the client then reaches through
// the dataplane, and execs in a pod's network namespace. Skipped, with the reason, where
// the lab cannot run or kubectl is missing.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupLab } from '../../src/lab/cleanup.ts';
import { labPaths } from '../../src/lab/state.ts';
import { tunSupport } from '../../src/lab/tun.ts';

const SEED = 'scenarios/seed/manifests';
const BIN = 'bin/svclab.js';

function whyNot(): string | undefined {
  const s = tunSupport();
  if (!s.ok) return s.reason;
  for (const tool of ['ip', 'curl', 'kubectl'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}
const skip = whyNot();
if (skip !== undefined) console.log(`lab API test skipped: ${skip}`);

const svclab = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

(skip === undefined ? test.serial : test.serial.skip)(
  'lab up serves the Kubernetes API: kubectl get, apply, exec; the client reaches the new Service',
  async (t) => {
    const prefix = `svl-a${process.pid % 10000}-`;
    const kubeconfig = join(labPaths(prefix).dir, 'kubeconfig');
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: labPaths(prefix).dir };
    const kubectl = (...args: string[]) =>
      spawnSync('kubectl', args, { encoding: 'utf8', env, cwd: SEED, timeout: 60_000 });
    try {
      const up = svclab([
        'lab',
        'up',
        '--prefix',
        prefix,
        `${SEED}/svc-deployment.yaml`,
        '--api-port',
        '0',
      ]);
      t.is(up.status, 0, up.stderr);
      t.regex(up.stdout, /Kubernetes API at https:\/\/127\.0\.0\.1:\d+/);
      t.is(statSync(kubeconfig).mode & 0o777, 0o600);
      const printed = svclab(['kubeconfig', '--lab', '--prefix', prefix]);
      t.regex(printed.stdout, /certificate-authority-data: /);

      const pods = kubectl('get', 'pod', '-o', 'wide');
      t.is(pods.status, 0, pods.stderr);
      const rows = pods.stdout
        .trim()
        .split('\n')
        .slice(1)
        .filter((l) => /\sRunning\s/.test(l));
      t.is(rows.length, 3, pods.stdout);

      const applied = kubectl('apply', '-f', 'svc.yaml');
      t.is(applied.stdout, 'service/myapp created\n', applied.stderr);
      const svc = kubectl('get', 'svc', 'myapp', '-o', 'jsonpath={.spec.clusterIP}');
      const ip = svc.stdout.trim();
      t.regex(ip, /^10\.\d+\.\d+\.\d+$/);
      let answer = '';
      for (let i = 0; i < 40 && !answer.startsWith('myapp-deploy-'); i++) {
        await new Promise((r) => setTimeout(r, 250));
        answer = svclab([
          'lab',
          'exec',
          '--prefix',
          prefix,
          'client',
          '--',
          'curl',
          '-s',
          '-m',
          '2',
          `http://${ip}/hostname.html`,
        ]).stdout;
      }
      t.regex(answer, /^myapp-deploy-/);

      const pod = rows[0]!.split(/\s+/)[0]!;
      const podIP = rows[0]!.split(/\s+/)[5]!;
      const ex = kubectl('exec', pod, '--', 'ip', '-o', '-4', 'addr');
      t.is(ex.status, 0, ex.stderr);
      t.true(ex.stdout.includes(podIP), ex.stdout);
      t.is(kubectl('delete', '-f', 'svc.yaml').stdout, 'service "myapp" deleted\n');
    } finally {
      svclab(['lab', 'down', '--prefix', prefix]);
      await cleanupLab(prefix);
      // `lab down` keeps the daemon's log; the test's own kubectl cache (HOME) is there too.
      rmSync(labPaths(prefix).dir, { recursive: true, force: true });
    }
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.startsWith(prefix));
    t.deepEqual(left, []);
  },
);
