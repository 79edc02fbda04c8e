import test from 'ava';
import { parseManifestText } from '../../src/api/load.ts';
import { sourceOf } from '../../src/api/source.ts';
import type { Deployment, Ingress, KubeObject } from '../../src/api/types.ts';

function load(yaml: string): KubeObject[] {
  const r = parseManifestText(yaml, 'c.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.objects;
}

function errors(yaml: string): string[] {
  const r = parseManifestText(yaml, 'c.yaml');
  return r.ok ? [] : r.errors.map((e) => e.format());
}

const oldDeployment = (apiVersion: string): string => `apiVersion: ${apiVersion}
kind: Deployment
metadata: {name: d}
spec:
  template:
    metadata:
      labels: {app: d}
    spec: {containers: [{name: c, image: nginx}]}
`;

for (const v of ['extensions/v1beta1', 'apps/v1beta1']) {
  test(`${v} Deployment: selector and labels default from the template`, (t) => {
    const [d] = load(oldDeployment(v)) as Deployment[];
    t.is(d?.apiVersion, 'apps/v1');
    t.deepEqual(d?.spec.selector, { matchLabels: { app: 'd' } });
    t.deepEqual(d?.metadata.labels, { app: 'd' });
    t.is(d ? sourceOf(d)?.apiVersion : undefined, v);
  });
}

test('apps/v1beta2 Deployment: the selector is required, as in apps/v1', (t) => {
  t.deepEqual(errors(oldDeployment('apps/v1beta2')), [
    'c.yaml:4:1 spec.selector: Required value',
    'c.yaml:7:7 spec.template.metadata.labels: Invalid value: map[string]string{"app":"d"}: `selector` does not match template `labels`',
  ]);
});

test('extensions/v1beta1 ReplicaSet converts to apps/v1', (t) => {
  const [rs] = load(
    oldDeployment('extensions/v1beta1').replace('kind: Deployment', 'kind: ReplicaSet'),
  );
  t.is(rs?.kind, 'ReplicaSet');
  t.is(rs?.apiVersion, 'apps/v1');
});

test('networking.k8s.io/v1beta1 Ingress: backend → defaultBackend, named servicePort → port.name', (t) => {
  const [ing] = load(`apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: i}
spec:
  backend: {serviceName: default-http-backend, servicePort: http}
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend: {serviceName: api, servicePort: 8080}
`) as Ingress[];
  t.is(ing?.apiVersion, 'networking.k8s.io/v1');
  t.deepEqual(ing?.spec.defaultBackend, {
    service: { name: 'default-http-backend', port: { name: 'http' } },
  });
  t.false(ing !== undefined && 'backend' in ing.spec);
  t.deepEqual(ing?.spec.rules?.[0]?.http?.paths[0], {
    path: '/api',
    pathType: 'Prefix',
    backend: { service: { name: 'api', port: { number: 8080 } } },
  });
});

test('networking.k8s.io/v1 Ingress is stored as written', (t) => {
  const yaml = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  ingressClassName: nginx
  defaultBackend:
    resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}
`;
  const [ing] = load(yaml) as Ingress[];
  t.deepEqual(ing?.spec, {
    ingressClassName: 'nginx',
    defaultBackend: {
      resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' },
    },
  });
});

test('errors in a converted default backend point at the v1beta1 fields', (t) => {
  t.deepEqual(
    errors(`apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: i}
spec:
  backend:
    serviceName: svc
    servicePort: 0
`),
    ['c.yaml:7:18 spec.defaultBackend: Required value: port name or number is required'],
  );
});
