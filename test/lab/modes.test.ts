// The lab in iptables and nftables mode (root), the way lab.test.ts runs ipvs mode: the
// seed's myapp NodePort Service, curl through the ClusterIP from the client (spread over
// the pods) and through the NodePort from outside, the mode's own table in `lab show`,
// and nothing left after `lab down`. Elsewhere it skips with the reason.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cleanupLab } from '../../src/lab/cleanup.ts';
import { request } from '../../src/lab/client.ts';
import { labPaths } from '../../src/lab/state.ts';
import { tunSupport } from '../../src/lab/tun.ts';

const SEED = 'scenarios/seed/manifests';
const BIN = 'bin/svclab.js';

function whyNot(): string | undefined {
  const s = tunSupport();
  if (!s.ok) return s.reason;
  for (const tool of ['ip', 'curl'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}
const skip = whyNot();

function svclab(prefix: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const argv = [...args.slice(0, 2), '--prefix', prefix, ...args.slice(2)];
  const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function curl(netns: string, url: string): string {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'curl', '-s', '-m', '5', url], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.stdout;
}

async function show(prefix: string, what: string): Promise<string> {
  const r = await request(prefix, { cmd: 'show', what });
  if (!r.ok) throw new Error(r.error);
  return r.stdout ?? '';
}

const MODES = [
  { mode: 'iptables', view: 'iptables-save', table: /-A KUBE-SERVICES .* -j KUBE-SVC-/ },
  { mode: 'nftables', view: 'nft', table: /table ip kube-proxy \{/ },
] as const;

if (skip !== undefined) {
  // Counted as skipped, not passed; the reason is printed.
  console.log(`lab modes tests skipped: ${skip}`);
  test.skip('lab modes (needs root, /dev/net/tun and the lab tools)', () => undefined);
} else {
  for (const [i, m] of MODES.entries()) {
    test.serial(
      `lab in ${m.mode} mode: ClusterIP, NodePort, its table, down leaves nothing`,
      async (t) => {
        const prefix = `svl-m${process.pid % 10000}${i}-`;
        try {
          const up = svclab(prefix, [
            'lab',
            'up',
            `${SEED}/svc-deployment.yaml`,
            `${SEED}/nodeport.yaml`,
            '--proxy-mode',
            m.mode,
          ]);
          t.is(up.code, 0, up.stderr);
          t.regex(up.stdout, new RegExp(`up \\(${m.mode} mode\\)`));
          const svc = await show(prefix, 'svc');
          const vip = /^myapp\s+NodePort\s+(\S+)\s+\S+\s+80:(\d+)\/TCP/m.exec(svc);
          t.truthy(vip, svc);
          const [, clusterIP, nodePort] = vip!;
          const names = new Set<string>();
          for (let k = 0; k < 9; k++) {
            names.add(curl(`${prefix}client`, `http://${clusterIP}/hostname.html`).trim());
          }
          t.true(names.size >= 2, [...names].join(' '));
          for (const name of names) t.regex(name, /^myapp-deploy-/);
          t.regex(curl(`${prefix}external`, `http://10.0.100.12:${nodePort}/`), /Hello MyApp/);
          t.regex(await show(prefix, m.view), m.table);
        } finally {
          svclab(prefix, ['lab', 'down']);
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
  }
}
