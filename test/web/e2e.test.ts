// The web view end to end (issue #17's acceptance list): headless chromium opens the page
// of a live simulated cluster with the seed's manifests, through the one-time login URL,
// and sees the nodes, pods and the myapp Service's endpoint edges; sends a journey
// client → myapp:80 and sees the DNAT to a pod and the reply; sees `kubectl scale` to 5
// within 2 s; sees the REJECT of a Service without endpoints; finds the rules the journey
// hit marked in the node's tables; and compares the modes. Screenshots go to tmp/web-e2e/.
// Skipped, with the reason printed, when chromium is missing.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { kubeconfigText } from '../../src/apiserver/kubeconfig.ts';
import {
  type Browser,
  type WebServed,
  browserMissing,
  launchBrowser,
  openPage,
  screenshot,
  serveWeb,
} from './fixture.ts';

const missing = browserMissing();
if (missing !== undefined) console.log(`web end-to-end tests skipped: ${missing}`);
const bt = missing === undefined ? test.serial : test.serial.skip;
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

let s: WebServed;
let browser: Browser;
let page: Page;

test.before(async () => {
  if (missing !== undefined) return;
  s = await serveWeb({ mode: 'iptables' });
  browser = await launchBrowser();
});
test.after.always(async () => {
  if (missing !== undefined) return;
  await browser?.close();
  await s?.close();
});

const count = (p: Page, selector: string) => p.locator(selector).count();
/** The page's document, as the functions run in the page see it (this file has no DOM types). */
interface Doc {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
}
/** Wait until `selector` matches exactly `n` elements (throws after `ms`). */
const waitCount = (p: Page, selector: string, n: number, ms = 5000) =>
  p.waitForFunction(
    ([sel, want]) =>
      (globalThis as unknown as { document: Doc }).document.querySelectorAll(sel).length === want,
    [selector, n] as [string, number],
    { timeout: ms },
  );
/** Wait until the modes comparison shows the result for `n` extra Services. */
const waitCompared = (p: Page, n: number) =>
  p.waitForFunction(
    (want) =>
      (globalThis as unknown as { document: Doc }).document
        .querySelector('.compare p.muted')
        ?.textContent?.includes(`with ${want} extra`) === true,
    n,
    { timeout: 30_000 },
  );

function myappPods(): { name: string; ip: string }[] {
  return s.session.cluster
    .list('Pod', 'default')
    .filter((p) => p.metadata.labels?.['app'] === 'myapp' && p.status.podIP !== undefined)
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP! }));
}

async function journey(p: Page, from: string, to: string): Promise<void> {
  await p.locator('[data-tab=topology]').click();
  await p.selectOption('select[name=from]', from);
  await p.fill('input[name=to]', to);
  await Promise.all([
    p.waitForResponse((r) => r.url().endsWith('/svclab/v1/journeys')),
    p.locator('.journey-form button[type=submit]').click(),
  ]);
  await p.waitForSelector('.journey-result');
}

bt('the login URL works once; without it the page and its data are refused', async (t) => {
  const url = s.server.web.loginUrl();
  const ctx = browser.context;
  const first = await ctx.request.get(url, { maxRedirects: 0 });
  t.is(first.status(), 303);
  const cookie = first.headers()['set-cookie'] ?? '';
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Strict/);
  t.regex(cookie, /Secure/);
  t.is((await ctx.request.get(url, { maxRedirects: 0 })).status(), 401, 'a second use fails');
  // A fresh browser context has no cookie: the page and the API say 401.
  const anon = await (
    await import('playwright-core')
  ).request.newContext({
    ignoreHTTPSErrors: true,
  });
  t.is((await anon.get(`${s.url}/ui/`)).status(), 401);
  t.is((await anon.get(`${s.url}/api/v1/pods`)).status(), 401);
  t.is((await anon.get(`${s.url}/ui/app.js`)).status(), 401);
  await anon.dispose();
  // With the cookie: data needs the X-Svclab-Web header; writes are refused.
  t.is((await ctx.request.get(`${s.url}/api/v1/pods`)).status(), 403);
  t.is(
    (await ctx.request.get(`${s.url}/api/v1/pods`, { headers: { 'X-Svclab-Web': '1' } })).status(),
    200,
  );
  const write = await ctx.request.post(`${s.url}/api/v1/namespaces/default/configmaps`, {
    headers: { 'X-Svclab-Web': '1', 'Content-Type': 'application/json' },
    data: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
  });
  t.is(write.status(), 403);
});

