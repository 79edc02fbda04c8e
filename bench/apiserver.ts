// API server bench (not a test): issue #13's targets, measured over HTTPS on loopback.
//  - 10,000 Services x 10 endpoints: single-object GET latency (p50/p99) and
//    `kubectl get svc -A` (a 10k-row Table) end to end;
//  - one watch event's latency to 100 concurrent watchers (p99);
//  - `kubectl apply -f` of 1,000 Services on a live simulated cluster, until every
//    node's dataplane forwards to the last of them.
// Run: node --import=tsx --expose-gc bench/apiserver.ts [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { Cluster } from '../src/control/cluster.ts';
import { SECOND } from '../src/control/clock.ts';
import { kubeconfigText } from '../src/apiserver/kubeconfig.ts';
import type { ClusterRuntime } from '../src/apiserver/runtime.ts';
import { ApiServer } from '../src/apiserver/server.ts';
import { SimRuntime } from '../src/scenario/live-runtime.ts';
import { type ServingTls, makeServingTls } from '../src/apiserver/tls.ts';
import { Session } from '../src/scenario/session.ts';
import { manifests } from './control.ts';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';

const TOKEN = 'bench-token';

/** A runtime around a bare cluster (no network): what GET, list and watch need. */
class BareRuntime implements ClusterRuntime {
  readonly epochMs = Date.now();
  constructor(readonly cluster: Cluster) {}
  exec(): Promise<number> {
    return Promise.reject(new Error('no pods run here'));
  }
  logs(): undefined {
    return undefined;
  }
  nodeTool(): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    return Promise.resolve({ stdout: '', stderr: 'no nodes run here\n', exitCode: 1 });
  }
  write<T>(fn: () => T): T {
    return fn();
  }
}

function bigCluster(services: number, perService: number): Cluster {
  const nodes = 50;
  const cluster = new Cluster({
    seed: 42,
    nodes: [
      { name: 'master', ip: '10.0.0.1', controlPlane: true },
      ...Array.from({ length: nodes }, (_, i) => ({ name: `node${i}`, ip: `10.0.1.${i}` })),
    ],
    podCIDR: '10.128.0.0/9',
    nodeCIDRMaskSize: 20,
    podStartDelayNs: 0,
    podReadyDelayNs: 0,
    systemPods: false,
  });
  cluster.apply(manifests(services, perService), { settle: false });
  cluster.advance(2 * SECOND);
  return cluster;
}

interface Client {
  get(path: string, accept?: string): Promise<{ status: number; body: string }>;
  send(method: string, path: string, body: unknown, contentType: string): Promise<number>;
}

