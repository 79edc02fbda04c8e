// kube-proxy as configured: the kube-proxy ConfigMap (kubeadm's config.conf), each node's
// kube-proxy reading it when its pod starts, restarting in a new mode when the pod is
// deleted, the IPVS fallback by version, and the stale UDP conntrack cleanup.
import test from 'ava';
import { Cluster } from '../../src/control/cluster.ts';
import { SECOND } from '../../src/control/clock.ts';
import {
  KUBE_PROXY_CONFIG_KEY,
  parseKubeProxyConfiguration,
  renderKubeProxyConfiguration,
} from '../../src/control/kube-proxy-config.ts';
import { setUpNode } from '../../src/control/node-setup.ts';
import { udpServiceEndpoints, cleanStaleUdpEntries } from '../../src/control/stale-udp.ts';
import { Conntrack } from '../../src/conntrack/conntrack.ts';
import { IPPROTO_UDP } from '../../src/conntrack/constants.ts';
import { ipToU32 } from '../../src/packet/addr.ts';
import { runNodeTool } from '../../src/proxy/node-tool.ts';
import type { EndpointSlice, Service } from '../../src/api/types.ts';

function configText(c: Cluster): string {
  return c.get('ConfigMap', 'kube-system', 'kube-proxy')!.data[KUBE_PROXY_CONFIG_KEY]!;
}

test("kubeadm's kube-proxy ConfigMap: blank mode, the pod network as clusterCIDR", (t) => {
  const c = new Cluster();
  const text = configText(c);
  t.regex(text, /^mode: ""$/m);
  t.regex(text, /^clusterCIDR: 10\.244\.0\.0\/16$/m);
  t.regex(text, /^kind: KubeProxyConfiguration$/m);
  const parsed = parseKubeProxyConfiguration(text);
  t.deepEqual(parsed, {
    ok: true,
    settings: { mode: '', ipvsScheduler: '', clusterCIDR: '10.244.0.0/16' },
  });
});

test('config.conf round trip, and the errors kube-proxy exits with', (t) => {
  const text = renderKubeProxyConfiguration({
    mode: 'ipvs',
    ipvsScheduler: 'sh',
    masqueradeAll: true,
    clusterCIDR: '10.0.0.0/8',
    nodePortAddresses: ['10.0.100.0/24'],
  });
  t.deepEqual(parseKubeProxyConfiguration(text), {
    ok: true,
    settings: {
      mode: 'ipvs',
      ipvsScheduler: 'sh',
      masqueradeAll: true,
      clusterCIDR: '10.0.0.0/8',
      nodePortAddresses: ['10.0.100.0/24'],
    },
  });
  const bad = (t2: string) => {
    const r = parseKubeProxyConfiguration(t2);
    return r.ok ? '' : r.error;
  };
  t.regex(bad(`${text}modee: ipvs\n`), /strict decoding error: unknown field "modee"/);
  t.regex(bad(text.replace('mode: ipvs', 'mode: ipvss')), /Mode: Invalid value: "ipvss"/);
  t.regex(bad(text.replace('scheduler: sh', 'scheduler: fast')), /Scheduler: Invalid value/);
  t.regex(bad('kind: KubeProxyConfiguration\nmode: [\n'), /yaml: line \d+/);
});

test('setUpNode writes the flags into the ConfigMap; kube-proxy logs the mode it runs', (t) => {
  const c = new Cluster();
  const n = setUpNode(c, 'k8s-node01', { mode: 'ipvs', ipvsScheduler: 'lc' });
  t.regex(configText(c), /^mode: ipvs$/m);
  t.regex(configText(c), /^ {2}scheduler: lc$/m);
  t.is(n.kubeProxy.mode, 'ipvs');
  const pod = c
    .list('Pod', 'kube-system')
    .find(
      (p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && p.spec.nodeName === 'k8s-node01',
    )!;
  const log = n.kubeProxy.podLog(pod.metadata.name)!.join('\n');
  t.regex(log, /^I\d{4} \d\d:\d\d:\d\d\.\d{6} {7}1 server_linux\.go:\d+\] "Using ipvs Proxier"$/m);
  t.regex(
    log,
    new RegExp(`"Version info" version="${c.config.kubernetesVersion.replace(/\./g, '\\.')}"`),
  );
  // From v1.35 ipvs mode is deprecated: an error line, and a Warning event on the Node.
  t.regex(
    log,
    /^E\d{4} .*\] "The ipvs proxier is now deprecated and may be removed in a future release\. Please use 'nftables' instead\."$/m,
  );
  const ev = c.list('Event', 'default').filter((e) => e.reason === 'IPVSDeprecation');
  t.deepEqual(
    ev.map((e) => [e.involvedObject.kind, e.involvedObject.name, e.type]),
    [['Node', 'k8s-node01', 'Warning']],
  );
});

