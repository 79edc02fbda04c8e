import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listManifestFiles, loadManifests, parseManifestText } from '../../src/api/load.ts';
import { sourceOf } from '../../src/api/source.ts';
import type { ConfigMap, EndpointSlice, Endpoints, KubeObject } from '../../src/api/types.ts';

const DIR = 'test/fixtures/manifests/dir';

function names(objs: KubeObject[]): string[] {
  return objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
}

function ok(r: ReturnType<typeof loadManifests>): KubeObject[] {
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.objects;
}

test('a directory loads its *.yaml, *.yml and *.json files in name order, not subfolders', (t) => {
  t.deepEqual(listManifestFiles(DIR), [
    join(DIR, '10-namespace.yaml'),
    join(DIR, '20-app.yml'),
    join(DIR, '30-config.json'),
  ]);
  t.deepEqual(names(ok(loadManifests([DIR]))), [
    'Namespace//demo',
    'Deployment/demo/web',
    'Service/demo/web',
    'ConfigMap/demo/settings',
  ]);
});

test('recursive directory loading (kubectl apply -R) includes subfolders', (t) => {
  t.deepEqual(names(ok(loadManifests([DIR], { recursive: true }))), [
    'Namespace//demo',
    'Deployment/demo/web',
    'Service/demo/web',
    'ConfigMap/demo/settings',
    'Pod/demo/client',
    'Endpoints/demo/external-db',
    'EndpointSlice/demo/external-db-1',
  ]);
});

test('kind: List items load as separate objects with their own positions', (t) => {
  const objs = ok(loadManifests([join(DIR, 'nested/40-list.yaml')]));
  t.deepEqual(
    objs.map((o) => [o.kind, sourceOf(o)?.line, sourceOf(o)?.item, sourceOf(o)?.document]),
    [
      ['Pod', 4, 0, 0],
      ['Endpoints', 13, 1, 0],
      ['EndpointSlice', 23, 2, 0],
    ],
  );
  const ep = objs[1] as Endpoints;
  t.deepEqual(ep.subsets[0]?.ports, [{ port: 5432, protocol: 'TCP' }]);
  const slice = objs[2] as EndpointSlice;
  t.deepEqual(slice.endpoints, [{ addresses: ['192.168.10.5'], conditions: {} }]);
});

test('an error inside a List item points into that item', (t) => {
  const yaml = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {ports: [{port: 80}]}
- apiVersion: v1
  kind: Service
  metadata: {name: b}
  spec: {ports: [{port: -1}]}
`;
  const r = parseManifestText(yaml, 'list.yaml');
  t.false(r.ok);
  if (r.ok) return;
  t.is(
    r.errors[0]?.format(),
    'list.yaml:11:25 spec.ports[0].port: Invalid value: -1: must be between 1 and 65535, inclusive',
  );
});

test('JSON files load, and errors in them have line:column', (t) => {
  const objs = ok(loadManifests([join(DIR, '30-config.json')]));
  t.deepEqual((objs[0] as ConfigMap).data, { mode: 'test', level: '3' });
  // Tab-indented JSON is fine: inside {} YAML allows tabs as white space.
  const bad =
    '{\n\t"apiVersion": "v1",\n\t"kind": "Service",\n\t"metadata": {"name": "x"},\n\t"spec": {"ports": [{"port": 0}]}\n}\n';
  const r = parseManifestText(bad, 'svc.json');
  t.deepEqual(r.ok ? [] : r.errors.map((e) => e.format()), [
    'svc.json:5:30 spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'svc.json:5:30 spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
});

test('multi-document files: empty documents and comment-only documents are skipped', (t) => {
  const yaml = `---
# nothing here
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
...
`;
  const objs = ok(parseManifestText(yaml, 'multi.yaml'));
  t.deepEqual(
    objs.map((o) => [o.metadata.name, sourceOf(o)?.line, sourceOf(o)?.document]),
    [
      ['a', 4, 1],
      ['b', 9, 3],
    ],
  );
});

test('an empty file loads nothing, successfully', (t) => {
  t.deepEqual(parseManifestText('', 'empty.yaml'), { ok: true, objects: [] });
});

test('several paths are one set: one bad file means no objects at all', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-api-'));
  try {
    writeFileSync(
      join(dir, 'good.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: good}\n',
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n',
    );
    const r = loadManifests([
      join(dir, 'good.yaml'),
      join(dir, 'bad.yaml'),
      join(dir, 'missing.yaml'),
    ]);
    t.false(r.ok);
    if (r.ok) return;
    t.deepEqual(
      r.errors.map((e) => [e.file, e.line, e.path]),
      [
        [join(dir, 'bad.yaml'), 3, 'metadata.name'],
        [join(dir, 'missing.yaml'), 0, ''],
      ],
    );
    t.is(
      r.errors[1]?.format(),
      `${join(dir, 'missing.yaml')}: the path "${join(dir, 'missing.yaml')}" does not exist`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an explicitly named file loads whatever its extension', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-api-'));
  try {
    writeFileSync(join(dir, 'ns.txt'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: txt}\n');
    t.deepEqual(names(ok(loadManifests([join(dir, 'ns.txt')]))), ['Namespace//txt']);
    t.deepEqual(ok(loadManifests([dir])), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('source locations: file, line, written apiVersion, and field positions', (t) => {
  const objs = ok(loadManifests(['scenarios/seed/manifests/ingress.http.yaml']));
  const svc = objs[1];
  if (svc === undefined) return t.fail();
  const src = sourceOf(svc);
  t.is(src?.file, 'scenarios/seed/manifests/ingress.http.yaml');
  t.is(src?.line, 19);
  t.is(src?.apiVersion, 'v1');
  t.deepEqual(src?.locate(['spec', 'ports', 0, 'targetPort']), { line: 26, column: 19 });
  // A defaulted field points at the nearest field the user wrote.
  t.deepEqual(src?.locate(['spec', 'sessionAffinity']), { line: 23, column: 1 });
  const deploy = objs[0];
  if (deploy === undefined) return t.fail();
  t.is(sourceOf(deploy)?.apiVersion, 'extensions/v1beta1');
  // Objects built in code have no source.
  t.is(sourceOf({}), undefined);
});

test('YAML anchors and merge keys resolve as kubectl’s YAML reader does', (t) => {
  const yaml = `apiVersion: v1
kind: Service
metadata:
  name: a
  labels: &l {app: web}
spec:
  selector: *l
  ports:
  - &p {port: 80, name: http}
  - <<: *p
    port: 81
    name: alt
`;
  const [svc] = ok(parseManifestText(yaml, 'anchors.yaml'));
  t.deepEqual(svc?.kind === 'Service' ? svc.spec.selector : undefined, { app: 'web' });
  t.deepEqual(svc?.kind === 'Service' ? svc.spec.ports.map((p) => [p.name, p.port]) : [], [
    ['http', 80],
    ['alt', 81],
  ]);
});

test('defaultNamespace option applies to objects without a namespace only', (t) => {
  const objs = ok(
    loadManifests(
      [
        join(DIR, '20-app.yml'),
        'scenarios/seed/manifests/svc-none.yaml',
        'scenarios/seed/manifests/ingress1.yaml',
      ],
      { defaultNamespace: 'team' },
    ),
  );
  t.deepEqual(names(objs), [
    'Deployment/demo/web',
    'Service/demo/web',
    'Service/default/myapp-headless',
    'Ingress/team/nginx-test',
  ]);
});
