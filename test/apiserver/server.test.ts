// The API server at the HTTP level: access, discovery, CRUD with concurrency, patch,
// Status errors, selectors and paging, Table, watch, subresources, limits.
/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read as loose JSON */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { type Served, httpsFetch, serveSim } from './fixture.ts';

let s: Served;
/** The seed's release: it still serves extensions/v1beta1 and not yet networking.k8s.io/v1. */
let old: Served;
test.before(async () => {
  s = await serveSim();
  old = await serveSim({ kubernetesVersion: 'v1.15.1' });
});
test.after.always(async () => {
  await s.close();
  await old.close();
});

const json = async (r: Response): Promise<Record<string, any>> =>
  (await r.json()) as Record<string, any>;

const svc = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 80 }] },
});

test('a request without the token gets 401 as a Status', async (t) => {
  const r = await httpsFetch(`${s.url}/api/v1/pods`, 'GET', {}, undefined, s.tls.caPem);
  t.is(r.status, 401);
  const body = await json(r);
  t.is(body['kind'], 'Status');
  t.is(body['reason'], 'Unauthorized');
  const wrong = await httpsFetch(
    `${s.url}/version`,
    'GET',
    { authorization: 'Bearer nope' },
    undefined,
    s.tls.caPem,
  );
  t.is(wrong.status, 401);
});

test('the server listens on loopback only', (t) => {
  t.true(s.url.startsWith('https://127.0.0.1:'));
});

test('discovery: versions, groups, resources with short names and subresources', async (t) => {
  t.is((await json(await s.api('/version')))['major'], '1');
  t.deepEqual((await json(await s.api('/api')))['versions'], ['v1']);
  const groups = (await json(await s.api('/apis')))['groups'] as {
    name: string;
    preferredVersion: { version: string };
  }[];
  const names = groups.map((g) => g.name);
  for (const g of ['apps', 'discovery.k8s.io', 'networking.k8s.io', 'events.k8s.io'])
    t.true(names.includes(g), g);
  t.false(names.includes('extensions'), 'extensions/v1beta1 went with v1.22');
  t.is((await s.api('/apis/extensions/v1beta1')).status, 404);
  t.is((await s.api('/apis/extensions/v1beta1/namespaces/default/ingresses')).status, 404);
  const core = (await json(await s.api('/api/v1')))['resources'] as {
    name: string;
    shortNames?: string[];
    verbs: string[];
  }[];
  const pods = core.find((r) => r.name === 'pods')!;
  t.deepEqual(pods.shortNames, ['po']);
  t.true(pods.verbs.includes('watch'));
  t.truthy(core.find((r) => r.name === 'pods/exec'));
  t.truthy(core.find((r) => r.name === 'pods/log'));
  t.deepEqual(core.find((r) => r.name === 'services')!.shortNames, ['svc']);
  const networking = (await json(await s.api('/apis/networking.k8s.io/v1')))['resources'] as {
    name: string;
    shortNames?: string[];
  }[];
  t.deepEqual(networking.find((r) => r.name === 'ingresses')!.shortNames, ['ing']);
  const agg = await s.api('/apis', {
    headers: {
      accept:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    },
  });
  t.regex(agg.headers.get('content-type') ?? '', /as=APIGroupDiscoveryList/);
  t.is((await json(agg))['kind'], 'APIGroupDiscoveryList');
  t.is((await s.api('/apis/nope.example.com/v1')).status, 404);
});