bt(
  'the page shows 3 nodes, the myapp pods and the myapp Service with 3 endpoint edges',
  async (t) => {
    page = await openPage(browser.context, s);
    await waitCount(page, '[data-node]', 3);
    t.is(await count(page, '[data-node]'), 3);
    for (const n of ['k8s-master01', 'k8s-node01', 'k8s-node02']) {
      t.regex(
        (await page.locator(`[data-node=${n}] .node-head`).textContent()) ?? '',
        /10\.0\.100\.1[012]/,
      );
    }
    const pods = myappPods();
    t.is(pods.length, 3);
    await waitCount(page, '[data-pod^="default/myapp-deploy-"].ready', 3);
    for (const p of pods) {
      t.regex(
        (await page.locator(`[data-pod="default/${p.name}"]`).textContent()) ?? '',
        new RegExp(p.ip.replace(/\./g, '\\.')),
      );
    }
    await page.waitForSelector('[data-service="default/myapp"]');
    await waitCount(page, 'path[data-edge=endpoint][data-service="default/myapp"]', 3);
    const targets = await page
      .locator('path[data-edge=endpoint][data-service="default/myapp"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-to')).sort());
    t.deepEqual(targets, pods.map((p) => `default/${p.name}`).sort());
    const fcp = await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
    );
    t.log(`first contentful paint: ${fcp.toFixed(0)} ms (seed cluster, localhost)`);
    t.log(`screenshot: ${await screenshot(page, 'topology')}`);
  },
);

bt('three tabs at once: each page holds one watch, so none starves', async (t) => {
  const more = [await openPage(browser.context, s), await openPage(browser.context, s)];
  try {
    for (const p of more) await waitCount(p, '[data-node]', 3);
    const third = more[1]!;
    await third.locator('[data-tab=tables]').click();
    await third.waitForSelector('pre.tool-out[data-tool=iptables-save] .line', { timeout: 5000 });
    t.regex((await third.locator('pre.tool-out').textContent()) ?? '', /KUBE-SERVICES/);
  } finally {
    for (const p of more) await p.close();
  }
});

bt('a journey client → myapp:80 shows the DNAT to a pod IP and the reply', async (t) => {
  await journey(page, 'client', 'myapp:80');
  t.is(await page.locator('.journey-result').getAttribute('data-outcome'), 'answered');
  const ips = myappPods().map((p) => p.ip);
  const nat = (await page.locator('.hop td.nat').allTextContents()).find((n) =>
    n.startsWith('DNAT'),
  );
  t.truthy(nat, 'a DNAT is shown');
  const to = /→ (\d+\.\d+\.\d+\.\d+):80/.exec(nat!)?.[1];
  t.true(ips.includes(to!), `DNAT to ${to}, a myapp pod (${ips.join(', ')})`);
  t.true((await count(page, '.hop.reply')) > 0, 'the reply crosses back');
  t.regex((await page.locator('.hop.reply').first().textContent()) ?? '', /SYN,ACK/);
  t.true((await count(page, '[data-conntrack]')) > 0, 'the conntrack entry is shown');
  t.regex((await page.locator('.stdout').textContent()) ?? '', /Hello MyApp/);
  // The first hop walked the rules: the KUBE-SERVICES rule for myapp among them.
  t.regex((await page.locator('.hop').first().locator('.steps').textContent()) ?? '', /KUBE-SVC-/);
  t.log(`screenshot: ${await screenshot(page, 'journey')}`);
});

bt('kubectl scale to 5 shows 5 pods within 2 s', async (t) => {
  const t0 = Date.now();
  if (hasKubectl) {
    const home = mkdtempSync(join(tmpdir(), 'svclab-web-kubectl-'));
    const kubeconfig = join(home, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      kubeconfigText({ server: s.url, token: s.token, caPem: s.tls.caPem }),
      {
        mode: 0o600,
      },
    );
    // Async: the server answers kubectl on this same event loop.
    const { spawn } = await import('node:child_process');
    const code = await new Promise<number>((resolve) => {
      const c = spawn('kubectl', ['scale', 'deployment', 'myapp-deploy', '--replicas=5'], {
        env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig },
        stdio: 'ignore',
      });
      c.on('exit', (n) => resolve(n ?? 1));
    });
    rmSync(home, { recursive: true, force: true });
    t.is(code, 0);
  } else {
    t.log('kubectl is not on PATH: scaling through the API instead');
    const r = await s.api('/apis/apps/v1/namespaces/default/deployments/myapp-deploy/scale', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: { spec: { replicas: 5 } },
    });
    t.is(r.status, 200);
  }
  const done = Date.now();
  await waitCount(page, '[data-pod^="default/myapp-deploy-"]', 5, 2000);
  t.is(await count(page, '[data-pod^="default/myapp-deploy-"]'), 5);
  t.log(
    `5 pods on the page ${Date.now() - done} ms after the scale returned (${done - t0} ms for kubectl)`,
  );
});

