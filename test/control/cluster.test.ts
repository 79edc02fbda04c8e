import test from 'ava';
import { cidrContains, ipToU32, parseCidr } from '../../src/packet/addr.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { resolveConfig } from '../../src/control/cluster-config.ts';
import { SECOND } from '../../src/control/clock.ts';
import { myapp } from './fixtures.ts';

const inCidr = (cidr: string, ip: string | undefined): boolean =>
  ip !== undefined && cidrContains(parseCidr(cidr), ipToU32(ip));

test('default nodes: kubeadm master + two workers with /24 pod CIDRs in order', (t) => {
  const c = new Cluster();
  const nodes = c
    .list('Node')
    .map((n) => [
      n.metadata.name,
      n.status.addresses.find((a) => a.type === 'InternalIP')?.address,
      n.spec.podCIDR,
      (n.spec.taints ?? []).map((x) => `${x.key}:${x.effect}`).join(','),
    ]);
  t.deepEqual(nodes, [
    [
      'k8s-master01',
      '10.0.100.10',
      '10.244.0.0/24',
      'node-role.kubernetes.io/control-plane:NoSchedule',
    ],
    ['k8s-node01', '10.0.100.11', '10.244.1.0/24', ''],
    ['k8s-node02', '10.0.100.12', '10.244.2.0/24', ''],
  ]);
  t.deepEqual(
    c.list('Namespace').map((n) => n.metadata.name),
    ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
  );
});

test('default/kubernetes is 10.96.0.1:443 backed by the master at 10.0.100.10:6443', (t) => {
  const c = new Cluster();
  const svc = c.get('Service', 'default', 'kubernetes')!;
  t.is(svc.spec.clusterIP, '10.96.0.1');
  t.deepEqual(svc.spec.ports, [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }]);
  t.is(svc.spec.selector, undefined);
  const slice = c.get('EndpointSlice', 'default', 'kubernetes')!;
  t.deepEqual(
    slice.endpoints.map((e) => e.addresses[0]),
    ['10.0.100.10'],
  );
  t.deepEqual(slice.ports, [{ name: 'https', port: 6443, protocol: 'TCP' }]);
  const ep = c.get('Endpoints', 'default', 'kubernetes')!;
  t.deepEqual(ep.subsets[0]!.addresses, [{ ip: '10.0.100.10' }]);
  // The API server's own Endpoints are not mirrored into a second slice.
  t.is(c.list('EndpointSlice', 'default').length, 1);
});

test('kube-dns is 10.96.0.10 with dns/dns-tcp/metrics, served by 2 ready CoreDNS pods on the master', (t) => {
  const c = new Cluster();
  const dns = c.get('Service', 'kube-system', 'kube-dns')!;
  t.is(dns.spec.clusterIP, '10.96.0.10');
  t.deepEqual(
    dns.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`),
    ['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP'],
  );
  const d = c.get('Deployment', 'kube-system', 'coredns')!;
  t.is(d.spec.replicas, 2);
  t.is(d.status?.readyReplicas, 2);
  const pods = c
    .list('Pod', 'kube-system')
    .filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-dns');
  t.is(pods.length, 2);
  for (const p of pods) {
    t.regex(p.metadata.name, /^coredns-[456789bcdf]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.is(p.spec.nodeName, 'k8s-master01');
    t.true(inCidr('10.244.0.0/24', p.status.podIP), p.status.podIP);
  }
  const slice = c.list('EndpointSlice', 'kube-system')[0]!;
  t.is(slice.endpoints.filter((e) => e.conditions.ready).length, 2);
  t.deepEqual(
    slice.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`),
    ['dns:53/UDP', 'dns-tcp:53/TCP', 'metrics:9153/TCP'],
  );
});

test('system pods run on the host network with node addresses', (t) => {
  const c = new Cluster();
  const sys = c.list('Pod', 'kube-system').filter((p) => p.spec.hostNetwork);
  t.deepEqual(
    sys.filter((p) => p.metadata.labels?.['component'] !== undefined).map((p) => p.metadata.name),
    [
      'etcd-k8s-master01',
      'kube-apiserver-k8s-master01',
      'kube-controller-manager-k8s-master01',
      'kube-scheduler-k8s-master01',
    ],
  );
  const proxies = sys.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy');
  t.deepEqual(proxies.map((p) => p.status.podIP).sort(), [
    '10.0.100.10',
    '10.0.100.11',
    '10.0.100.12',
  ]);
  t.is(new Cluster({ systemPods: false }).list('Pod', 'kube-system').length, 2);
});

test('configuration is honoured: nodes, CIDRs, untainted control plane', (t) => {
  const c = new Cluster({
    nodes: [
      { name: 'cp', ip: '192.168.0.10', controlPlane: true },
      { name: 'w1', ip: '192.168.0.11' },
    ],
    podCIDR: '10.10.0.0/16',
    serviceCIDR: '10.20.0.0/16',
    dnsServiceIP: '10.20.0.53',
    taintControlPlane: false,
    systemPods: false,
  });
  t.deepEqual(
    c.list('Node').map((n) => n.spec.podCIDR),
    ['10.10.0.0/24', '10.10.1.0/24'],
  );
  t.is(c.get('Service', 'default', 'kubernetes')!.spec.clusterIP, '10.20.0.1');
  t.is(c.get('Service', 'kube-system', 'kube-dns')!.spec.clusterIP, '10.20.0.53');
  c.apply(myapp());
  c.advance(5 * SECOND);
  const nodes = c
    .list('Pod', 'default')
    .map((p) => p.spec.nodeName)
    .sort();
  // With no taint the scheduler spreads over all nodes (fewest pods first).
  t.true(nodes.includes('cp'), nodes.join(','));
});

test('bad configuration is rejected with a readable error', (t) => {
  t.throws(() => resolveConfig({ dnsServiceIP: '10.0.0.10' }), { message: /not in serviceCIDR/ });
  t.throws(() => resolveConfig({ nodes: [] }), { message: /at least one node/ });
  t.throws(() => resolveConfig({ nodes: [{ name: 'a', ip: 'x' }] }), { message: /bad IP/ });
  t.throws(() => new Cluster({ nodeCIDRMaskSize: 16 }), { message: /no room/ });
});

test('determinism: the same seed gives byte-identical objects, another seed differs', (t) => {
  const run = (seed: number): string => {
    const c = new Cluster({ seed });
    c.apply(myapp());
    c.advance(3 * SECOND);
    const victim = c.list('Pod', 'default')[0]!;
    c.delete('Pod', 'default', victim.metadata.name);
    c.scale('default', 'myapp-deploy', 5);
    c.advance(40 * SECOND);
    return JSON.stringify(c.dump());
  };
  const a = run(7);
  t.is(run(7), a);
  t.not(run(8), a);
});
