// userspace mode's portal rules and its classify(), checked against what kube-proxy's
// pkg/proxy/userspace/proxier.go (v1.25) writes: iptablesInit's jumps, openOnePortal's rules
// per cluster IP, external IP and load-balancer IP (iptablesContainerPortalArgs: REDIRECT
// --to-ports; iptablesHostPortalArgs: DNAT --to-destination hostIP:proxyPort), and
// openNodePort's (KUBE-NODEPORT-CONTAINER/HOST, KUBE-NODEPORT-NON-LOCAL with -m state).
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADDR_DST_LOCAL,
  CtState,
  Hook,
  TABLE_FILTER,
  TABLE_NAT,
  Verdict,
  newPacketMeta,
} from '../../../src/proxy/hooks.ts';
import { ipToU32, u32ToIp } from '../../../src/packet/addr.ts';
import { newProxier } from '../../../src/proxy/modes.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import type { UserspaceProxier } from '../../../src/proxy/userspace/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

function fed(): UserspaceProxier {
  const px = newProxier(
    'userspace',
    { nodeName: 'node-a', nodeIPs: ['10.0.100.11'], clusterCIDR: '10.244.0.0/16' },
    { random: seededRandom(1), nowNs: () => 0 },
  ) as UserspaceProxier;
  px.onServiceAdd(
    makeService(
      'ns1',
      'web',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.100',
        externalIPs: ['192.168.99.11'],
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
  );
  px.onEndpointSliceAdd(
    makeSlice('ns1', 'web', 'web-1', [ep('10.244.1.10'), ep('10.244.2.10')], [tcp('http', 8080)]),
  );
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

function save(px: UserspaceProxier, table: 'nat' | 'filter'): string[] {
  return px
    .views()
    .iptablesSave({ tool: 'iptables-save', table, counters: false })
    .split('\n')
    .filter((l) => l.startsWith('-A '));
}

test('the rules of one service port, as iptables-save prints kube-proxy’s args', (t) => {
  const px = fed();
  const [port] = px.ports();
  t.truthy(port);
  const p = port!.proxyPort;
  t.true(p >= 32768 && p <= 60999, String(p));
  const c = '-p tcp -m comment --comment "ns1/web:http" -m tcp';
  t.deepEqual(save(px, 'nat'), [
    '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER',
    '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-CONTAINER',
    '-A OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST',
    '-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-HOST',
    `-A KUBE-NODEPORT-CONTAINER ${c} --dport 30080 -j REDIRECT --to-ports ${p}`,
    `-A KUBE-NODEPORT-HOST ${c} --dport 30080 -j DNAT --to-destination 10.0.100.11:${p}`,
    `-A KUBE-PORTALS-CONTAINER -d 10.96.0.100/32 ${c} --dport 80 -j REDIRECT --to-ports ${p}`,
    // An external IP: from containers not bridged in, or to a local address (isExternal).
    `-A KUBE-PORTALS-CONTAINER -d 192.168.99.11/32 ${c} --dport 80 -m physdev ! --physdev-is-in -j REDIRECT --to-ports ${p}`,
    `-A KUBE-PORTALS-CONTAINER -d 192.168.99.11/32 ${c} --dport 80 -m addrtype --dst-type LOCAL -j REDIRECT --to-ports ${p}`,
    `-A KUBE-PORTALS-CONTAINER -d 1.2.3.4/32 ${c} --dport 80 -j REDIRECT --to-ports ${p}`,
    `-A KUBE-PORTALS-HOST -d 10.96.0.100/32 ${c} --dport 80 -j DNAT --to-destination 10.0.100.11:${p}`,
    `-A KUBE-PORTALS-HOST -d 192.168.99.11/32 ${c} --dport 80 -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.0.100.11:${p}`,
    `-A KUBE-PORTALS-HOST -d 1.2.3.4/32 ${c} --dport 80 -j DNAT --to-destination 10.0.100.11:${p}`,
  ]);
  t.deepEqual(save(px, 'filter'), [
    '-A INPUT -m comment --comment "Ensure that non-local NodePort traffic can flow" -j KUBE-NODEPORT-NON-LOCAL',
    `-A KUBE-NODEPORT-NON-LOCAL ${c} --dport ${p} -m state --state NEW -j ACCEPT`,
  ]);
});

function first(
  px: UserspaceProxier,
  hook: Hook,
  src: string,
  dst: string,
  dport: number,
  inIface: string,
) {
  const m = newPacketMeta({
    src: ipToU32(src),
    dst: ipToU32(dst),
    sport: 40000,
    dport,
    ctstate: CtState.NEW,
    addrFlags: px.isLocalAddress(ipToU32(dst)) ? ADDR_DST_LOCAL : 0,
    len: 60,
    inIface,
  });
  const r = px.classify(m, hook, TABLE_NAT);
  return r.dnat ? `${u32ToIp(r.dnatIp)}:${r.dnatPort}` : 'none';
}

test('REDIRECT from pods goes to the incoming interface’s address; DNAT from the host to the node IP', (t) => {
  const px = fed();
  const p = px.ports()[0]!.proxyPort;
  px.interfaceAddress = (name) => (name === 'veth0' ? ipToU32('10.244.1.1') : undefined);
  t.is(first(px, Hook.Prerouting, '10.244.1.5', '10.96.0.100', 80, 'veth0'), `10.244.1.1:${p}`);
  t.is(first(px, Hook.Output, '10.0.100.11', '10.96.0.100', 80, ''), `10.0.100.11:${p}`);
  // A NodePort: only for local destinations (addrtype LOCAL), from outside or the host.
  px.interfaceAddress = (name) => (name === 'eth0' ? ipToU32('10.0.100.11') : undefined);
  t.is(
    first(px, Hook.Prerouting, '192.168.1.100', '10.0.100.11', 30080, 'eth0'),
    `10.0.100.11:${p}`,
  );
  t.is(first(px, Hook.Output, '10.0.100.11', '10.0.100.11', 30080, ''), `10.0.100.11:${p}`);
  t.is(first(px, Hook.Prerouting, '192.168.1.100', '10.0.100.99', 30080, 'eth0'), 'none');
  t.is(first(px, Hook.Prerouting, '10.244.1.5', '10.96.0.100', 81, 'veth0'), 'none');
  // Load-balancer IP and external IP (not bridged in) from a pod.
  t.not(first(px, Hook.Prerouting, '10.244.1.5', '1.2.3.4', 80, 'eth0'), 'none');
  t.not(first(px, Hook.Prerouting, '10.244.1.5', '192.168.99.11', 80, 'eth0'), 'none');
});

test('KUBE-NODEPORT-NON-LOCAL accepts new connections to the proxy port, and -nvL counts', (t) => {
  const px = fed();
  const p = px.ports()[0]!.proxyPort;
  const m = newPacketMeta({ dst: ipToU32('10.0.100.11'), dport: p, ctstate: CtState.NEW, len: 60 });
  t.is(px.classify(m, Hook.Input, TABLE_FILTER).verdict, Verdict.Accept);
  first(px, Hook.Prerouting, '10.244.1.5', '10.96.0.100', 80, 'veth0');
  const list = px.views().iptablesList({
    tool: 'iptables',
    op: 'list',
    table: 'nat',
    chain: 'KUBE-PORTALS-CONTAINER',
    numeric: true,
    verbose: true,
    exact: false,
    lineNumbers: false,
  });
  t.regex(
    list,
    new RegExp(
      `^ +1 +60 REDIRECT +6 +-- +\\* +\\* +0\\.0\\.0\\.0/0 +10\\.96\\.0\\.100 +/\\* ns1/web:http \\*/ tcp dpt:80 redir ports ${p}$`,
      'm',
    ),
  );
  const filter = px.views().iptablesList({
    tool: 'iptables',
    op: 'list',
    table: 'filter',
    chain: 'KUBE-NODEPORT-NON-LOCAL',
    numeric: true,
    verbose: false,
    exact: false,
    lineNumbers: false,
  });
  t.regex(
    filter,
    new RegExp(
      `^ACCEPT +6 +-- +0\\.0\\.0\\.0/0 +0\\.0\\.0\\.0/0 +/\\* ns1/web:http \\*/ tcp dpt:${p} state NEW$`,
      'm',
    ),
  );
});

test('a sync keeps a service port’s proxy port while only endpoints change, and reopens it when the port changes', (t) => {
  const px = fed();
  const before = px.ports()[0]!.proxyPort;
  px.onEndpointSliceUpdate(
    makeSlice('ns1', 'web', 'web-1', [ep('10.244.1.10')], [tcp('http', 8080)]),
    makeSlice('ns1', 'web', 'web-1', [ep('10.244.1.11')], [tcp('http', 8080)]),
  );
  px.sync();
  t.is(px.ports()[0]!.proxyPort, before);
  t.is(px.nextEndpoint(before, 1, false)?.endpoint, '10.244.1.11:8080');
  let changed = 0;
  px.onPortsChanged = () => changed++;
  const svc = makeService('ns1', 'web', {
    clusterIP: '10.96.0.100',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 }],
  });
  px.onServiceUpdate(svc, svc);
  px.sync();
  t.is(changed, 1);
  t.not(px.ports()[0]!.proxyPort, before);
  t.is(px.nextEndpoint(before, 1, false), undefined);
});

