// One release per cluster: what the nodes report, the images kubeadm pulls, the dig on the
// node and the API group versions served all follow cluster.kubernetesVersion.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseManifestText } from '../../src/api/load.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { eraOf } from '../../src/control/era.ts';
import { loadScenario } from '../../src/scenario/format.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { scenarioVersion } from '../../src/cli/lab.ts';
import { setUpNode } from '../../src/control/node-setup.ts';
import { runNodeTool } from '../../src/proxy/node-tool.ts';
import { renderGet } from '../../src/control/kubectl-get.ts';

test('a v1.15 cluster is the seed era: CentOS 7, Docker, k8s.gcr.io images', (t) => {
  const c = new Cluster({ kubernetesVersion: 'v1.15.1' });
  const info = c.get('Node', undefined, 'k8s-node01')!.status!.nodeInfo!;
  t.deepEqual(info, {
    kubeletVersion: 'v1.15.1',
    osImage: 'CentOS Linux 7 (Core)',
    kernelVersion: '4.4.248-1.el7.elrepo.x86_64',
    containerRuntimeVersion: 'docker://19.3.15',
  });
  const images = c.list('Pod', 'kube-system').map((p) => p.spec.containers[0]!.image);
  t.true(images.includes('k8s.gcr.io/coredns:1.3.1'));
  t.true(images.includes('k8s.gcr.io/etcd:3.3.10'));
  t.true(images.includes('k8s.gcr.io/kube-proxy:v1.15.1'));
  t.false(
    images.some((i) => i.startsWith('registry.k8s.io/')),
    images.join(' '),
  );
});

