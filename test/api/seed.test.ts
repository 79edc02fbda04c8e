// The seed walkthrough's manifests (scenarios/seed/manifests, copied verbatim,
// comments and old API versions included) are the loader's first acceptance test.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifests } from '../../src/api/load.ts';
import { sourceOf } from '../../src/api/source.ts';
import type { Deployment, Ingress, KubeObject, Service } from '../../src/api/types.ts';

const SEED = 'scenarios/seed/manifests';

function load(file: string): KubeObject[] {
  const r = loadManifests([join(SEED, file)]);
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.objects;
}

/** kind/namespace/name and the line each object starts on. */
const expected: Record<string, [string, string, number][]> = {
  'svc-deployment.yaml': [['Deployment', 'myapp-deploy', 1]],
  'svc.yaml': [['Service', 'myapp', 1]],
  'svc-none.yaml': [['Service', 'myapp-headless', 1]],
  'nodeport.yaml': [['Service', 'myapp', 1]],
  'ex.yaml': [['Service', 'my-service-1', 1]],
  'ingress.http.yaml': [
    ['Deployment', 'nginx-dm', 1],
    ['Service', 'nginx-svc', 19],
  ],
  'ingress1.yaml': [['Ingress', 'nginx-test', 1]],
  'ingress-vh/deployment.yaml': [
    ['Deployment', 'deployment1', 1],
    ['Service', 'svc-1', 19],
  ],
  'ingress-vh/deployment2.yaml': [
    ['Deployment', 'deployment2', 1],
    ['Service', 'svc-2', 19],
  ],
  'ingressrule.yaml': [
    ['Ingress', 'ingress1', 1],
    ['Ingress', 'ingress2', 15],
  ],
  'https/deployment.yaml': [
    ['Deployment', 'deployment3', 1],
    ['Service', 'svc-3', 19],
  ],
  'https.ingress.yaml': [['Ingress', 'https', 1]],
  'basic-auth/ingress.yaml': [['Ingress', 'ingress-with-auth', 1]],
  're.yaml': [['Ingress', 'nginx-test', 1]],
};

for (const [file, want] of Object.entries(expected)) {
  test(`seed ${file} loads with the right kinds, names and namespaces`, (t) => {
    const objs = load(file);
    t.deepEqual(
      objs.map((o) => [o.kind, o.metadata.name, sourceOf(o)?.line]),
      want,
    );
    for (const o of objs) {
      t.is(o.metadata.namespace, 'default');
      t.is(sourceOf(o)?.file, join(SEED, file));
    }
  });
}

test('the fixtures keep the seed text as written (comments, old API versions)', (t) => {
  const text = (f: string): string => readFileSync(join(SEED, f), 'utf8');
  t.true(text('svc-deployment.yaml').includes('  replicas: 3  # 副本数目为3\n'));
  t.true(
    text('ex.yaml').startsWith('kind: Service\napiVersion: v1\nmetadata:\n name: my-service-1\n'),
  );
  t.true(text('ingress1.yaml').includes('metadata:\n   name: nginx-test\n'));
  t.true(text('re.yaml').includes('spec:\n rules:\n - host: re.atguigu.com\n'));
  t.false(text('nodeport.yaml').includes('[root@'));
});

const ingressBackends: [string, string, string, string, string][] = [
  // file, ingress, host, service, tls secret ('' = none)
  ['ingress1.yaml', 'nginx-test', 'www1.atguigu.com', 'nginx-svc', ''],
  ['ingressrule.yaml', 'ingress1', 'www1.atguigu.com', 'svc-1', ''],
  ['ingressrule.yaml', 'ingress2', 'www2.atguigu.com', 'svc-2', ''],
  ['https.ingress.yaml', 'https', 'www3.atguigu.com', 'svc-3', 'tls-secret'],
  ['basic-auth/ingress.yaml', 'ingress-with-auth', 'auth.atguigu.com', 'svc-1', ''],
  ['re.yaml', 'nginx-test', 're.atguigu.com', 'svc-1', ''],
];

for (const [file, name, host, service, secret] of ingressBackends) {
  test(`seed ${file} ${name}: serviceName/servicePort become a v1 service backend`, (t) => {
    const ing = load(file).find(
      (o): o is Ingress => o.kind === 'Ingress' && o.metadata.name === name,
    );
    if (ing === undefined) return t.fail(`no Ingress ${name}`);
    t.is(ing.apiVersion, 'networking.k8s.io/v1');
    t.is(sourceOf(ing)?.apiVersion, 'extensions/v1beta1');
    t.deepEqual(ing.spec.rules, [
      {
        host,
        http: {
          paths: [
            {
              path: '/',
              pathType: 'ImplementationSpecific',
              backend: { service: { name: service, port: { number: 80 } } },
            },
          ],
        },
      },
    ]);
    t.deepEqual(ing.spec.tls, secret === '' ? undefined : [{ hosts: [host], secretName: secret }]);
  });
}

