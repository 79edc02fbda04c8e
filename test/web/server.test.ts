// The web view's server side without a browser: the one-time login and what a session
// may do, the login token kept out of the request log, the journey endpoint in every
// proxy mode (answered through a DNAT, rejected without endpoints, refused for headless
// and ExternalName Services), the modes comparison and the bench index.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigText } from '../../src/apiserver/kubeconfig.ts';
import type { CompareResult, Journey } from '../../src/apiserver/web-contract.ts';
import { fetchLoginUrl } from '../../src/cli/web.ts';
import { httpsFetch } from '../apiserver/fixture.ts';
import { SEED, type WebServed, serveWeb } from './fixture.ts';

const get = (s: WebServed, path: string, headers: Record<string, string> = {}) =>
  httpsFetch(`${s.url}${path}`, 'GET', headers, undefined, s.tls.caPem);

/** GET with the raw response headers (Set-Cookie is a list). */
function rawGet(
  s: WebServed,
  path: string,
): Promise<{ status: number; cookie: string; location: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { ca: s.tls.caPem }, (res) => {
      res.resume();
      resolve({
        status: res.statusCode ?? 0,
        cookie: (res.headers['set-cookie'] ?? []).join('\n'),
        location: res.headers.location ?? '',
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function myappIps(s: WebServed): string[] {
  return s.session.cluster
    .list('Pod', 'default')
    .filter((p) => p.metadata.labels?.['app'] === 'myapp')
    .map((p) => p.status.podIP!);
}

test('a login URL works once, for an HttpOnly cookie; the token never reaches the log', async (t) => {
  const lines: string[] = [];
  const s = await serveWeb({ log: (l) => lines.push(l) });
  try {
    const url = s.server.web.loginUrl();
    const token = new URL(url).searchParams.get('token')!;
    t.true(token.length >= 32);
    const path = `/ui/login?token=${token}`;
    const first = await rawGet(s, path);
    t.is(first.status, 303);
    t.is(first.location, '/ui/');
    const cookie = first.cookie;
    t.regex(cookie, /^svclab-session-\d+=[\w-]{40,}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    t.is((await get(s, path)).status, 401, 'used up');
    t.is((await get(s, '/ui/login?token=guess')).status, 401);
    await new Promise((r) => setTimeout(r, 50));
    t.true(
      lines.some((l) => l.startsWith('GET /ui/login 303')),
      lines.join('\n'),
    );
    t.false(
      lines.some((l) => l.includes(token)),
      'the login token is not logged',
    );
    t.false(lines.some((l) => l.includes('guess')));

    const session = cookie.split(';')[0]!;
    t.is((await get(s, '/ui/')).status, 401, 'no credential');
    const page = await get(s, '/ui/', { cookie: session });
    t.is(page.status, 200);
    t.regex(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
    t.regex(await page.text(), /<script type="module" src="\/ui\/app.js">/);
    const js = await get(s, '/ui/app.js', { cookie: session });
    t.is(js.status, 200);
    t.regex(js.headers.get('content-type')!, /javascript/);
    t.true((await js.text()).length > 10_000, 'the bundle, with Preact inside');
    // Data needs the header; writes to Kubernetes objects and minting logins need the token.
    t.is((await get(s, '/api/v1/pods', { cookie: session })).status, 403);
    t.is((await get(s, '/api/v1/pods', { cookie: session, 'x-svclab-web': '1' })).status, 200);
    t.is(
      (await get(s, '/api/v1/pods', { cookie: 'svclab-session-1=forged', 'x-svclab-web': '1' }))
        .status,
      401,
    );
    const post = (path: string, body: unknown) =>
      httpsFetch(
        `${s.url}${path}`,
        'POST',
        { cookie: session, 'x-svclab-web': '1', 'content-type': 'application/json' },
        JSON.stringify(body),
        s.tls.caPem,
      );
    t.is((await post('/api/v1/namespaces/default/configmaps', { kind: 'ConfigMap' })).status, 403);
    t.is((await post('/svclab/v1/web/login', {})).status, 403);
    t.is((await post('/svclab/v1/journeys', { from: 'client', to: 'myapp:80' })).status, 200);
    const minted = await s.api('/svclab/v1/web/login', { method: 'POST' });
    t.is(minted.status, 200);
    t.regex(
      ((await minted.json()) as { url: string }).url,
      /^https:\/\/127\.0\.0\.1:\d+\/ui\/login\?token=/,
    );
  } finally {
    await s.close();
  }
});

for (const mode of ['iptables', 'ipvs', 'nftables'] as const) {
  test(`${mode}: a journey client → myapp:80 is DNATed to a pod and answered; a Service without endpoints rejects`, async (t) => {
    const s = await serveWeb({
      mode,
      files: [
        join(SEED, 'svc-deployment.yaml'),
        join(SEED, 'svc.yaml'),
        join(SEED, 'svc-none.yaml'),
        join(SEED, 'ex.yaml'),
      ],
    });
    try {
      const r = await s.api('/svclab/v1/journeys', {
        method: 'POST',
        body: { from: 'client', to: 'myapp:80' },
      });
      t.is(r.status, 200);
      const j = (await r.json()) as Journey;
      t.is(j.outcome, 'answered', j.summary);
      t.regex(j.stdout, /Hello MyApp/);
      t.true(myappIps(s).includes(j.backend!.ip), `backend ${j.backend?.ip}`);
      const first = j.hops[0]!;
      t.is(first.node, 'k8s-master01');
      t.is(first.before.flags, 'SYN');
      t.is(first.ct, 'new');
      t.true(
        first.nat.some((n) => n.startsWith(`DNAT ${j.dst} → ${j.backend!.ip}:80`)),
        first.nat.join('; '),
      );
      t.true(first.trace.length > 0, 'the rules walked');
      if (mode === 'ipvs')
        t.true(
          first.trace.some((x) => x.table === 'ipvs' && x.result === `${j.backend!.ip}:80`),
          JSON.stringify(first.trace),
        );
      else
        t.true(
          first.trace.some((x) => x.text.includes('default/myapp')),
          JSON.stringify(first.trace),
        );
      const reply = j.hops.find((h) => h.direction === 'reply' && h.before.flags === 'SYN,ACK');
      t.truthy(reply, 'the SYN-ACK comes back');
      t.true(
        j.hops.some((h) => h.direction === 'reply' && h.nat.some((n) => n.startsWith('un-DNAT'))),
        'un-NATed on the way back',
      );
      t.true(
        j.conntrack.some(
          (c) => c.node === 'k8s-master01' && c.entry.includes(`dst=${j.dst.split(':')[0]}`),
        ),
      );
      // Every hop of the client's connection is a request or its reply: nothing else crossed.
      t.true(j.hops.every((h) => h.leg === 0));

      await s.api('/api/v1/namespaces/default/services', {
        method: 'POST',
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'nobody' },
          spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] },
        },
      });
      await new Promise((res) => setTimeout(res, 1500)); // the proxiers' sync (min-sync-period 1 s)
      const rej = (await (
        await s.api('/svclab/v1/journeys', {
          method: 'POST',
          body: { from: 'client', to: 'nobody:80' },
        })
      ).json()) as Journey;
      t.is(rej.outcome, 'rejected', rej.summary);
      const drop = rej.hops.find((h) => h.verdict === 'drop');
      t.is(drop?.drop, 'rule-reject');
      t.is(drop?.emitted[0]?.flags, 'port-unreachable');

      for (const [to, why] of [
        ['myapp-headless:80', /headless/],
        ['my-service-1:80', /ExternalName/],
        ['nope:80', /no Service default\/nope/],
        ['what is this', /is not NAME:PORT/],
      ] as const) {
        const bad = await s.api('/svclab/v1/journeys', {
          method: 'POST',
          body: { from: 'client', to },
        });
        t.is(bad.status, 400, to);
        t.regex(((await bad.json()) as { message: string }).message, why);
      }
    } finally {
      await s.close();
    }
  });
}

test('a journey from outside to a NodePort, and from a pod', async (t) => {
  const s = await serveWeb({
    files: [join(SEED, 'svc-deployment.yaml'), join(SEED, 'nodeport.yaml')],
  });
  try {
    const svc = s.session.cluster
      .list('Service', 'default')
      .find((x) => x.spec.type === 'NodePort')!;
    const np = svc.spec.ports![0]!.nodePort!;
    const j = (await (
      await s.api('/svclab/v1/journeys', {
        method: 'POST',
        body: { from: 'external', to: `10.0.100.11:${np}` },
      })
    ).json()) as Journey;
    t.is(j.outcome, 'answered', j.summary);
    t.is(j.hops[0]!.from, 'router');
    t.is(j.hops[0]!.node, 'k8s-node01');
    t.true(myappIps(s).includes(j.backend!.ip));
    const pod = s.session.cluster
      .list('Pod', 'default')
      .find((p) => p.metadata.labels?.['app'] === 'myapp')!;
    const fromPod = (await (
      await s.api('/svclab/v1/journeys', {
        method: 'POST',
        body: {
          from: `pod/default/${pod.metadata.name}`,
          to: `${svc.spec.clusterIP}:${svc.spec.ports![0]!.port}`,
        },
      })
    ).json()) as Journey;
    t.is(fromPod.outcome, 'answered', fromPod.summary);
    t.is(fromPod.hops[0]!.from, `pod/default/${pod.metadata.name}`);
  } finally {
    await s.close();
  }
});

test('modes side by side: the iptables walk grows with the Services, the lookups do not', async (t) => {
  const s = await serveWeb();
  try {
    const run = async (services: number) => {
      const r = await s.api('/svclab/v1/compare', {
        method: 'POST',
        body: { services, to: 'myapp:80' },
      });
      t.is(r.status, 200);
      return Object.fromEntries(((await r.json()) as CompareResult).modes.map((m) => [m.mode, m]));
    };
    const few = await run(0);
    const many = await run(400);
    for (const m of ['iptables', 'ipvs', 'nftables']) t.regex(few[m]!.result, /^DNAT /);
    t.true(
      many['iptables']!.visited >= few['iptables']!.visited + 150,
      `${few['iptables']!.visited} → ${many['iptables']!.visited}`,
    );
    t.is(many['ipvs']!.visited, few['ipvs']!.visited);
    t.is(many['nftables']!.visited, few['nftables']!.visited);
    t.true(many['iptables']!.tableSize >= few['iptables']!.tableSize + 400 * 4);
    t.is(
      (await s.api('/svclab/v1/compare', { method: 'POST', body: { services: -1 } })).status,
      400,
    );
  } finally {
    await s.close();
  }
});

test('the bench index lists the newest run and serves its charts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-bench-'));
  const s = await serveWeb({ benchDir: dir, files: [] });
  try {
    t.is((await s.api('/svclab/v1/bench')).status, 404, 'no run yet');
    for (const [name, date] of [
      ['old', '2026-01-01T00:00:00Z'],
      ['new', '2026-02-01T00:00:00Z'],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(
        join(dir, name, 'results.json'),
        JSON.stringify({ date, commit: name, argv: ['--quick'] }),
      );
      writeFileSync(
        join(dir, name, 'classify.svg'),
        `<svg xmlns="http://www.w3.org/2000/svg"><text>${name}</text></svg>`,
      );
    }
    const index = (await (await s.api('/svclab/v1/bench')).json()) as {
      commit: string;
      charts: { suite: string; url: string }[];
    };
    t.is(index.commit, 'new');
    t.deepEqual(index.charts, [{ suite: 'classify', url: '/svclab/v1/bench/charts/classify.svg' }]);
    const chart = await s.api(index.charts[0]!.url);
    t.is(chart.headers.get('content-type'), 'image/svg+xml');
    t.regex(await chart.text(), /new/);
    t.is((await s.api('/svclab/v1/bench/charts/..%2Fx.svg')).status, 404);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an Ingress rule: from outside through the NodePort to ingress-nginx, then its own connection to the backend', async (t) => {
  const files = [
    'ingress/mandatory.yaml',
    'ingress/service-nodeport.yaml',
    'ingress-vh/deployment.yaml',
    'ingress-vh/deployment2.yaml',
    'ingressrule.yaml',
  ].map((f) => join(SEED, f));
  // The seed's release: its extensions/v1beta1 Ingresses apply.
  const s = await serveWeb({ files, cluster: { kubernetesVersion: 'v1.15.1' } });
  try {
    const r = await s.api('/svclab/v1/journeys', {
      method: 'POST',
      body: { from: 'external', to: 'http://www1.atguigu.com/' },
    });
    const j = (await r.json()) as Journey;
    t.is(j.outcome, 'answered', j.summary);
    t.regex(j.command, /-H 'Host: www1.atguigu.com' http:\/\/10\.0\.100\.10:\d+\//);
    t.regex(j.stdout, /Version: v1/);
    t.deepEqual([...new Set(j.hops.map((h) => h.leg))], [0, 1]);
    const upstream = j.hops.find((h) => h.leg === 1)!;
    t.regex(upstream.from, /^pod\/ingress-nginx\//);
    t.regex(j.summary, /proxied the request to default\/deployment1-/);
  } finally {
    await s.close();
  }
});

test('svclab web-login asks the running cluster for a fresh login URL with the kubeconfig', async (t) => {
  const s = await serveWeb({ files: [] });
  const dir = mkdtempSync(join(tmpdir(), 'svclab-web-login-'));
  try {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfigText({ server: s.url, token: s.token, caPem: s.tls.caPem }), {
      mode: 0o600,
    });
    const url = await fetchLoginUrl(file);
    t.true(url.startsWith(`${s.url}/ui/login?token=`), url);
    const path = url.slice(s.url.length);
    t.is((await rawGet(s, path)).status, 303);
    t.is((await rawGet(s, path)).status, 401);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the page’s one watch stream follows every kind from its list’s version', async (t) => {
  const s = await serveWeb();
  try {
    const list = (await (await s.api('/api/v1/pods')).json()) as {
      metadata: { resourceVersion: string };
    };
    const svcs = (await (await s.api('/api/v1/services')).json()) as {
      metadata: { resourceVersion: string };
    };
    t.is((await s.api('/svclab/v1/web/watch')).status, 400, 'no kinds named');
    const lines: { kind: string; type: string; object: { metadata: { name: string } } }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        `${s.url}/svclab/v1/web/watch?pods=${list.metadata.resourceVersion}&services=${svcs.metadata.resourceVersion}`,
        { ca: s.tls.caPem, headers: { authorization: `Bearer ${s.token}` } },
        (res) => {
          let buf = '';
          res.on('data', (c: Buffer) => {
            buf += c.toString();
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              lines.push(JSON.parse(buf.slice(0, nl)) as (typeof lines)[number]);
              buf = buf.slice(nl + 1);
              const pods = lines.filter((l) => l.kind === 'pods' && l.type === 'ADDED').length;
              if (pods >= 2 && lines.some((l) => l.kind === 'services')) {
                req.destroy();
                resolve();
              }
            }
          });
        },
      );
      req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
      req.end();
    });
    const scaled = await s.api('/apis/apps/v1/namespaces/default/deployments/myapp-deploy/scale', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: { spec: { replicas: 5 } },
    });
    t.is(scaled.status, 200);
    await s.api('/api/v1/namespaces/default/services', {
      method: 'POST',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'w' },
        spec: { ports: [{ port: 80 }] },
      },
    });
    await done;
    const added = lines.filter((l) => l.kind === 'pods' && l.type === 'ADDED');
    t.true(added.every((l) => l.object.metadata.name.startsWith('myapp-deploy-')));
    t.true(
      lines.some(
        (l) => l.kind === 'services' && l.type === 'ADDED' && l.object.metadata.name === 'w',
      ),
    );
  } finally {
    await s.close();
  }
});

test("the page's lists at any release: a v1.15 cluster serves kubectl no networking.k8s.io/v1, the page still gets its Ingresses", async (t) => {
  const files = ['ingress/mandatory.yaml', 'ingress-vh/deployment.yaml', 'ingressrule.yaml'].map(
    (f) => join(SEED, f),
  );
  const s = await serveWeb({ files, cluster: { kubernetesVersion: 'v1.15.1' } });
  try {
    t.is((await s.api('/apis/networking.k8s.io/v1/ingresses')).status, 404);
    const r = await s.api('/svclab/v1/web/list/ingresses');
    t.is(r.status, 200);
    const list = (await r.json()) as { items: { metadata: { name: string } }[] };
    t.deepEqual(
      list.items.map((i) => i.metadata.name),
      ['ingress1', 'ingress2'],
    );
    const slices = (await (await s.api('/svclab/v1/web/list/endpointslices')).json()) as {
      items: unknown[];
    };
    t.true(slices.items.length > 0);
    t.is((await s.api('/svclab/v1/web/list/secrets')).status, 404, 'only the kinds the page shows');
  } finally {
    await s.close();
  }
});
