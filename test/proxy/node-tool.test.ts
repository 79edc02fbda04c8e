// The node views written once (src/proxy/node-tool.ts, views.ts, tool-args.ts): argv →
// output shape in every mode, ipvs mode's own iptables rules, and the session, the lab, the
// API server's node-tool endpoint and the CLI printing the same text for the same node.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { SimRuntime } from '../../src/scenario/live-runtime.ts';
import { nodeView } from '../../src/cli/node-view.ts';
import { labNodeTool, renderShow } from '../../src/lab/views.ts';
import type { ProxyMode } from '../../src/control/node-setup.ts';
import { parseToolArgv, runNodeTool } from '../../src/proxy/node-tool.ts';
import { Session } from '../../src/scenario/session.ts';

const SEED = 'scenarios/seed/manifests';
const NODE = 'k8s-node01';
const MODES: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'userspace'];

const sessions = new Map<ProxyMode, Promise<Session>>();
function session(mode: ProxyMode): Promise<Session> {
  let s = sessions.get(mode);
  if (s === undefined) {
    s = (async () => {
      const x = new Session({ mode, baseDir: SEED });
      await x.exec('kubectl apply -f svc-deployment.yaml -f nodeport.yaml');
      await x.exec('sleep 30');
      return x;
    })();
    sessions.set(mode, s);
  }
  return s;
}

/** What one argv prints in one mode: exit status, and patterns stdout (or stderr) must show. */
interface Case {
  readonly argv: string;
  readonly exit?: number;
  readonly stdout?: readonly RegExp[];
  readonly stderr?: readonly RegExp[];
  /** stdout is exactly this. */
  readonly exactly?: string;
}

const EMPTY_IPVS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