test('seed annotations survive conversion', (t) => {
  const [auth] = load('basic-auth/ingress.yaml');
  t.deepEqual(auth?.metadata.annotations, {
    'nginx.ingress.kubernetes.io/auth-type': 'basic',
    'nginx.ingress.kubernetes.io/auth-secret': 'basic-auth',
    'nginx.ingress.kubernetes.io/auth-realm': 'Authentication Required - foo',
  });
  const [re] = load('re.yaml');
  t.is(
    re?.metadata.annotations?.['nginx.ingress.kubernetes.io/rewrite-target'],
    'https://www3.atguigu.com:31401/hostname.html',
  );
});

const oldDeployments: [string, string, string, string][] = [
  ['ingress.http.yaml', 'nginx-dm', 'nginx', 'wangyanglinux/myapp:v1'],
  ['ingress-vh/deployment.yaml', 'deployment1', 'nginx', 'wangyanglinux/myapp:v1'],
  ['ingress-vh/deployment2.yaml', 'deployment2', 'nginx2', 'wangyanglinux/myapp:v2'],
  ['https/deployment.yaml', 'deployment3', 'nginx3', 'wangyanglinux/myapp:v3'],
];

for (const [file, name, label, image] of oldDeployments) {
  test(`seed ${file}: extensions/v1beta1 Deployment ${name} gets its selector from the template`, (t) => {
    const d = load(file).find((o): o is Deployment => o.kind === 'Deployment');
    if (d === undefined) return t.fail('no Deployment');
    t.is(d.metadata.name, name);
    t.is(d.apiVersion, 'apps/v1');
    t.deepEqual(d.spec.selector, { matchLabels: { name: label } });
    t.deepEqual(d.metadata.labels, { name: label });
    t.is(d.spec.replicas, 2);
    t.is(d.spec.template.spec.containers[0]?.image, image);
    t.deepEqual(d.spec.template.spec.containers[0]?.ports, [
      { containerPort: 80, protocol: 'TCP' },
    ]);
  });
}

test('seed svc-deployment.yaml: apps/v1 Deployment as written', (t) => {
  const [d] = load('svc-deployment.yaml') as Deployment[];
  t.is(d?.spec.replicas, 3);
  t.deepEqual(d?.spec.selector, { matchLabels: { app: 'myapp', release: 'stabel' } });
  t.deepEqual(d?.spec.template.metadata.labels, { app: 'myapp', release: 'stabel', env: 'test' });
  t.deepEqual(d?.spec.template.spec.containers[0]?.ports, [
    { name: 'http', containerPort: 80, protocol: 'TCP' },
  ]);
  t.is(d?.metadata.labels, undefined);
});

const services: [string, Partial<Service['spec']>][] = [
  [
    'svc.yaml',
    {
      type: 'ClusterIP',
      selector: { app: 'myapp', release: 'stabel' },
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
    },
  ],
  ['svc-none.yaml', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }],
  ['nodeport.yaml', { type: 'NodePort', externalTrafficPolicy: 'Cluster' }],
  ['ex.yaml', { type: 'ExternalName', externalName: 'hub.atguigu.com', ports: [] }],
  ['ingress.http.yaml', { type: 'ClusterIP', selector: { name: 'nginx' } }],
];

for (const [file, want] of services) {
  test(`seed ${file}: Service spec`, (t) => {
    const svc = load(file).find((o): o is Service => o.kind === 'Service');
    if (svc === undefined) return t.fail('no Service');
    for (const [k, v] of Object.entries(want)) {
      t.deepEqual(svc.spec[k as keyof Service['spec']], v, k);
    }
  });
}

test('the whole seed folder loads as one set (recursive)', (t) => {
  const r = loadManifests([SEED], { recursive: true });
  if (!r.ok) return t.fail(r.errors.map((e) => e.format()).join('\n'));
  // 19 objects from the seed's own YAML, plus ingress/: the ingress-nginx namespace,
  // controller Deployment and NodePort Service the walkthrough installs.
  t.is(r.objects.length, 19 + 3);
  t.is(r.objects.filter((o) => o.metadata.namespace === 'ingress-nginx').length, 2);
});

test('the seed’s unnamed TLS Ingress example loads too', (t) => {
  const r = loadManifests(['test/fixtures/manifests/seed-extra/ingress-tls-example.yaml']);
  if (!r.ok) return t.fail(r.errors.map((e) => e.format()).join('\n'));
  const ing = r.objects[0] as Ingress;
  t.deepEqual(ing.spec.tls, [{ hosts: ['foo.bar.com'], secretName: 'tls-secret' }]);
  t.deepEqual(ing.spec.rules?.[0]?.http?.paths[0]?.backend, {
    service: { name: 'nginx-svc', port: { number: 80 } },
  });
});