test('a current cluster: Debian 12, containerd, registry.k8s.io', (t) => {
  const c = new Cluster();
  const info = c.get('Node', undefined, 'k8s-master01')!.status!.nodeInfo!;
  t.is(info.kubeletVersion, c.config.kubernetesVersion);
  t.is(info.osImage, 'Debian GNU/Linux 12 (bookworm)');
  t.regex(info.containerRuntimeVersion, /^containerd:\/\//);
  const images = c.list('Pod', 'kube-system').map((p) => p.spec.containers[0]!.image);
  t.true(
    images.every((i) => i.startsWith('registry.k8s.io/')),
    images.join(' '),
  );
  t.true(images.includes(`registry.k8s.io/kube-proxy:${c.config.kubernetesVersion}`));
});

test('eras switch where Kubernetes did: dockershim (v1.24), the registry (v1.25), CoreDNS path (v1.21)', (t) => {
  t.is(eraOf('v1.23.17').containerRuntimeVersion.split(':')[0], 'docker');
  t.is(eraOf('v1.24.0').containerRuntimeVersion.split(':')[0], 'containerd');
  t.is(eraOf('v1.24.0').registry, 'k8s.gcr.io');
  t.is(eraOf('v1.25.0').registry, 'registry.k8s.io');
  t.is(eraOf('v1.20.0').coreDNSImage, 'k8s.gcr.io/coredns:1.7.0');
  t.is(eraOf('v1.21.0').coreDNSImage, 'k8s.gcr.io/coredns/coredns:v1.8.0');
  t.is(eraOf('v1.15.1').prompt('k8s-master01'), '[root@k8s-master01 ~]# ');
  t.is(eraOf('v1.35.4').prompt('k8s-master01'), 'root@k8s-master01:~# ');
});

const seedDeployment = readFileSync('scenarios/seed/manifests/ingress-vh/deployment.yaml', 'utf8');
const v1Ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: now }
spec:
  rules:
  - host: a.example
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: s, port: { number: 80 } } } }
`;

test('the loader serves what the release serves: extensions/v1beta1 up to v1.15, networking.k8s.io/v1 from v1.19', (t) => {
  t.true(parseManifestText(seedDeployment, 'deployment.yaml', { kubernetesVersion: 'v1.15.1' }).ok);
  const now = parseManifestText(seedDeployment, 'deployment.yaml', {
    kubernetesVersion: 'v1.35.4',
  });
  t.false(now.ok);
  if (!now.ok)
    t.is(
      now.errors[0]!.format(),
      'deployment.yaml:1:13 apiVersion: no matches for kind "Deployment" in version "extensions/v1beta1" (served up to v1.15; this cluster runs v1.35.4)',
    );
  t.true(parseManifestText(v1Ingress, 'ing.yaml', { kubernetesVersion: 'v1.19.0' }).ok);
  const early = parseManifestText(v1Ingress, 'ing.yaml', { kubernetesVersion: 'v1.18.20' });
  t.false(early.ok);
  if (!early.ok)
    t.regex(early.errors[0]!.message, /\(served from v1\.19; this cluster runs v1\.18\.20\)$/);
  // No release given: every version svclab knows.
  t.true(parseManifestText(seedDeployment, 'deployment.yaml').ok);
});

test("the seed era's dig: BIND 9.11 banner, EDNS buffer 4096, no (UDP) after the server", async (t) => {
  const sc = loadScenario('scenarios/seed/02-headless.yaml');
  const old = await runScenario(sc);
  t.deepEqual(old.failures, []);
  t.regex(old.transcript, /^; <<>> DiG 9\.11\.4-P2-RedHat-9\.11\.4-26\.P2\.el7_9\.16 <<>>/m);
  t.regex(old.transcript, /^; EDNS: version: 0, flags:; udp: 4096$/m);
  t.regex(old.transcript, /^;; SERVER: [\d.]+#53\([\d.]+\)$/m);
  t.regex(old.transcript, /^\[root@k8s-master01 ~\]# dig /m);
  const now = await runScenario(sc, { kubernetesVersion: 'v1.35.4' });
  t.regex(now.transcript, /^; <<>> DiG 9\.18\.\S+-Debian <<>>/m);
  t.regex(now.transcript, /^; EDNS: version: 0, flags:; udp: 1232$/m);
  t.regex(now.transcript, /^;; SERVER: [\d.]+#53\([\d.]+\) \(UDP\)$/m);
  t.regex(now.transcript, /^root@k8s-master01:~# dig /m);
});

test('lab up of a scenario file takes the release the scenario pins', (t) => {
  t.is(scenarioVersion(['scenarios/seed/08-ingress-https.yaml']), 'v1.15.1');
  t.is(scenarioVersion(['scenarios/beyond/stale-udp.yaml']), undefined);
  t.is(
    scenarioVersion(['scenarios/seed/manifests/svc.yaml']),
    undefined,
    'a manifest, not a scenario',
  );
});

test("kubeadm's control-plane role label and taint by release: master, both, control-plane", (t) => {
  const roles = (v: string) => {
    const n = new Cluster({ kubernetesVersion: v }).get('Node', undefined, 'k8s-master01')!;
    return [
      Object.keys(n.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .sort(),
      (n.spec.taints ?? []).map((x) => x.key),
    ];
  };
  t.deepEqual(roles('v1.15.1'), [
    ['node-role.kubernetes.io/master'],
    ['node-role.kubernetes.io/master'],
  ]);
  t.deepEqual(roles('v1.22.0'), [
    ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'],
    ['node-role.kubernetes.io/master'],
  ]);
  t.deepEqual(roles('v1.35.4'), [
    ['node-role.kubernetes.io/control-plane'],
    ['node-role.kubernetes.io/control-plane'],
  ]);
  // CoreDNS tolerates the era's taint: it still runs on the master, as in the seed.
  const c = new Cluster({ kubernetesVersion: 'v1.15.1' });
  const dns = c.list('Pod', 'kube-system').filter((p) => p.metadata.name.startsWith('coredns-'));
  t.deepEqual(
    dns.map((p) => p.spec.nodeName),
    ['k8s-master01', 'k8s-master01'],
  );
});

test('MASQUERADE --random-fully from v1.16 on (kubernetes#78547), in iptables and ipvs mode', (t) => {
  for (const mode of ['iptables', 'ipvs'] as const) {
    const masq = (v: string) =>
      runNodeTool(
        setUpNode(new Cluster({ kubernetesVersion: v }), 'k8s-node01', { mode }),
        ['iptables-save', '-t', 'nat'],
        0,
      )
        .stdout.split('\n')
        .filter((l) => / -j MASQUERADE/.test(l) && l.startsWith('-A KUBE-POSTROUTING'));
    t.true(masq('v1.15.1').length > 0, mode);
    t.false(
      masq('v1.15.1').some((l) => l.includes('--random-fully')),
      mode,
    );
    t.true(
      masq('v1.16.0').some((l) => l.endsWith(' --random-fully')),
      mode,
    );
  }
});

test("the node's iptables: CentOS 7's 1.4.21 lists protocols by name, Debian 12's 1.8.9 by number", (t) => {
  const on = (v: string, argv: string[]) =>
    runNodeTool(setUpNode(new Cluster({ kubernetesVersion: v }), 'k8s-node01', {}), argv, 0).stdout;
  const list = ['iptables', '-t', 'nat', '-nvL', 'KUBE-SERVICES'];
  t.regex(
    on('v1.15.1', list),
    /^ +0 +0 KUBE-SVC-\w+ +tcp +-- +\* +\* +0\.0\.0\.0\/0 +10\.96\.0\.1 /m,
  );
  t.regex(
    on('v1.35.4', list),
    /^ +0 +0 KUBE-SVC-\w+ +6 +-- +\* +\* +0\.0\.0\.0\/0 +10\.96\.0\.1 /m,
  );
  t.regex(on('v1.15.1', ['iptables-save']), /^# Generated by iptables-save v1\.4\.21 on /);
  t.regex(
    on('v1.35.4', ['iptables-save']),
    /^# Generated by iptables-save v1\.8\.9 \(nf_tables\) on /,
  );
});

test('kubectl get ingress -o yaml before v1.19 prints extensions/v1beta1, serviceName and servicePort', (t) => {
  const c = new Cluster({ kubernetesVersion: 'v1.15.1' });
  const r = parseManifestText(
    readFileSync('scenarios/seed/manifests/ingressrule.yaml', 'utf8'),
    'ingressrule.yaml',
    { kubernetesVersion: 'v1.15.1' },
  );
  if (!r.ok) return t.fail(r.errors.map((e) => e.format()).join('\n'));
  c.apply(r.objects);
  const y = renderGet(c, 'ingress', ['ingress1'], { output: 'yaml' }).stdout;
  t.regex(y, /^apiVersion: extensions\/v1beta1\nkind: Ingress\n/);
  t.regex(y, /serviceName: svc-1\n\s+servicePort: 80\n/);
  const now = new Cluster();
  now.apply(r.objects);
  t.regex(
    renderGet(now, 'ingress', ['ingress1'], { output: 'yaml' }).stdout,
    /^apiVersion: networking\.k8s\.io\/v1\n/,
  );
});