const COMMON: readonly Case[] = [
  { argv: 'conntrack -C', stdout: [/^\d+\n$/] },
  { argv: 'conntrack -S', stdout: [/^cpu=0 {3}\tfound=\d+ invalid=\d+ insert=\d+ /] },
  { argv: 'conntrack -L -p icmp', stderr: [/: 0 flow entries have been shown\.\n$/] },
  { argv: 'conntrack -L -o extended', stderr: [/flow entries have been shown/] },
  {
    argv: 'conntrack',
    exit: 2,
    stderr: [/^conntrack v1\.4\.7 \(conntrack-tools\): no command specified\nTry `conntrack -h'/],
  },
  { argv: 'conntrack -L --sport 80', exit: 2, stderr: [/unknown option `--sport'/] },
  {
    argv: 'iptables -nvL',
    exit: 0,
    stdout: [/^Chain INPUT \(policy ACCEPT \d+ packets, \d+ bytes\)$/m],
  },
  {
    argv: 'iptables -t raw -L',
    exit: 1,
    stderr: [/^iptables v1\.8\.9 \(nf_tables\): table 'raw' does not exist\n$/],
  },
  {
    argv: 'iptables --bogus',
    exit: 2,
    stderr: [
      /^iptables v1\.8\.9 \(nf_tables\): unknown option "--bogus"\nTry `iptables -h' or 'iptables --help' for more information\.\n$/,
    ],
  },
  { argv: 'iptables -t nat', exit: 2, stderr: [/no command specified/] },
  {
    argv: 'iptables -t nat -L NO-SUCH-CHAIN',
    exit: 1,
    stderr: [/^iptables: No chain\/target\/match by that name/],
  },
  { argv: 'iptables -A INPUT -j DROP', exit: 2, stderr: [/read-only/] },
  {
    argv: 'iptables-save --bogus',
    exit: 1,
    stderr: [/^iptables-save: unrecognized option '--bogus'\nLook at manual page/],
  },
  { argv: 'nft flush ruleset', exit: 2, stderr: [/read-only/] },
  {
    argv: 'nft bogus',
    exit: 1,
    stderr: [/^Error: syntax error, unexpected string\nbogus\n\^\^\^\^\^\n$/],
  },
  { argv: 'ipvsadm --bogus', exit: 2, stderr: [/^--bogus: unknown option\n$/] },
  { argv: 'ipvsadm -Ln -t 10.1.2.3', exit: 2, stderr: [/Illegal virtual server address/] },
  {
    argv: 'ipset bogus',
    exit: 1,
    stderr: [/^ipset v7\.17: No command specified: unknown argument bogus\n/],
  },
  {
    argv: 'ipset list NO-SUCH-SET',
    exit: 1,
    stderr: [/^ipset v7\.17: The set with the given name does not exist\n$/],
  },
];

const BY_MODE: Record<ProxyMode, readonly Case[]> = {
  iptables: [
    {
      argv: 'iptables -t nat -nvL KUBE-SERVICES',
      stdout: [
        /^Chain KUBE-SERVICES \(2 references\)$/m,
        /KUBE-SVC-[A-Z2-7]{16} .* \/\* default\/myapp(:\S+)? cluster IP \*\/ tcp dpt:80$/m,
      ],
    },
    { argv: 'iptables -t nat -S KUBE-SERVICES', stdout: [/^-N KUBE-SERVICES\n-A KUBE-SERVICES /] },
    {
      argv: 'iptables -t nat -L KUBE-SERVICES -n --line-numbers',
      stdout: [/^num {2}target /m, /^1 {4}KUBE-SVC-/m],
    },
    { argv: 'iptables-save -t nat', stdout: [/^\*nat$/m, /^-A KUBE-SERVICES .*-j KUBE-SVC-/m] },
    { argv: 'iptables-save -c', stdout: [/^\[\d+:\d+\] -A /m] },
    { argv: 'ipvsadm -Ln', exactly: EMPTY_IPVS },
    { argv: 'ipvsadm -Ln -t 10.96.0.10:53', exit: 1, stderr: [/^No such service\n$/] },
    { argv: 'ipset list', exactly: '' },
    { argv: 'nft list ruleset', exactly: '' },
    {
      argv: 'nft list table ip kube-proxy',
      exit: 1,
      stderr: [/^Error: No such file or directory\nlist table ip kube-proxy\n {14}\^{10}\n$/],
    },
  ],
  ipvs: [
    {
      argv: 'ipvsadm -Ln',
      stdout: [/^TCP {2}10\.96\.0\.10:53 rr$/m, /^ {2}-> 10\.244\.\d+\.\d+:53 +Masq /m],
    },
    {
      argv: 'ipvsadm -Ln --stats',
      stdout: [/^Prot LocalAddress:Port +Conns +InPkts +OutPkts +InBytes +OutBytes$/m],
    },
    { argv: 'ipvsadm -Lnc', stdout: [/^IPVS connection entries\npro expire state /] },
    { argv: 'ipvsadm -Ln -u 10.96.0.10:53', stdout: [/^UDP {2}10\.96\.0\.10:53 rr$/m] },
    { argv: 'ipvsadm -Ln -t 10.9.9.9:80', exit: 1, stderr: [/^No such service\n$/] },
    {
      argv: 'iptables -t nat -nvL',
      stdout: [
        /^Chain KUBE-SERVICES \(2 references\)$/m,
        /^ +0 +0 KUBE-MARK-MASQ .*\/\* Kubernetes service cluster ip \+ port for masquerade purpose \*\/ match-set KUBE-CLUSTER-IP dst,dst$/m,
        /^ +0 +0 ACCEPT .* match-set KUBE-CLUSTER-IP dst,dst$/m,
        /^ +0 +0 KUBE-SERVICES .*\/\* kubernetes service portals \*\/$/m,
      ],
    },
    {
      argv: 'iptables-save -t nat',
      stdout: [
        /^-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m,
        /^-A KUBE-SERVICES (! -s \S+ )?-m comment --comment "Kubernetes service cluster ip \+ port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/m,
        /^-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ$/m,
      ],
    },
    {
      argv: 'iptables -S KUBE-IPVS-FILTER',
      stdout: [
        /^-N KUBE-IPVS-FILTER\n-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN$/m,
      ],
    },
    {
      argv: 'ipset list KUBE-CLUSTER-IP',
      stdout: [/^Name: KUBE-CLUSTER-IP\nType: hash:ip,port\n/, /^10\.96\.0\.10,udp:53$/m],
    },
    { argv: 'ipset list -n', stdout: [/^KUBE-CLUSTER-IP$/m, /^KUBE-LOOP-BACK$/m] },
    { argv: 'nft list ruleset', exactly: '' },
  ],
  nftables: [
    {
      argv: 'nft list ruleset',
      stdout: [/^table ip kube-proxy \{\n\tcomment "rules for kube-proxy"\n/],
    },
    { argv: 'nft list tables', exactly: 'table ip kube-proxy\n' },
    { argv: 'nft list table kube-proxy', stdout: [/^table ip kube-proxy \{/] },
    {
      argv: 'nft list chain ip kube-proxy services',
      stdout: [
        /^table ip kube-proxy \{\n\tchain services \{\n.*vmap @service-ips\n/s,
        /\t\}\n\}\n$/,
      ],
    },
    {
      argv: 'nft list chain ip kube-proxy nope',
      exit: 1,
      stderr: [/^Error: No such file or directory\nlist chain ip kube-proxy nope\n {25}\^{4}\n$/],
    },
    {
      argv: 'iptables -t nat -nvL',
      stdout: [
        /^Chain POSTROUTING \(policy ACCEPT 0 packets, 0 bytes\)\n pkts bytes target +prot opt in +out +source +destination +\n$/m,
      ],
    },
    { argv: 'iptables-save', exactly: '' },
    { argv: 'ipvsadm -Ln', exactly: EMPTY_IPVS },
    { argv: 'ipset list', exactly: '' },
  ],
  // kube-proxy v1.25 pkg/proxy/userspace/proxier.go: iptablesInit's jumps, and the args of
  // iptablesContainerPortalArgs (REDIRECT), iptablesHostPortalArgs (DNAT to the node IP)
  // and iptablesNonLocalNodePortArgs, in iptables-save's order (-d, -p, then the matches).
  userspace: [
    {
      argv: 'iptables-save -t nat',
      stdout: [
        /^-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER$/m,
        /^-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-HOST$/m,
        /^-A KUBE-PORTALS-CONTAINER -d 10\.96\.0\.10\/32 -p udp -m comment --comment "kube-system\/kube-dns:dns" -m udp --dport 53 -j REDIRECT --to-ports \d+$/m,
        /^-A KUBE-PORTALS-HOST -d 10\.96\.0\.10\/32 -p udp -m comment --comment "kube-system\/kube-dns:dns" -m udp --dport 53 -j DNAT --to-destination 10\.0\.100\.11:\d+$/m,
        /^-A KUBE-NODEPORT-CONTAINER -p tcp -m comment --comment "default\/myapp:http" -m tcp --dport \d+ -j REDIRECT --to-ports \d+$/m,
      ],
    },
    {
      argv: 'iptables-save -t filter',
      stdout: [
        /^-A INPUT -m comment --comment "Ensure that non-local NodePort traffic can flow" -j KUBE-NODEPORT-NON-LOCAL$/m,
        /^-A KUBE-NODEPORT-NON-LOCAL -p tcp -m comment --comment "default\/myapp:http" -m tcp --dport \d+ -m state --state NEW -j ACCEPT$/m,
      ],
    },
    {
      argv: 'iptables -t nat -nvL KUBE-PORTALS-CONTAINER',
      stdout: [
        /^Chain KUBE-PORTALS-CONTAINER \(1 references\)$/m,
        /^ +\d+ +\d+ REDIRECT +17 +-- +\* +\* +0\.0\.0\.0\/0 +10\.96\.0\.10 +\/\* kube-system\/kube-dns:dns \*\/ udp dpt:53 redir ports \d+$/m,
      ],
    },
    {
      argv: 'iptables -t nat -S KUBE-PORTALS-HOST',
      stdout: [/^-N KUBE-PORTALS-HOST\n-A KUBE-PORTALS-HOST -d /],
    },
    { argv: 'ipvsadm -Ln', exactly: EMPTY_IPVS },
    { argv: 'ipset list', exactly: '' },
    { argv: 'nft list ruleset', exactly: '' },
  ],
};

for (const mode of MODES) {
  for (const c of [...COMMON, ...BY_MODE[mode]]) {
    test(`${mode}: ${c.argv}`, async (t) => {
      const s = await session(mode);
      const r = await s.exec(c.argv, NODE);
      t.is(r.exitCode, c.exit ?? 0, r.stderr);
      if (c.exactly !== undefined) t.is(r.stdout, c.exactly);
      for (const re of c.stdout ?? []) t.regex(r.stdout, re);
      for (const re of c.stderr ?? []) t.regex(r.stderr, re);
    });
  }
}

const SAME: readonly string[][] = [
  ['iptables-save'],
  ['iptables-save', '-t', 'nat', '-c'],
  ['iptables', '-t', 'nat', '-nvL'],
  ['iptables', '-S'],
  ['nft', 'list', 'ruleset'],
  ['ipvsadm', '-Ln', '--stats'],
  ['ipvsadm', '-Lnc'],
  ['ipset', 'list'],
  ['conntrack', '-L'],
  ['conntrack', '-C'],
];

for (const mode of MODES) {
  test(`${mode}: the session, the capability, the lab and the API server print the same`, async (t) => {
    const s = await session(mode);
    const sim = s.net.nodes.get(NODE)!;
    const now = s.cluster.now() / 1e6;
    const api = new SimRuntime(s);
    for (const argv of SAME) {
      const direct = runNodeTool(sim, argv, now);
      const viaSession = await s.exec(argv.join(' '), NODE);
      t.deepEqual(
        { stdout: viaSession.stdout, stderr: viaSession.stderr, exitCode: viaSession.exitCode },
        direct,
        `session: ${argv.join(' ')}`,
      );
      t.deepEqual(labNodeTool(s.cluster, sim, argv), direct, `lab: ${argv.join(' ')}`);
      t.deepEqual(await api.nodeTool(NODE, argv), direct, `api: ${argv.join(' ')}`);
    }
    // `svclab lab show` names its views; each is one of the tool command lines above.
    t.deepEqual(
      renderShow(s.cluster, sim, { what: 'iptables' }),
      runNodeTool(sim, ['iptables', '-t', 'nat', '-nvL'], now),
    );
    t.deepEqual(
      renderShow(s.cluster, sim, { what: 'ipvs' }),
      runNodeTool(sim, ['ipvsadm', '-Ln'], now),
    );
    t.deepEqual(
      renderShow(s.cluster, sim, { what: 'nft' }),
      runNodeTool(sim, ['nft', 'list', 'ruleset'], now),
    );
  });
}

const F = ['-f', `${SEED}/svc-deployment.yaml`, '-f', `${SEED}/nodeport.yaml`];
for (const mode of MODES) {
  test(`${mode}: the CLI prints what the capability prints for the same node`, (t) => {
    const { cluster, sim } = nodeView({
      filename: F.filter((_, i) => i % 2 === 1),
      node: NODE,
      proxyMode: mode,
      seed: 1,
    });
    for (const argv of [
      ['iptables-save'],
      ['iptables', '-t', 'nat', '-nvL'],
      ['ipvsadm', '-Ln'],
      ['nft', 'list', 'ruleset'],
      ['ipset', 'list'],
    ]) {
      const want = runNodeTool(sim, argv, cluster.now() / 1e6);
      const r = spawnSync(
        'node',
        ['bin/svclab.js', ...argv, ...F, '--node', NODE, '--proxy-mode', mode],
        { encoding: 'utf8' },
      );
      t.is(r.stdout, want.stdout, `${argv.join(' ')}: ${r.stderr}`);
      t.is(r.status, want.exitCode);
    }
  });
}

test('the grammar: requests from argv, the real tools’ complaints otherwise', (t) => {
  t.deepEqual(parseToolArgv(['iptables', '-t', 'nat', '-nvL']), {
    tool: 'iptables',
    op: 'list',
    table: 'nat',
    numeric: true,
    verbose: true,
    exact: false,
    lineNumbers: false,
  });
  t.like(parseToolArgv(['iptables', '--table=nat', '-L', 'KUBE-SERVICES', '-x']), {
    op: 'list',
    chain: 'KUBE-SERVICES',
    exact: true,
  });
  const both = parseToolArgv(['iptables', '-S', 'KUBE-SERVICES', '-L']);
  t.false('tool' in both);
  t.regex((both as { stderr: string }).stderr, /Cannot use -L with -S/);
  t.deepEqual(parseToolArgv(['ipvsadm', '-Ln', '--stats']), {
    tool: 'ipvsadm',
    connections: false,
    stats: true,
    rate: false,
    thresholds: false,
    persistentConn: false,
    exact: false,
    nosort: false,
  });
  t.like(parseToolArgv(['ipvsadm', '-lnc']), { tool: 'ipvsadm', connections: true });
  t.like(parseToolArgv(['ipvsadm']), { tool: 'ipvsadm' });
  t.deepEqual(parseToolArgv(['nft', 'list', 'ruleset']), {
    tool: 'nft',
    what: 'ruleset',
    line: 'list ruleset',
  });
  t.like(parseToolArgv(['nft', 'list chain inet t c']), {
    what: 'chain',
    family: 'inet',
    table: 't',
    name: 'c',
  });
  t.like(parseToolArgv(['conntrack', '-L', '-p', 'tcp', '--dport', '80', '-d', '10.96.0.1']), {
    tool: 'conntrack',
    op: 'list',
    filter: { proto: 6, origDport: 80, origDst: 0x0a600001 },
  });
  t.like(parseToolArgv(['conntrack', '-C']), { op: 'count' });
  t.like(parseToolArgv(['ipset', 'list', 'KUBE-CLUSTER-IP']), { name: 'KUBE-CLUSTER-IP' });
  t.like(parseToolArgv(['ip', 'route']), { exitCode: 127 });
});