test('ipvs mode before v1.35 is not deprecated: no error line, no event', (t) => {
  const c = new Cluster({ kubernetesVersion: 'v1.34.2' });
  const n = setUpNode(c, 'k8s-node01', { mode: 'ipvs' });
  const pod = c
    .list('Pod', 'kube-system')
    .find((p) => p.metadata.name.startsWith('kube-proxy-') && p.spec.nodeName === 'k8s-node01')!;
  const log = n.kubeProxy.podLog(pod.metadata.name)!.join('\n');
  t.regex(log, /"Using ipvs Proxier"$/m);
  t.notRegex(log, /deprecated/);
  t.is(c.list('Event', 'default').filter((e) => e.reason === 'IPVSDeprecation').length, 0);
});

test('edit the ConfigMap, delete the kube-proxy pod: the DaemonSet replaces it and kube-proxy restarts in the new mode', (t) => {
  const c = new Cluster();
  const n = setUpNode(c, 'k8s-node01', {});
  t.is(n.kubeProxy.mode, 'iptables');
  const before = n.proxier;
  const cm = c.get('ConfigMap', 'kube-system', 'kube-proxy')!;
  c.store.update({
    ...cm,
    data: {
      ...cm.data,
      [KUBE_PROXY_CONFIG_KEY]: configText(c).replace('mode: ""', 'mode: nftables'),
    },
  });
  // Only a restart reads the file.
  c.advance(5 * SECOND);
  t.is(n.proxier, before);
  const old = c
    .list('Pod', 'kube-system')
    .find(
      (p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && p.spec.nodeName === 'k8s-node01',
    )!;
  c.delete('Pod', 'kube-system', old.metadata.name);
  c.advance(5 * SECOND);
  const pods = c
    .list('Pod', 'kube-system')
    .filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy');
  t.is(pods.length, 3, 'one kube-proxy pod per node again');
  const fresh = pods.find((p) => p.spec.nodeName === 'k8s-node01')!;
  t.not(fresh.metadata.name, old.metadata.name);
  t.is(fresh.status.phase, 'Running');
  t.is(n.kubeProxy.mode, 'nftables');
  t.not(n.proxier, before);
  t.is(n.dataplane.proxier, n.proxier);
  t.regex(n.kubeProxy.podLog(fresh.metadata.name)!.join('\n'), /"Using nftables Proxier"/);
  t.is(n.kubeProxy.podLog(old.metadata.name), undefined, "the old pod's log went with it");
  // The new proxier is fed: the kubernetes Service is in its rules.
  t.regex(runNodeTool(n, ['nft', 'list', 'ruleset'], 0).stdout, /10\.96\.0\.1 /);
});

test('a node without the IPVS modules: fallback to iptables before v1.26, an error exit after', (t) => {
  const nodes = [
    { name: 'k8s-master01', ip: '10.0.100.10', controlPlane: true },
    { name: 'k8s-node01', ip: '10.0.100.11', ipvsModules: false },
  ];
  const old = new Cluster({ kubernetesVersion: 'v1.25.16', nodes });
  const a = setUpNode(old, 'k8s-node01', { mode: 'ipvs' });
  t.is(a.kubeProxy.mode, 'iptables');
  const podA = old
    .list('Pod', 'kube-system')
    .find((p) => p.metadata.name.startsWith('kube-proxy') && p.spec.nodeName === 'k8s-node01')!;
  const logA = a.kubeProxy.podLog(podA.metadata.name)!.join('\n');
  t.regex(logA, /^W.* "Can't use the IPVS proxier" err="IPVS proxier will not be used/m);
  t.regex(logA, /server_others\.go:\d+\] "Using iptables Proxier"/);
  t.is(setUpNode(old, 'k8s-master01', { mode: 'ipvs' }).kubeProxy.mode, 'ipvs');

  const cur = new Cluster({ nodes });
  const b = setUpNode(cur, 'k8s-node01', { mode: 'ipvs' });
  const podB = cur
    .list('Pod', 'kube-system')
    .find((p) => p.metadata.name.startsWith('kube-proxy') && p.spec.nodeName === 'k8s-node01')!;
  const logB = b.kubeProxy.podLog(podB.metadata.name)!.join('\n');
  t.regex(
    logB,
    /^E.* "command failed" err="can't use the IPVS proxier: Ipvs not supported by the kernel"$/m,
  );
  t.notRegex(logB, /Using .* Proxier/);
  // Nothing syncs: a Service created now never reaches the node's rules.
  cur.apply([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'late', namespace: 'default' },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' } },
    } as unknown as Service,
  ]);
  cur.advance(5 * SECOND);
  t.notRegex(runNodeTool(b, ['iptables-save'], 0).stdout, /default\/late/);
  t.regex(runNodeTool(a, ['iptables-save'], 0).stdout, /default\/kubernetes/);
});

const udpService: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'dns', namespace: 'kube-system' },
  spec: {
    type: 'NodePort',
    clusterIP: '10.96.0.10',
    ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
  },
} as unknown as Service;

