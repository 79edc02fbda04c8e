// The official JavaScript client (@kubernetes/client-node) against svclab serve: it lists
// and watches pods, and an informer follows a Deployment's pods as they are scaled.
import test from 'ava';
import { CoreV1Api, KubeConfig, Watch, makeInformer, AppsV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { kubeconfigText } from '../../src/apiserver/kubeconfig.ts';
import { type Served, serveSim } from './fixture.ts';

let s: Served;
let kc: KubeConfig;
test.before(async () => {
  s = await serveSim({ live: true });
  kc = new KubeConfig();
  kc.loadFromString(kubeconfigText({ server: s.url, token: s.token, caPem: s.tls.caPem }));
});
test.after.always(async () => {
  await s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.serial('lists pods in a namespace and across namespaces', async (t) => {
  const core = kc.makeApiClient(CoreV1Api);
  const system = await core.listNamespacedPod({ namespace: 'kube-system' });
  const names = system.items.map((p) => p.metadata?.name ?? '');
  t.true(
    names.some((n) => n.startsWith('coredns-')),
    names.join(' '),
  );
  t.true(names.includes('etcd-k8s-master01'));
  const all = await core.listPodForAllNamespaces({ labelSelector: 'k8s-app=kube-dns' });
  t.is(all.items.length, 2);
  t.truthy(all.metadata?.resourceVersion);
  await t.throwsAsync(core.readNamespacedPod({ namespace: 'default', name: 'nope' }), {
    message: /404|not found/,
  });
});

test.serial(
  "watches pods: ADDED for a new Deployment's pods, then MODIFIED as they start",
  async (t) => {
    const events: [string, string, string][] = [];
    const watch = new Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: 'app=myapp' },
      (type: string, pod: V1Pod) => {
        events.push([type, pod.metadata?.name ?? '', pod.status?.phase ?? '']);
      },
      () => undefined,
    );
    try {
      const apps = kc.makeApiClient(AppsV1Api);
      const doc = parse(readFileSync('scenarios/seed/manifests/svc-deployment.yaml', 'utf8'));
      await apps.createNamespacedDeployment({ namespace: 'default', body: doc });
      const deadline = Date.now() + 10_000;
      const running = () => new Set(events.filter((e) => e[2] === 'Running').map((e) => e[1]));
      while (Date.now() < deadline && running().size < 3) await sleep(100);
      const added = events.filter((e) => e[0] === 'ADDED').map((e) => e[1]);
      t.is(added.length, 3, JSON.stringify(events));
      t.true(added.every((n) => n.startsWith('myapp-deploy-')));
      t.is(running().size, 3, JSON.stringify(events));
      t.true(events.some((e) => e[0] === 'MODIFIED'));
    } finally {
      req.abort();
    }
  },
);

test.serial('an informer follows the pods as the Deployment is scaled to 5', async (t) => {
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(
    kc,
    '/api/v1/namespaces/default/pods',
    () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=myapp' }),
    'app=myapp',
  );
  await informer.start();
  try {
    t.is(informer.list().length, 3);
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeploymentScale({
      namespace: 'default',
      name: 'myapp-deploy',
      // client-node sends PATCH bodies as application/json-patch+json by default.
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && informer.list().length < 5) await sleep(100);
    t.is(informer.list().length, 5);
  } finally {
    await informer.stop();
  }
});