test('create, get, update with a stale resourceVersion (409), patch, delete, 404', async (t) => {
  const created = await s.api('/api/v1/namespaces/default/services', {
    method: 'POST',
    body: svc('crud'),
  });
  t.is(created.status, 201);
  const obj = await json(created);
  t.regex(obj['spec']['clusterIP'], /^10\.(9[6-9]|1[01]\d)\./);
  const again = await s.api('/api/v1/namespaces/default/services', {
    method: 'POST',
    body: svc('crud'),
  });
  t.is(again.status, 409);
  t.is((await json(again))['reason'], 'AlreadyExists');

  const got = await json(await s.api('/api/v1/namespaces/default/services/crud'));
  const rv = got['metadata']['resourceVersion'];
  const put = { ...got, metadata: { ...got['metadata'], labels: { tier: 'web' } } };
  const ok = await s.api('/api/v1/namespaces/default/services/crud', { method: 'PUT', body: put });
  t.is(ok.status, 200);
  t.not((await json(ok))['metadata']['resourceVersion'], rv);
  const stale = await s.api('/api/v1/namespaces/default/services/crud', {
    method: 'PUT',
    body: put,
  });
  t.is(stale.status, 409);
  const st = await json(stale);
  t.is(st['reason'], 'Conflict');
  t.regex(st['message'], /the object has been modified/);

  const patched = await s.api('/api/v1/namespaces/default/services/crud', {
    method: 'PATCH',
    body: { metadata: { labels: { tier: null, team: 'a' } } },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  t.is(patched.status, 200);
  t.deepEqual((await json(patched))['metadata']['labels'], { team: 'a' });
  const jp = await s.api('/api/v1/namespaces/default/services/crud', {
    method: 'PATCH',
    body: [{ op: 'replace', path: '/spec/ports/0/port', value: 8080 }],
    headers: { 'content-type': 'application/json-patch+json' },
  });
  t.is(jp.status, 200);
  t.is((await json(jp))['spec']['ports'][0]['port'], 8080);
  t.is(
    s.session.cluster.get('Service', 'default', 'crud')!.spec.ports[0]!.port,
    8080,
    'reached the store',
  );

  const del = await s.api('/api/v1/namespaces/default/services/crud', { method: 'DELETE' });
  t.is(del.status, 200);
  t.is((await json(del))['status'], 'Success');
  const gone = await s.api('/api/v1/namespaces/default/services/crud');
  t.is(gone.status, 404);
  const nf = await json(gone);
  t.is(nf['message'], 'services "crud" not found');
  t.deepEqual(nf['details'], { name: 'crud', group: '', kind: 'services' });
});

test('an invalid object gets 422 Invalid with field causes', async (t) => {
  const bad = svc('bad-port');
  bad.spec.ports[0]!.port = 70000;
  const r = await s.api('/api/v1/namespaces/default/services', { method: 'POST', body: bad });
  t.is(r.status, 422);
  const st = await json(r);
  t.is(st['reason'], 'Invalid');
  t.regex(
    st['message'],
    /^Service "bad-port" is invalid: spec\.ports\[0\]\.port: Invalid value: 70000/,
  );
  t.is(st['details']['causes'][0]['field'], 'spec.ports[0].port');
});

test('malformed and oversized bodies get 400 and 413, and the server keeps serving', async (t) => {
  const r = await s.api('/api/v1/namespaces/default/services', {
    method: 'POST',
    body: '{"kind": ',
  });
  t.is(r.status, 400);
  t.is((await json(r))['reason'], 'BadRequest');
  const big = await s.api('/api/v1/namespaces/default/configmaps', {
    method: 'POST',
    body: `{"x":"${'a'.repeat(4 << 20)}"}`,
  });
  t.is(big.status, 413);
  t.is((await s.api('/version')).status, 200);
});

test('label and field selectors, limit and continue', async (t) => {
  for (let i = 0; i < 5; i++) {
    const r = await s.api('/api/v1/namespaces/default/services', {
      method: 'POST',
      body: svc(`page-${i}`, { page: 'yes', n: String(i % 2) }),
    });
    t.is(r.status, 201);
  }
  const odd = await json(
    await s.api('/api/v1/namespaces/default/services?labelSelector=page%3Dyes,n%3D1'),
  );
  t.deepEqual(
    odd['items'].map((o: any) => o.metadata.name),
    ['page-1', 'page-3'],
  );
  const byName = await json(await s.api('/api/v1/services?fieldSelector=metadata.name%3Dpage-2'));
  t.deepEqual(
    byName['items'].map((o: any) => o.metadata.name),
    ['page-2'],
  );
  const names: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const page = await json(
      await s.api(
        `/api/v1/namespaces/default/services?labelSelector=page&limit=2${cont ? `&continue=${cont}` : ''}`,
      ),
    );
    names.push(...page['items'].map((o: any) => o.metadata.name));
    cont = page['metadata']['continue'] ?? '';
    pages++;
  } while (cont !== '');
  t.is(pages, 3);
  t.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  const badField = await s.api('/api/v1/services?fieldSelector=spec.bogus%3Dx');
  t.is(badField.status, 400);
  t.regex((await json(badField))['message'], /field label not supported: spec\.bogus/);
  const podsOnNode = await json(
    await s.api('/api/v1/pods?fieldSelector=spec.nodeName%3Dk8s-node01'),
  );
  t.true(podsOnNode['items'].length > 0);
  t.true(podsOnNode['items'].every((p: any) => p.spec.nodeName === 'k8s-node01'));
});

test('Table: kubectl columns with wide ones at priority 1', async (t) => {
  const r = await s.api('/api/v1/namespaces/kube-system/services', {
    headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
  });
  const table = await json(r);
  t.is(table['kind'], 'Table');
  const cols = table['columnDefinitions'].map((c: any) => [c.name, c.priority]);
  t.deepEqual(cols, [
    ['NAME', 0],
    ['TYPE', 0],
    ['CLUSTER-IP', 0],
    ['EXTERNAL-IP', 0],
    ['PORT(S)', 0],
    ['AGE', 0],
    ['SELECTOR', 1],
  ]);
  const dns = table['rows'].find((row: any) => row.cells[0] === 'kube-dns');
  t.deepEqual(dns.cells.slice(1, 5), [
    'ClusterIP',
    '10.96.0.10',
    '<none>',
    '53/UDP,53/TCP,9153/TCP',
  ]);
  t.is(dns.object.kind, 'PartialObjectMetadata');
});

test('a v1.15 server: extensions/v1beta1 with the short names, no networking.k8s.io/v1, discovery.k8s.io or events.k8s.io', async (t) => {
  const s = old;
  t.is((await json(await s.api('/version')))['gitVersion'], 'v1.15.1');
  const names = ((await json(await s.api('/apis')))['groups'] as { name: string }[]).map(
    (g) => g.name,
  );
  t.true(names.includes('extensions'));
  t.true(names.indexOf('apps') < names.indexOf('extensions'), 'apps is preferred for deployments');
  for (const g of ['discovery.k8s.io', 'networking.k8s.io', 'events.k8s.io'])
    t.false(names.includes(g), g);
  const ext = (await json(await s.api('/apis/extensions/v1beta1')))['resources'] as {
    name: string;
    shortNames?: string[];
  }[];
  t.truthy(ext.find((r) => r.name === 'deployments/scale'));
  t.deepEqual(ext.find((r) => r.name === 'ingresses')!.shortNames, ['ing'], 'the newest served');
  t.deepEqual(ext.find((r) => r.name === 'deployments')!.shortNames, undefined, 'apps has deploy');
  t.is((await s.api('/apis/networking.k8s.io/v1/ingresses')).status, 404);
  // The Ingress table as a v1.15 server prints it: no CLASS column (v1.19).
  const table = await json(
    await s.api('/apis/extensions/v1beta1/ingresses', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    }),
  );
  t.deepEqual(
    (table['columnDefinitions'] as { name: string }[]).map((c) => c.name),
    ['NAME', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
  );
});

test('extensions/v1beta1: the seed Deployment is stored as apps/v1 and served back in its version', async (t) => {
  const s = old;
  const doc = parseAllDocuments(
    readFileSync('scenarios/seed/manifests/ingress.http.yaml', 'utf8'),
  )[0]!.toJS();
  t.is(doc.apiVersion, 'extensions/v1beta1');
  const r = await s.api('/apis/extensions/v1beta1/namespaces/default/deployments', {
    method: 'POST',
    body: doc,
  });
  t.is(r.status, 201, JSON.stringify(await r.clone().json()));
  const served = await json(r);
  t.is(served['apiVersion'], 'extensions/v1beta1');
  t.deepEqual(
    served['spec']['selector'],
    { matchLabels: { name: 'nginx' } },
    'the old default: the template labels',
  );
  const asApps = await json(
    await s.api(`/apis/apps/v1/namespaces/default/deployments/${doc.metadata.name}`),
  );
  t.is(asApps['apiVersion'], 'apps/v1');
  t.is(asApps['spec']['replicas'], 2);
  const missing = await s.api('/apis/extensions/v1beta1/namespaces/default/deployments/nope');
  t.is((await json(missing))['message'], 'deployments.extensions "nope" not found');
});

test('extensions/v1beta1 Ingress: serviceName/servicePort in, networking v1 stored, old shape out', async (t) => {
  const s = old;
  const ing = {
    apiVersion: 'extensions/v1beta1',
    kind: 'Ingress',
    metadata: { name: 'old-ing' },
    spec: {
      rules: [
        {
          host: 'www1.atguigu.com',
          http: { paths: [{ path: '/', backend: { serviceName: 'svc-1', servicePort: 80 } }] },
        },
      ],
    },
  };
  t.is(
    (
      await s.api('/apis/extensions/v1beta1/namespaces/default/ingresses', {
        method: 'POST',
        body: ing,
      })
    ).status,
    201,
  );
  const stored = s.session.cluster.get('Ingress', 'default', 'old-ing')!;
  t.deepEqual(stored.spec.rules![0]!.http!.paths[0]!.backend.service, {
    name: 'svc-1',
    port: { number: 80 },
  });
  const back = await json(
    await s.api('/apis/extensions/v1beta1/namespaces/default/ingresses/old-ing'),
  );
  t.deepEqual(back['spec']['rules'][0]['http']['paths'][0]['backend'], {
    serviceName: 'svc-1',
    servicePort: 80,
  });
});

test('scale subresource: GET a Scale, PATCH replicas, the ReplicaSet follows', async (t) => {
  const doc = parse(readFileSync('scenarios/seed/manifests/svc-deployment.yaml', 'utf8'));
  doc.metadata.name = 'scaled';
  t.is(
    (
      await s.api('/apis/apps/v1/namespaces/default/deployments', {
        method: 'POST',
        body: doc,
      })
    ).status,
    201,
  );
  const scale = await json(
    await s.api('/apis/apps/v1/namespaces/default/deployments/scaled/scale'),
  );
  t.is(scale['kind'], 'Scale');
  t.is(scale['spec']['replicas'], 3);
  t.is(scale['status']['selector'], 'app=myapp,release=stabel');
  const r = await s.api('/apis/apps/v1/namespaces/default/deployments/scaled/scale', {
    method: 'PATCH',
    body: { spec: { replicas: 5 } },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  t.is(r.status, 200);
  t.is((await json(r))['spec']['replicas'], 5);
  const pods = s.session.cluster
    .list('Pod', 'default')
    .filter((p) => p.metadata.name.startsWith('scaled-'));
  t.is(pods.length, 5);
});

test('watch: ADDED from version 0, live events, selection changes, 410 for a compacted version', async (t) => {
  const ac = new AbortController();
  const r = await s.api('/api/v1/namespaces/default/configmaps?watch=true&labelSelector=w%3D1', {
    headers: {},
    ...{},
  });
  t.is(r.status, 200);
  const reader = r.body!.getReader();
  const events: any[] = [];
  let buf = '';
  const readUntil = async (n: number): Promise<void> => {
    while (events.length < n) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += new TextDecoder().decode(value);
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    }
  };
  const cm = (name: string, w: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { w } },
    data: { a: 'b' },
  });
  await s.api('/api/v1/namespaces/default/configmaps', { method: 'POST', body: cm('cm-a', '1') });
  await s.api('/api/v1/namespaces/default/configmaps', { method: 'POST', body: cm('cm-b', '0') });
  await s.api('/api/v1/namespaces/default/configmaps/cm-a', {
    method: 'PATCH',
    body: { metadata: { labels: { w: '0' } } },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  await readUntil(2);
  t.deepEqual(
    events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'cm-a'],
      ['DELETED', 'cm-a'],
    ],
  );
  await reader.cancel();
  ac.abort();

  const rv = s.session.cluster.store.resourceVersion;
  for (let i = 0; i < 2100; i++)
    s.session.cluster.store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `churn-${i}`, namespace: 'default' },
      data: {},
    } as any);
  const old = await s.api(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`);
  const text = await old.text();
  const ev = JSON.parse(text.trim().split('\n')[0]!);
  t.is(ev.type, 'ERROR');
  t.is(ev.object.code, 410);
  t.is(ev.object.reason, 'Gone');
});

test('bookmarks carry the store version to clients that allow them', async (t) => {
  const b = await serveSim({ watch: { bookmarkIntervalMs: 50 } });
  try {
    const r = await b.api(
      '/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion=' +
        b.session.cluster.store.resourceVersion +
        '&timeoutSeconds=1',
    );
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const bm = lines.filter((e) => e.type === 'BOOKMARK');
    t.true(bm.length >= 1);
    t.is(bm[0].object.metadata.resourceVersion, b.session.cluster.store.resourceVersion);
  } finally {
    await b.close();
  }
});

test('pod log: the myapp nginx access log', async (t) => {
  const s2 = await serveSim();
  try {
    const doc = parse(readFileSync('scenarios/seed/manifests/svc-deployment.yaml', 'utf8'));
    await s2.api('/apis/apps/v1/namespaces/default/deployments', {
      method: 'POST',
      body: doc,
    });
    s2.session.wait(10e9);
    const pod = s2.session.cluster.list('Pod', 'default')[0]!;
    const curl = await s2.session.exec(`curl -s ${pod.status.podIP}/hostname.html`, 'k8s-node01');
    t.is(curl.stdout, `${pod.metadata.name}\n`);
    const log = await (
      await s2.api(`/api/v1/namespaces/default/pods/${pod.metadata.name}/log`)
    ).text();
    t.regex(
      log,
      /^10\.0\.100\.11 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/hostname\.html HTTP\/1\.1" 200 \d+ "-" "curl\/[\d.]+" "-"\n$/,
    );
  } finally {
    await s2.close();
  }
});

test('continue pages follow the list order across namespaces whose names sort around "/"', async (t) => {
  for (const ns of ['a', 'a-b']) {
    await s.api('/api/v1/namespaces', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    for (const n of ['x', 'y']) {
      const r = await s.api(`/api/v1/namespaces/${ns}/configmaps`, {
        method: 'POST',
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: n, labels: { order: 'test' } },
          data: {},
        },
      });
      t.is(r.status, 201);
    }
  }
  const seen: string[] = [];
  let cont = '';
  do {
    const page = await json(
      await s.api(
        `/api/v1/configmaps?labelSelector=order%3Dtest&limit=1${cont ? `&continue=${cont}` : ''}`,
      ),
    );
    seen.push(...page['items'].map((o: any) => `${o.metadata.namespace}/${o.metadata.name}`));
    cont = page['metadata']['continue'] ?? '';
  } while (cont !== '');
  t.deepEqual(seen, ['a/x', 'a/y', 'a-b/x', 'a-b/y']);
});