function client(port: number, tls: ServingTls): Client {
  const agent = new Agent({ keepAlive: true, ca: tls.caPem, maxSockets: 8 });
  const call = (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method,
          agent,
          headers: { authorization: `Bearer ${TOKEN}`, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    get: (path, accept = 'application/json') => call('GET', path, { accept }),
    send: async (method, path, body, contentType) =>
      (await call(method, path, { 'content-type': contentType }, JSON.stringify(body))).status,
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

function kubectlEnv(url: string, tls: ServingTls): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-bench-'));
  writeFileSync(
    join(dir, 'kubeconfig'),
    kubeconfigText({ server: url, token: TOKEN, caPem: tls.caPem }),
    { mode: 0o600 },
  );
  return { env: { ...process.env, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, dir };
}

/** Run kubectl without blocking this process's event loop (the server lives here too). */
function kubectlAsync(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ ms: number; status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('kubectl', args, { env, ...(cwd ? { cwd } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) =>
      resolve({ ms: performance.now() - t0, status: status ?? -1, out, err }),
    );
  });
}

async function readScale(
  services: number,
  figures: Figure[],
  log: (s: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const cluster = bigCluster(services, 10);
  log(
    `cluster: ${services} services x 10 pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const tls = makeServingTls();
  const server = new ApiServer({ runtime: new BareRuntime(cluster), token: TOKEN, tls, port: 0 });
  const port = await server.listen();
  const c = client(port, tls);
  try {
    // Single-object GETs, sequential over a kept-alive connection, in steady state (the
    // cluster's build leaves a heap to collect first).
    (globalThis as { gc?: () => void }).gc?.();
    const lat: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const name = `svc-${(i * 7919) % services}`;
      const t = performance.now();
      const r = await c.get(`/api/v1/namespaces/default/services/${name}`);
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`GET ${name}: ${r.status}`);
      if (i >= 1000) lat.push(ms); // after warm-up
    }
    log(
      `GET service: p50 ${pct(lat, 50).toFixed(3)} ms, p99 ${pct(lat, 99).toFixed(3)} ms (target p99 < 2 ms)`,
    );
    figures.push(
      figure('get-p99', 'ms', [pct(lat, 99)], { services }),
      figure('get-p50', 'ms', [pct(lat, 50)], { services }),
    );

    // The Table of every Service: over HTTP alone, and through kubectl end to end.
    const table: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await c.get(
        '/api/v1/services',
        'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      );
      table.push(performance.now() - t);
      if (r.status !== 200 || !r.body.includes(`svc-${services - 1}`))
        throw new Error('table incomplete');
    }
    log(`Table of ${services} services over HTTP: median ${pct(table, 50).toFixed(0)} ms`);
    figures.push(figure('table-http', 'ms', table, { services }));
    if (hasKubectl) {
      const { env, dir } = kubectlEnv(`https://127.0.0.1:${port}`, tls);
      const runs: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await kubectlAsync(['get', 'svc', '-A'], env);
        if (r.status !== 0 || r.out.split('\n').length < services)
          throw new Error(`kubectl get svc -A: ${r.err}`);
        if (i > 0) runs.push(r.ms); // the first run fills kubectl's discovery cache
      }
      rmSync(dir, { recursive: true, force: true });
      log(
        `kubectl get svc -A (${services} rows) end to end: median ${pct(runs, 50).toFixed(0)} ms (target < 1000 ms)`,
      );
      figures.push(figure('kubectl-get-svc-all', 'ms', runs, { services }));
    } else {
      log('kubectl not on PATH: kubectl get svc -A not measured');
    }

    // One event to 100 watchers.
    const watchers = 100;
    const arrivals: number[][] = [];
    const conns: { abort: () => void }[] = [];
    const agent = new Agent({ keepAlive: true, ca: tls.caPem, maxSockets: watchers + 1 });
    let sentAt = 0;
    let round = -1;
    await Promise.all(
      Array.from(
        { length: watchers },
        () =>
          new Promise<void>((ready, reject) => {
            const rv = cluster.store.resourceVersion;
            const req = request(
              {
                host: '127.0.0.1',
                port,
                agent,
                path: `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`,
                headers: { authorization: `Bearer ${TOKEN}` },
              },
              (res) => {
                let buf = '';
                res.setEncoding('utf8');
                res.on('data', (d: string) => {
                  buf += d;
                  let i;
                  while ((i = buf.indexOf('\n')) >= 0) {
                    buf = buf.slice(i + 1);
                    (arrivals[round] ??= []).push(performance.now() - sentAt);
                  }
                });
                ready();
              },
            );
            req.on('error', (e) => (conns.length < watchers ? reject(e) : undefined));
            req.end();
            conns.push({ abort: () => req.destroy() });
          }),
      ),
    );
    const rounds = 30;
    for (round = 0; round < rounds; round++) {
      sentAt = performance.now();
      const status = await c.send(
        'POST',
        '/api/v1/namespaces/default/configmaps',
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${round}` }, data: { a: 'b' } },
        'application/json',
      );
      if (status !== 201) throw new Error(`create configmap: ${status}`);
      const deadline = performance.now() + 2000;
      while ((arrivals[round]?.length ?? 0) < watchers && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
      if ((arrivals[round]?.length ?? 0) < watchers)
        throw new Error(
          `round ${round}: ${arrivals[round]?.length ?? 0} of ${watchers} watchers heard`,
        );
    }
    for (const x of conns) x.abort();
    const all = arrivals.flat();
    const last = arrivals.map((a) => Math.max(...a));
    log(
      `one event to ${watchers} watchers: p99 ${pct(all, 99).toFixed(1)} ms, last watcher p99 ${pct(last, 99).toFixed(1)} ms (target p99 < 50 ms)`,
    );
    figures.push(
      figure('watch-fanout-p99', 'ms', [pct(all, 99)], { services }),
      figure('watch-fanout-last', 'ms', last, { services }),
    );
  } finally {
    await server.close();
  }
}

async function applyScale(
  services: number,
  figures: Figure[],
  log: (s: string) => void,
): Promise<void> {
  if (!hasKubectl) {
    log('kubectl not on PATH: apply of many Services not measured');
    return;
  }
  const session = new Session({ mode: 'iptables', baseDir: process.cwd() });
  const runtime = new SimRuntime(session);
  const tls = makeServingTls();
  const server = new ApiServer({ runtime, token: TOKEN, tls, port: 0 });
  const port = await server.listen();
  runtime.start();
  const { env, dir } = kubectlEnv(`https://127.0.0.1:${port}`, tls);
  try {
    // A Deployment first, so every Service has endpoints to forward to.
    const deploy = await kubectlAsync(
      ['apply', '-f', 'scenarios/seed/manifests/svc-deployment.yaml'],
      env,
    );
    if (deploy.status !== 0) throw new Error(deploy.err);
    const docs = Array.from({ length: services }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `bulk-${i}` },
      spec: {
        selector: { app: 'myapp', release: 'stabel' },
        ports: [{ port: 80, targetPort: 80 }],
      },
    }));
    const file = join(dir, 'services.yaml');
    writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
    await new Promise((r) => setTimeout(r, 3000)); // the pods come up
    const t0 = performance.now();
    const r = await kubectlAsync(['apply', '-f', file], env);
    const applied = performance.now() - t0;
    if (
      r.status !== 0 ||
      r.out.split('\n').filter((l) => l.endsWith('created')).length !== services
    ) {
      throw new Error(`kubectl apply: ${r.err.slice(0, 500)}`);
    }
    // Until every node forwards the last Service's ClusterIP to a backend.
    const last = session.cluster.get('Service', 'default', `bulk-${services - 1}`)!.spec.clusterIP!;
    const nodes = [...session.net.nodes.keys()];
    const ok = new Set<string>();
    while (ok.size < nodes.length && performance.now() - t0 < 60_000) {
      for (const n of nodes) {
        if (ok.has(n)) continue;
        const c = await session.exec(`curl -s -m 1 http://${last}/hostname.html`, n);
        if (c.exitCode === 0 && c.stdout.startsWith('myapp-deploy-')) ok.add(n);
      }
      if (ok.size < nodes.length) await new Promise((res) => setTimeout(res, 20));
    }
    const total = performance.now() - t0;
    if (ok.size < nodes.length) throw new Error('the dataplanes never forwarded the last Service');
    // Spot-check that the others work too.
    for (let i = 0; i < services; i += Math.max(1, Math.floor(services / 25))) {
      const ip = session.cluster.get('Service', 'default', `bulk-${i}`)!.spec.clusterIP!;
      const c = await session.exec(
        `curl -s -m 1 http://${ip}/hostname.html`,
        nodes[i % nodes.length]!,
      );
      if (c.exitCode !== 0) throw new Error(`bulk-${i} (${ip}) does not answer: ${c.stderr}`);
    }
    log(
      `kubectl apply -f of ${services} Services: ${(applied / 1000).toFixed(2)} s; every node forwarding: ${(total / 1000).toFixed(2)} s (target < 10 s)`,
    );
    figures.push(
      figure('kubectl-apply', 's', [applied / 1000], { services }),
      figure('apply-to-dataplane', 's', [total / 1000], { services }),
    );
  } finally {
    runtime.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function apiserverBench(
  quick: boolean,
  log: (s: string) => void = console.log,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  await readScale(quick ? 1_000 : 10_000, figures, log);
  await applyScale(quick ? 100 : 1_000, figures, log);
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await apiserverBench(isQuick());
  printSuiteResult({ suite: 'apiserver', figures });
  process.exit(0);
}