const slice = (ips: string[]): EndpointSlice =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'dns-abc',
      namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'dns' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  }) as unknown as EndpointSlice;

test("stale UDP entries: kube-proxy's CleanStaleEntries filters (orig dst, orig dport, reply src)", (t) => {
  const m = udpServiceEndpoints([udpService], [slice(['10.244.1.5'])]);
  t.deepEqual([...m.byIP.keys()], [ipToU32('10.96.0.10')]);
  t.deepEqual([...m.byNodePort.keys()], [30053]);

  const ct = new Conntrack({ max: 64 });
  const add = (src: string, dst: string, dport: number, replySrc: string, sport = 40000) => {
    const e = ct.insert(
      IPPROTO_UDP,
      ipToU32(src),
      ipToU32(dst),
      sport,
      dport,
      ipToU32(replySrc),
      ipToU32(src),
      53,
      sport,
      0,
    );
    ct.udpPacket(e * 2, 0, 60);
  };
  add('10.0.100.11', '10.96.0.10', 53, '10.244.1.5', 1); // to the serving endpoint: kept
  add('10.0.100.11', '10.96.0.10', 53, '10.244.2.9', 2); // to a gone endpoint: deleted
  add('10.0.100.11', '10.96.0.10', 53, '10.96.0.10', 3); // not DNATed (no endpoint then): deleted
  add('192.168.1.100', '10.0.100.11', 30053, '10.244.2.9', 4); // NodePort to a gone endpoint
  add('10.0.100.11', '10.96.0.99', 53, '10.244.2.9', 5); // another IP: not a UDP service
  const n = cleanStaleUdpEntries(ct, 0, [udpService], [slice(['10.244.1.5'])]);
  t.is(n, 3);
  t.deepEqual(
    ct
      .list(0)
      .map((e) => e.orig.sport)
      .sort(),
    [1, 5],
  );
});

test('a mode the world cannot run (userspace in the lab): kube-proxy exits with a one-line error', (t) => {
  const c = new Cluster();
  const n = setUpNode(c, 'k8s-node01', { mode: 'userspace', unavailableModes: ['userspace'] });
  const pod = c
    .list('Pod', 'kube-system')
    .find(
      (p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && p.spec.nodeName === 'k8s-node01',
    )!;
  t.regex(
    n.kubeProxy.podLog(pod.metadata.name)!.join('\n'),
    /^E.* "command failed" err="svclab: userspace mode is not available here/m,
  );
  t.notRegex(runNodeTool(n, ['iptables-save'], 0).stdout, /KUBE-PORTALS/);
});

test('a Service of another loadBalancerClass keeps the ingress IPs its owner writes, every one of them on the node', (t) => {
  const c = new Cluster();
  const n = setUpNode(c, 'k8s-node01', { mode: 'iptables' });
  const [r] = c.apply([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb2', namespace: 'default' },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: 'example.com/cloud',
        selector: { app: 'x' },
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    } as unknown as Service,
  ]);
  t.is(r?.error, undefined);
  const svc = c.get('Service', 'default', 'lb2')!;
  t.deepEqual(svc.status?.loadBalancer.ingress ?? [], [], 'svclab’s allocator leaves it alone');
  // The owner (a cloud controller) writes two addresses into the status.
  c.store.update({
    ...svc,
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { ip: '203.0.113.11' }] } },
  });
  c.advance(2 * SECOND);
  t.deepEqual(
    c.get('Service', 'default', 'lb2')!.status?.loadBalancer.ingress?.map((i) => i.ip),
    ['203.0.113.10', '203.0.113.11'],
  );
  // No endpoints: kube-proxy REJECTs at each LoadBalancer IP (filter KUBE-EXTERNAL-SERVICES).
  const save = runNodeTool(n, ['iptables-save'], 0).stdout;
  t.regex(save, /-d 203\.0\.113\.10\/32 .*"default\/lb2:http has no endpoints".* -j REJECT/);
  t.regex(save, /-d 203\.0\.113\.11\/32 .*"default\/lb2:http has no endpoints".* -j REJECT/);
});

test("kube-proxy's log lines are dated when read, by the cluster's wall clock (a live cluster's)", (t) => {
  const c = new Cluster();
  const n = setUpNode(c, 'k8s-node01', {});
  const pod = c
    .list('Pod', 'kube-system')
    .find((p) => p.metadata.name.startsWith('kube-proxy-') && p.spec.nodeName === 'k8s-node01')!;
  t.regex(n.kubeProxy.podLog(pod.metadata.name)![0]!, /^I0726 /, "the seed's epoch in simulation");
  // What serve's and the lab's runtimes do once the cluster follows the wall clock.
  c.epochMs = Date.UTC(2026, 11, 7, 1, 2, 3) - Math.floor(c.now() / 1e6);
  t.regex(n.kubeProxy.podLog(pod.metadata.name)!.at(-1)!, /^I1207 01:02:0[0-3]\.\d{6} {7}1 /);
});