const canLoad =
  process.getuid?.() === 0 &&
  spawnSync('iptables-restore', ['--version']).status === 0 &&
  spawnSync('unshare', ['-n', 'true']).status === 0;

(canLoad ? test : test.skip)(
  'interop: the real iptables-restore loads the rules, and the real iptables-save and -nvL print what svclab prints (needs root, iptables)',
  (t) => {
    const px = fed();
    const v = px.views();
    const saved = v.iptablesSave({ tool: 'iptables-save', counters: false });
    const list = (table: 'nat' | 'filter') =>
      v.iptablesList({
        tool: 'iptables',
        op: 'list',
        table,
        numeric: true,
        verbose: true,
        exact: false,
        lineNumbers: false,
      });
    const dir = mkdtempSync(join(tmpdir(), 'svclab-userspace-'));
    try {
      writeFileSync(join(dir, 'rules'), saved);
      const run = (cmd: string) =>
        execFileSync(
          'unshare',
          ['-n', 'sh', '-c', `set -e; iptables-restore < ${dir}/rules; ${cmd}`],
          {
            encoding: 'utf8',
          },
        );
      const rules = (s: string) =>
        s.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':'));
      t.deepEqual(rules(run('iptables-save')), rules(saved));
      t.is(run('iptables -t nat -nvL'), list('nat'));
      t.is(run('iptables -t filter -nvL'), list('filter'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
