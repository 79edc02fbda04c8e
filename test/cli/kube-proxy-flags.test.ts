// kube-proxy's own flags on svclab's commands (--proxy-mode, --ipvs-scheduler,
// --masquerade-all, --cluster-cidr, --nodeport-addresses), and a kube-proxy ConfigMap given
// with -f, reach each node's kube-proxy as its configuration file would.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEED = 'scenarios/seed/manifests';
const F = ['-f', `${SEED}/svc-deployment.yaml`, '-f', `${SEED}/svc.yaml`];
const svclab = (...args: string[]) =>
  spawnSync('node', ['bin/svclab.js', ...args], { encoding: 'utf8' });

test('--masquerade-all and --cluster-cidr change the service chains as kube-proxy writes them', (t) => {
  const plain = svclab('iptables-save', ...F);
  t.is(plain.status, 0, plain.stderr);
  t.regex(plain.stdout, /^-A KUBE-SVC-\S+ ! -s 10\.244\.0\.0\/16 -d 10\.\S+ .*-j KUBE-MARK-MASQ$/m);
  const all = svclab('iptables-save', ...F, '--masquerade-all');
  t.notRegex(all.stdout, /! -s 10\.244\.0\.0\/16/);
  t.regex(all.stdout, /^-A KUBE-SVC-\S+ -d 10\.\S+ .*-j KUBE-MARK-MASQ$/m);
  const cidr = svclab('iptables-save', ...F, '--cluster-cidr', '10.0.0.0/8');
  t.regex(cidr.stdout, /^-A KUBE-SVC-\S+ ! -s 10\.0\.0\.0\/8 /m);
});

test('--ipvs-scheduler picks the scheduler; kube-proxy rejects an unknown one', (t) => {
  const sh = svclab('ipvsadm', '-Ln', ...F, '--ipvs-scheduler', 'sh');
  t.is(sh.status, 0, sh.stderr);
  t.regex(sh.stdout, /^TCP {2}10\.\d+\.\d+\.\d+:80 sh$/m);
  const bad = svclab('ipvsadm', '-Ln', ...F, '--ipvs-scheduler', 'fastest');
  t.is(bad.status, 1);
  t.regex(bad.stderr, /Scheduler: Invalid value: "fastest": must be in \[rr wrr lc/);
  const mode = svclab('iptables-save', ...F, '--proxy-mode', 'kernel');
  t.is(mode.status, 1);
  t.regex(mode.stderr, /unknown proxy mode "kernel"/);
});

test('a kube-proxy ConfigMap in the -f files sets the mode; --proxy-mode overrides it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-kp-'));
  try {
    const cm = join(dir, 'kube-proxy.yaml');
    writeFileSync(
      cm,
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: kube-proxy, namespace: kube-system }',
        'data:',
        '  config.conf: |',
        '    apiVersion: kubeproxy.config.k8s.io/v1alpha1',
        '    kind: KubeProxyConfiguration',
        '    mode: nftables',
        '',
      ].join('\n'),
    );
    const nft = svclab('nft', 'list', 'ruleset', '-f', cm, ...F);
    t.is(nft.status, 0, nft.stderr);
    t.regex(nft.stdout, /^table ip kube-proxy \{$/m);
    // ipvsadm's own default (ipvs) yields to the file too: nothing is in IPVS.
    const ipvs = svclab('ipvsadm', '-Ln', '-f', cm, ...F);
    t.notRegex(ipvs.stdout, /^TCP /m);
    const flag = svclab('iptables-save', '-f', cm, ...F, '--proxy-mode', 'iptables');
    t.regex(flag.stdout, /^:KUBE-SERVICES - \[0:0\]$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
