// The real iptables (iptables-nft 1.8.9) must accept svclab's output and print it
// back identically. Needs root, `ip` and iptables-restore: each test makes a
// throw-away network namespace `svl-test-<pid>-<random>` and deletes it afterwards.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { compileRuleSet } from '../../../src/proxy/iptables/compile.ts';
import { iptablesList } from '../../../src/proxy/iptables/list.ts';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { restoreText } from '../../../src/proxy/iptables/rules.ts';
import type { RuleSet } from '../../../src/proxy/iptables/rules.ts';
import { iptablesSave } from '../../../src/proxy/iptables/save.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { sendFirstPacket } from './flow.ts';
import { NFACCT_ADD_PY, NFACCT_COUNTERS } from './nfacct.ts';
import {
  entriesOf,
  loadBalancerObjects,
  localAffinityObjects,
  overallServices,
  overallSlices,
} from './kube-fixture.ts';

const RESTORE = '/usr/sbin/iptables-restore';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(RESTORE)) return `${RESTORE} not installed`;
  if (spawnSync('ip', ['-V']).status !== 0) return '`ip` not available';
  if (spawnSync('python3', ['-c', 'import socket']).status !== 0) return 'python3 not available';
  return undefined;
}

function sh(args: string[], input?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(args[0] as string, args.slice(1), { input, encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** A fresh namespace, deleted when the test ends. */
function netns(t: ExecutionContext): (args: string[], input?: string) => ReturnType<typeof sh> {
  const name = `svl-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const made = sh(['ip', 'netns', 'add', name]);
  if (!made.ok) throw new Error(`ip netns add ${name}: ${made.err}`);
  t.teardown(() => {
    sh(['ip', 'netns', 'del', name]);
  });
  // kube-proxy creates its nfacct counters before its first restore.
  const acct = sh([
    'ip',
    'netns',
    'exec',
    name,
    'python3',
    '-c',
    NFACCT_ADD_PY,
    ...NFACCT_COUNTERS,
  ]);
  if (!acct.ok) throw new Error(`nfacct objects: ${acct.err}`);
  return (args, input) => sh(['ip', 'netns', 'exec', name, ...args], input);
}

const noComments = (s: string) =>
  s
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

const chainNames = (save: string) =>
  save
    .split('\n')
    .filter((l) => l.startsWith(':'))
    .map((l) => l.split(' ')[0]);
const ruleCount = (save: string) =>
  save.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).length;

const NODE = { nodeName: 'test-node', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.0.0.0/8' };

function myappObjects(): { services: Service[]; slices: EndpointSlice[] } {
  return {
    services: [
      makeService('default', 'myapp', {
        clusterIP: '10.96.0.100',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      }),
      makeService('kube-system', 'kube-dns', {
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'dns-sctp', port: 53, protocol: 'SCTP', targetPort: 53 },
        ],
      }),
    ],
    slices: [
      makeSlice(
        'default',
        'myapp',
        'myapp-1',
        [ep('10.244.1.10'), ep('10.244.2.10'), ep('10.244.3.10')],
        [tcp('http', 8080)],
      ),
      makeSlice(
        'kube-system',
        'kube-dns',
        'kube-dns-1',
        [ep('10.244.0.2'), ep('10.244.0.3')],
        [
          { name: 'dns', port: 53, protocol: 'UDP' },
          tcp('dns-tcp', 53),
          { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
        ],
      ),
    ],
  };
}

const SCENARIOS: [string, () => RuleSet][] = [
  [
    'kube-proxy overall service set',
    () => compileRuleSet(entriesOf(overallServices(), overallSlices()), NODE),
  ],
  [
    'load balancer with source ranges',
    () => {
      const o = loadBalancerObjects();
      return compileRuleSet(entriesOf(o.services, o.slices), NODE);
    },
  ],
  [
    'Local policy + affinity, no localhost node ports, masquerade all',
    () => {
      const o = localAffinityObjects();
      return compileRuleSet(entriesOf(o.services, o.slices), {
        ...NODE,
        localhostNodePorts: false,
        masqueradeAll: true,
      });
    },
  ],
  [
    'affinity, UDP/TCP/SCTP, three endpoints',
    () => {
      const o = myappObjects();
      return compileRuleSet(entriesOf(o.services, o.slices), NODE);
    },
  ],
];

const why = missing();
if (why !== undefined) {
  test.skip(`iptables-restore acceptance (skipped: ${why})`, () => {});
} else {
  for (const [name, make] of SCENARIOS) {
    test.serial(`real iptables-restore accepts and re-saves identically: ${name}`, (t) => {
      const run = netns(t);
      const ours = iptablesSave(make());
      const restored = run(['iptables-restore'], ours);
      t.true(restored.ok, restored.err);
      const real = run(['iptables-save']);
      t.true(real.ok, real.err);
      t.deepEqual(chainNames(real.out), chainNames(ours));
      t.is(ruleCount(real.out), ruleCount(ours));
      t.is(noComments(real.out), noComments(ours));
    });

    test.serial(`real iptables -nvL / -nvxL / -nL print what svclab prints: ${name}`, (t) => {
      const run = netns(t);
      const rs = make();
      t.true(run(['iptables-restore'], iptablesSave(rs)).ok);
      for (const table of ['nat', 'filter'] as const) {
        t.is(run(['iptables', '-t', table, '-nvL']).out, iptablesList(rs, table), `${table} -nvL`);
        t.is(
          run(['iptables', '-t', table, '-nvxL']).out,
          iptablesList(rs, table, { exact: true }),
          `${table} -nvxL`,
        );
        t.is(
          run(['iptables', '-t', table, '-nL']).out,
          iptablesList(rs, table, { verbose: false }),
          `${table} -nL`,
        );
      }
    });
  }

  test.serial("kube-proxy's restore payload loads with --noflush", (t) => {
    const run = netns(t);
    const rs = compileRuleSet(entriesOf(overallServices(), overallSlices()), NODE);
    const payload = restoreText(rs);
    const r = run(['iptables-restore', '--noflush'], payload);
    t.true(r.ok, r.err);
    const real = run(['iptables-save']).out;
    const declared = payload
      .split('\n')
      .filter((l) => l.startsWith(':'))
      .map((l) => l.split(' ')[0]);
    for (const c of declared) t.true(chainNames(real).includes(c), `${c} exists`);
    t.is(ruleCount(real), ruleCount(payload));
  });

  test.serial('counters after traffic restore with -c and list identically', (t) => {
    const run = netns(t);
    const o = myappObjects();
    const px = new IptablesProxier({ ...NODE, random: seededRandom(9), now: () => 0 });
    for (const s of o.services) px.onServiceAdd(s);
    for (const s of o.slices) px.onEndpointSliceAdd(s);
    px.sync();
    for (let i = 0; i < 3000; i++) {
      sendFirstPacket(
        px,
        { src: `10.244.${9 + (i >> 8)}.${i & 255}`, dst: '10.96.0.100', dport: 80 },
        1024 + i,
      );
    }
    const r = run(['iptables-restore', '-c'], px.save({ counters: true }));
    t.true(r.ok, r.err);
    t.is(noComments(run(['iptables-save', '-c']).out), noComments(px.save({ counters: true })));
    t.is(run(['iptables', '-t', 'nat', '-nvL']).out, px.list('nat'));
    t.is(run(['iptables', '-t', 'nat', '-nvxL']).out, px.list('nat', { exact: true }));
  });
}
