import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NFACCT_ADD_PY, NFACCT_COUNTERS } from '../proxy/iptables/nfacct.ts';

const SEED = 'scenarios/seed/manifests';
const F = ['-f', `${SEED}/svc-deployment.yaml`, '-f', `${SEED}/nodeport.yaml`];
const svclab = (...args: string[]) =>
  spawnSync('node', ['bin/svclab.js', ...args], { encoding: 'utf8' });

test('trace: a pod reaching the NodePort service by ClusterIP is DNATed to a pod', (t) => {
  const svc = svclab('get', 'svc', 'myapp', '-o', 'json', ...F);
  const clusterIP = (JSON.parse(svc.stdout) as { spec: { clusterIP: string } }).spec.clusterIP;
  const r = svclab('trace', ...F, '--from', '10.244.1.2', '--to', `${clusterIP}:80`);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /entering k8s-node01 \(iptables mode\)/);
  t.regex(r.stdout, /^nat:PREROUTING:rule:1 {2}-A PREROUTING .*-j KUBE-SERVICES$/m);
  t.regex(
    r.stdout,
    /^nat:KUBE-SEP-[A-Z2-7]{16}:rule:\d+ {2}.*-j DNAT --to-destination 10\.244\.\d\.\d+:80$/m,
  );
  t.regex(
    r.stdout,
    new RegExp(
      `result: FORWARD dst DNAT ${clusterIP}:80 -> 10\\.244\\.\\d\\.\\d+:80, src unchanged`,
    ),
  );
  t.regex(r.stdout, /conntrack: tcp {6}6 120 SYN_SENT src=10\.244\.1\.2 /);
});

test('trace: an outside client on a NodePort is DNATed and masqueraded', (t) => {
  const svc = svclab('get', 'svc', 'myapp', '-o', 'json', ...F);
  const nodePort = (JSON.parse(svc.stdout) as { spec: { ports: { nodePort: number }[] } }).spec
    .ports[0]!.nodePort;
  const r = svclab('trace', ...F, '--from', '192.168.1.50', '--to', `10.0.100.11:${nodePort}`);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /entering k8s-node01/);
  t.regex(r.stdout, /^nat:KUBE-NODEPORTS:rule:\d+ /m);
  t.regex(r.stdout, /src MASQUERADE 192\.168\.1\.50 -> 10\.(0\.100\.11|244\.1\.1):\d+/);
});

test('conntrack -L lists the --connect flows in conntrack-tools format; -C counts them', (t) => {
  const args = [
    ...F,
    '--node',
    'k8s-node01',
    '--connect',
    '10.244.1.2,10.96.0.10:53/udp',
    '--connect',
    '10.244.1.2,10.96.0.1:443',
  ];
  const r = svclab('conntrack', '-L', ...args);
  t.is(r.status, 0, r.stderr);
  t.regex(
    r.stdout,
    /^tcp {6}6 432000 ESTABLISHED src=10\.244\.1\.2 dst=10\.96\.0\.1 sport=40001 dport=443 src=10\.0\.100\.10 dst=10\.244\.1\.2 sport=6443 dport=40001 \[ASSURED\] mark=0 use=1$/m,
  );
  t.regex(
    r.stdout,
    /^udp {6}17 30 src=10\.244\.1\.2 dst=10\.96\.0\.10 sport=40000 dport=53 src=10\.244\.0\.\d+ dst=10\.244\.1\.2 sport=53 dport=40000 mark=0 use=1$/m,
  );
  t.is(r.stderr, 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n');
  t.is(svclab('conntrack', '-C', ...args).stdout, '2\n');
});

const root = process.getuid?.() === 0;
const haveTools =
  spawnSync('iptables-restore', ['--version']).status === 0 && spawnSync('ip', ['-V']).status === 0;
(root && haveTools ? test : test.skip)(
  `svclab's iptables-save loads into the real iptables-restore and lists identically (${root ? 'root' : 'not root'}, tools ${haveTools ? 'present' : 'missing'})`,
  (t) => {
    const ns = `svl-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    const dir = mkdtempSync(join(tmpdir(), 'svclab-'));
    try {
      execFileSync('ip', ['netns', 'add', ns]);
      // kube-proxy (v1.30+) creates the nfacct objects its rules name before it restores them.
      execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c', NFACCT_ADD_PY, ...NFACCT_COUNTERS]);
      const save = svclab('iptables-save', ...F);
      t.is(save.status, 0, save.stderr);
      writeFileSync(join(dir, 'rules'), save.stdout);
      const restore = spawnSync(
        'ip',
        ['netns', 'exec', ns, 'iptables-restore', join(dir, 'rules')],
        { encoding: 'utf8' },
      );
      t.is(restore.status, 0, restore.stderr);
      for (const table of ['nat', 'filter']) {
        const real = execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-t', table, '-nvL'], {
          encoding: 'utf8',
        });
        const ours = svclab('iptables', '-t', table, '-nvL', ...F).stdout;
        t.is(ours, real, `iptables -t ${table} -nvL`);
      }
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('trace --to svc/NAME:PORT resolves the Service ClusterIP; an unknown Service is a clear error', (t) => {
  const S = 'scenarios/seed/manifests';
  const ok = svclab(
    'trace',
    '-f',
    `${S}/svc-deployment.yaml`,
    '-f',
    `${S}/svc.yaml`,
    '--from',
    '10.244.1.2',
    '--to',
    'svc/myapp:80',
  );
  t.is(ok.status, 0, ok.stderr);
  t.regex(
    ok.stdout,
    /^# TCP 10\.244\.1\.2:\d+ -> 10\.\d+\.\d+\.\d+:80 entering k8s-node01 \(iptables mode\)/,
  );
  t.regex(ok.stdout, /"default\/myapp:http cluster IP"/);
  const bad = svclab('trace', '-f', `${S}/svc.yaml`, '--from', '10.244.1.2', '--to', 'svc/nope:80');
  t.is(bad.status, 1);
  t.is(bad.stderr, 'error: no Service default/nope with a ClusterIP (from --to "svc/nope:80")\n');
});