bt('a Service without endpoints shows the REJECT', async (t) => {
  const r = await s.api('/api/v1/namespaces/default/services', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nobody' },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 80 }] },
    },
  });
  t.is(r.status, 201);
  await page.waitForSelector('[data-service="default/nobody"] [data-endpoints="0"]', {
    timeout: 2000,
  });
  await journey(page, 'client', 'nobody:80');
  t.is(await page.locator('.journey-result').getAttribute('data-outcome'), 'rejected');
  const drop = page.locator('.hop[data-verdict=drop]');
  t.is(await drop.count(), 1);
  t.is(await drop.locator('[data-drop]').getAttribute('data-drop'), 'rule-reject');
  t.regex((await drop.textContent()) ?? '', /port-unreachable/);
  t.regex((await drop.locator('.steps').textContent()) ?? '', /REJECT/);
  t.regex((await page.locator('.outcome').textContent()) ?? '', /no ready endpoints/);
  t.log(`screenshot: ${await screenshot(page, 'reject')}`);
});

bt("the node's tables mark the rules the last journey hit", async (t) => {
  await page.locator('[data-tab=tables]').click();
  await page.waitForSelector('pre.tool-out[data-tool=iptables-save] .line');
  await page.waitForSelector('.line[data-hit]');
  const hit = await page.locator('.line[data-hit]').allTextContents();
  t.true(
    hit.some((l) => /-j REJECT/.test(l) && /nobody/.test(l)),
    hit.join('\n'),
  );
  await page.locator('[data-tool="conntrack -L"]').click();
  await page.waitForSelector('pre.tool-out[data-tool="conntrack -L"]');
  t.regex((await page.locator('pre.tool-out').textContent()) ?? '', /tcp\s+6/);
  t.log(`screenshot: ${await screenshot(page, 'tables')}`);
});

bt('modes side by side: iptables compares more rules as Services are added', async (t) => {
  await page.locator('[data-tab=modes]').click();
  await page.fill('.compare input:not([type])', 'myapp:80');
  const visited = async () => {
    await page.waitForSelector('[data-mode=iptables][data-visited]');
    return Object.fromEntries(
      await page
        .locator('[data-mode]')
        .evaluateAll((els) =>
          els.map((e) => [e.getAttribute('data-mode'), Number(e.getAttribute('data-visited'))]),
        ),
    ) as Record<string, number>;
  };
  await page.locator('[data-slider]').fill('0');
  await waitCompared(page, 0);
  const few = await visited();
  await page.locator('[data-slider]').fill('4'); // 300 extra Services
  await waitCompared(page, 300);
  const many = await visited();
  t.log(
    `rules/lookups visited, 0 → 300 extra Services: ${JSON.stringify(few)} → ${JSON.stringify(many)}`,
  );
  t.true(many['iptables']! >= few['iptables']! + 120, 'the iptables walk grows with the Services');
  t.true(many['nftables']! <= few['nftables']! + 2, 'the nftables map lookup does not');
  t.true(many['ipvs']! <= few['ipvs']! + 2, 'the ipvs hash lookup does not');
  t.log(`screenshot: ${await screenshot(page, 'modes')}`);
});

bt('the benchmarks tab shows the latest run’s charts', async (t) => {
  const index = await s.api('/svclab/v1/bench');
  await page.locator('[data-tab=bench]').click();
  if (index.status === 404) {
    await page.waitForSelector('main.bench');
    t.regex((await page.locator('main.bench').textContent()) ?? '', /No benchmark run yet/);
    return;
  }
  const charts = ((await index.json()) as { charts: unknown[] }).charts.length;
  t.true(charts > 0);
  await waitCount(page, 'figure[data-chart] img', charts);
  await page.waitForFunction(() =>
    [
      ...(
        globalThis as unknown as {
          document: { querySelectorAll(s: string): Iterable<{ naturalWidth: number }> };
        }
      ).document.querySelectorAll('figure[data-chart] img'),
    ].some((i) => i.naturalWidth > 0),
  );
  t.log(`screenshot: ${await screenshot(page, 'bench')}`);
});
