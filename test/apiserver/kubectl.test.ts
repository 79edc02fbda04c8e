// The real kubectl against `svclab serve`'s API, running the seed walkthrough's commands
// verbatim in the seed's manifest folder. Skipped, with the reason printed, when kubectl
// is not on PATH.
import test from 'ava';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubeconfigText } from '../../src/apiserver/kubeconfig.ts';
import { type Served, serveSim } from './fixture.ts';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!hasKubectl) console.log('kubectl tests skipped: kubectl is not on PATH');
const kt = hasKubectl ? test.serial : test.serial.skip;

const MANIFESTS = resolve('scenarios/seed/manifests');
let s: Served;
let home: string;
let env: NodeJS.ProcessEnv;
let seed: Served;
let seedEnv: NodeJS.ProcessEnv;

test.before(async () => {
  if (!hasKubectl) return;
  s = await serveSim({ mode: 'ipvs', live: true });
  home = mkdtempSync(join(tmpdir(), 'svclab-kubectl-'));
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText({ server: s.url, token: s.token, caPem: s.tls.caPem }), {
    mode: 0o600,
  });
  env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig };
  // The seed's cluster: v1.15, which still serves the extensions/v1beta1 files verbatim.
  seed = await serveSim({ mode: 'ipvs', live: true, kubernetesVersion: 'v1.15.1' });
  const seedConfig = join(home, 'kubeconfig-v1.15');
  writeFileSync(
    seedConfig,
    kubeconfigText({ server: seed.url, token: seed.token, caPem: seed.tls.caPem }),
    { mode: 0o600 },
  );
  seedEnv = { ...process.env, HOME: home, KUBECONFIG: seedConfig };
});
test.after.always(async () => {
  if (!hasKubectl) return;
  await s.close();
  await seed.close();
  rmSync(home, { recursive: true, force: true });
});

interface Run {
  stdout: string;
  stderr: string;
  status: number;
}

function kubectl(line: string, input?: string, on = env): Promise<Run> {
  const args = line.split(' ').slice(1);
  return new Promise((done) => {
    const child = spawn('kubectl', args, { cwd: MANIFESTS, env: on });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.on('close', (status) => done({ stdout, stderr, status: status ?? -1 }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll a kubectl command until its output satisfies `ok` (the cluster runs in real time). */
async function until(line: string, ok: (r: Run) => boolean, ms = 15_000, on = env): Promise<Run> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await kubectl(line, undefined, on);
    if (ok(r) || Date.now() > deadline) return r;
    await sleep(250);
  }
}

const runningPods = (r: Run): string[][] =>
  r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/))
    .filter((c) => c[2] === 'Running' && c[1] === '1/1');

kt(
  'kubectl apply -f svc-deployment.yaml creates the Deployment; get pod -o wide shows 3 pods with IPs and nodes',
  async (t) => {
    const r = await kubectl('kubectl apply -f svc-deployment.yaml');
    t.is(r.stdout, 'deployment.apps/myapp-deploy created\n', r.stderr);
    const pods = await until('kubectl get pod -o wide', (x) => runningPods(x).length === 3);
    t.regex(
      pods.stdout,
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/,
    );
    const rows = runningPods(pods);
    t.is(rows.length, 3, pods.stdout);
    for (const row of rows) {
      t.regex(row[0]!, /^myapp-deploy-[a-z0-9]+-[a-z0-9]{5}$/);
      t.regex(row[5]!, /^10\.244\.\d+\.\d+$/);
      t.regex(row[6]!, /^k8s-node0[12]$/);
    }
  },
);

kt(
  'kubectl apply -f svc.yaml, get svc, get svc,ep; a second apply is unchanged, a changed one configured',
  async (t) => {
    t.is((await kubectl('kubectl apply -f svc.yaml')).stdout, 'service/myapp created\n');
    const svc = await kubectl('kubectl get svc');
    t.regex(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
    t.regex(svc.stdout, /\nmyapp\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s\n/);
    t.regex(svc.stdout, /\nkubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
    const both = await until('kubectl get svc,ep', (x) =>
      /endpoints\/myapp\s+10\.244\.\d+\.\d+:80,10\.244/.test(x.stdout),
    );
    t.regex(both.stdout, /service\/myapp\s+ClusterIP/);
    t.regex(
      both.stdout,
      /endpoints\/myapp\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80\s/,
    );
    t.is((await kubectl('kubectl apply -f svc.yaml')).stdout, 'service/myapp unchanged\n');
    const changed = join(home, 'svc-changed.yaml');
    writeFileSync(
      changed,
      (await import('node:fs'))
        .readFileSync(join(MANIFESTS, 'svc.yaml'), 'utf8')
        .replace('port: 80', 'port: 8080'),
    );
    const c = await kubectl(`kubectl apply -f ${changed}`);
    t.is(c.stdout, 'service/myapp configured\n', c.stderr);
    t.is(s.session.cluster.get('Service', 'default', 'myapp')!.spec.ports[0]!.port, 8080);
    t.is((await kubectl('kubectl apply -f svc.yaml')).stdout, 'service/myapp configured\n');
  },
);

kt('kubectl describe svc myapp shows selector, IP and endpoints', async (t) => {
  const r = await kubectl('kubectl describe svc myapp');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Name:\s+myapp\n/);
  t.regex(r.stdout, /Selector:\s+app=myapp,release=stabel\n/);
  t.regex(r.stdout, /IP:\s+10\.\d+\.\d+\.\d+\n/);
  t.regex(r.stdout, /Endpoints:\s+10\.244\.\d+\.\d+:80,/);
});

kt(
  'kubectl exec POD -- curl -s myapp.default.svc.cluster.local answers from a backend',
  async (t) => {
    const pods = await kubectl('kubectl get pod -o name');
    const pod = pods.stdout.trim().split('\n')[0]!.replace('pod/', '');
    const r = await kubectl(`kubectl exec ${pod} -- curl -s myapp.default.svc.cluster.local`);
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, 'Hello MyApp | Version: v2 | <a href="hostname.html">Pod Name</a>\n');
    const host = await kubectl(`kubectl exec ${pod} -- curl -s myapp/hostname.html`);
    t.regex(host.stdout, /^myapp-deploy-[a-z0-9]+-[a-z0-9]{5}\n$/);
    const logs = await kubectl(`kubectl logs ${host.stdout.trim()}`);
    t.regex(logs.stdout, /"GET \/hostname\.html HTTP\/1\.1" 200 /);
  },
);

kt('kubectl scale deployment myapp-deploy --replicas=5 gives five running pods', async (t) => {
  const r = await kubectl('kubectl scale deployment myapp-deploy --replicas=5');
  t.is(r.stdout, 'deployment.apps/myapp-deploy scaled\n', r.stderr);
  const pods = await until('kubectl get pod', (x) => runningPods(x).length === 5);
  t.is(runningPods(pods).length, 5, pods.stdout);
});

kt('kubectl get pods -w sees a deleted pod replaced', async (t) => {
  const before = runningPods(await kubectl('kubectl get pod')).map((c) => c[0]!);
  const watcher: ChildProcess = spawn('kubectl', ['get', 'pods', '-w'], { cwd: MANIFESTS, env });
  let out = '';
  watcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await sleep(1500);
    t.is(
      (await kubectl(`kubectl delete pod ${before[0]} --wait=false`)).stdout,
      `pod "${before[0]}" deleted\n`,
    );
    const deadline = Date.now() + 15_000;
    const fresh = () =>
      out
        .split('\n')
        .filter((l) => /^myapp-deploy-/.test(l) && !before.includes(l.split(/\s+/)[0]!));
    while (Date.now() < deadline && !fresh().some((l) => /\s1\/1\s+Running\s/.test(l)))
      await sleep(200);
    t.regex(out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    t.true(
      out.split('\n').some((l) => l.startsWith(before[0]!) && /Terminating/.test(l)),
      out,
    );
    t.true(
      fresh().some((l) => /\s1\/1\s+Running\s/.test(l)),
      out,
    );
  } finally {
    watcher.kill();
  }
});

kt('kubectl delete -f svc.yaml; errors read as the real server words them', async (t) => {
  t.is((await kubectl('kubectl delete -f svc.yaml')).stdout, 'service "myapp" deleted\n');
  const r = await kubectl('kubectl get svc myapp');
  t.is(r.status, 1);
  t.is(r.stderr, 'Error from server (NotFound): services "myapp" not found\n');
});

kt(
  'ingress-nginx: the seed files apply verbatim (deployment.extensions) and get ingress / svc -n ingress-nginx show them',
  async (t) => {
    const a = await kubectl('kubectl apply -f ingress/mandatory.yaml', undefined, seedEnv);
    t.is(a.status, 0, a.stderr);
    t.regex(a.stdout, /namespace\/ingress-nginx created\n/);
    const n = await kubectl('kubectl apply -f ingress/service-nodeport.yaml', undefined, seedEnv);
    t.is(n.stdout, 'service/ingress-nginx created\n');
    const svc = await kubectl('kubectl get svc -n ingress-nginx', undefined, seedEnv);
    t.regex(
      svc.stdout,
      /ingress-nginx\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:32510\/TCP,443:31401\/TCP/,
    );
    const h = await kubectl('kubectl apply -f ingress.http.yaml', undefined, seedEnv);
    t.is(h.stdout, 'deployment.extensions/nginx-dm created\nservice/nginx-svc created\n', h.stderr);
    const i = await kubectl('kubectl apply -f ingress1.yaml', undefined, seedEnv);
    t.regex(i.stdout, /^ingress\.extensions\/nginx-test created\n$/, i.stderr);
    const ing = await kubectl('kubectl get ingress', undefined, seedEnv);
    // A v1.15 server's Ingress table: no CLASS column (it came with v1.19).
    t.regex(ing.stdout, /^NAME\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n/);
    t.regex(ing.stdout, /www1\.atguigu\.com/);
    // A current cluster no longer serves them: kubectl's own error, nothing created.
    const now = await kubectl('kubectl apply -f ingress.http.yaml');
    t.is(now.status, 1);
    t.regex(now.stderr, /no matches for kind "Deployment" in version "extensions\/v1beta1"/);
    t.is(s.session.cluster.get('Deployment', 'default', 'nginx-dm'), undefined);
  },
);

kt(
  'kubectl apply rejects an unknown field (strict field validation) and explain prints the schema',
  async (t) => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\nspec:\n  selector: {app: x}\n  portz: [{port: 80}]\n',
    );
    const r = await kubectl(`kubectl apply -f ${bad}`);
    t.is(r.status, 1);
    t.regex(r.stderr, /strict decoding error: unknown field "spec\.portz"/);
    t.is(s.session.cluster.get('Service', 'default', 'typo'), undefined);
    const ex = await kubectl('kubectl explain deployment.spec.replicas');
    t.is(ex.status, 0, ex.stderr);
    t.regex(ex.stdout, /Number of desired pods/);
  },
);

kt('kubectl apply --server-side creates, then merges containers by name', async (t) => {
  const file = join(home, 'ssa.yaml');
  const deploy = (image: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: ssa}\n  template:\n    metadata:\n      labels: {app: ssa}\n    spec:\n      containers:\n      - name: web\n        image: ${image}\n`;
  writeFileSync(file, deploy('wangyanglinux/myapp:v1'));
  const a = await kubectl(`kubectl apply --server-side -f ${file}`);
  t.is(a.stdout, 'deployment.apps/ssa serverside-applied\n', a.stderr);
  writeFileSync(file, deploy('wangyanglinux/myapp:v2'));
  const b = await kubectl(`kubectl apply --server-side -f ${file}`);
  t.is(b.stdout, 'deployment.apps/ssa serverside-applied\n', b.stderr);
  const d = s.session.cluster.get('Deployment', 'default', 'ssa')!;
  t.deepEqual(
    d.spec.template.spec.containers.map((c) => c.image),
    ['wangyanglinux/myapp:v2'],
  );
});

kt(
  'kubectl exec into the ingress controller: its nginx.conf holds a server per Ingress host',
  async (t) => {
    const pods = await until(
      'kubectl get pod -n ingress-nginx -o name',
      (r) => r.stdout.includes('pod/'),
      15_000,
      seedEnv,
    );
    const pod = pods.stdout.trim().split('\n')[0]!.replace('pod/', '');
    const r = await kubectl(
      `kubectl exec ${pod} -n ingress-nginx -- cat /etc/nginx/nginx.conf`,
      undefined,
      seedEnv,
    );
    t.is(r.status, 0, r.stderr);
    t.regex(
      r.stdout,
      /\t## start server www1\.atguigu\.com\n\tserver \{\n\t\tserver_name www1\.atguigu\.com ;/,
    );
    t.regex(r.stdout, /set \$service_name {3}"nginx-svc";/);
    t.regex(r.stdout, /set \$ingress_name {3}"nginx-test";/);
    const missing = await kubectl(
      `kubectl exec ${pod} -n ingress-nginx -- cat /etc/nope`,
      undefined,
      seedEnv,
    );
    t.is(missing.status, 1);
    t.regex(missing.stderr, /can't open '\/etc\/nope'/);
  },
);

kt('kubectl get events and describe show what the controllers recorded', async (t) => {
  const ev = await kubectl('kubectl get events');
  t.is(ev.status, 0, ev.stderr);
  t.regex(ev.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
  t.regex(
    ev.stdout,
    /Normal\s+Scheduled\s+pod\/myapp-deploy-\S+\s+Successfully assigned default\/myapp-deploy-\S+ to k8s-node0[12]\n/,
  );
  t.regex(
    ev.stdout,
    /Normal\s+ScalingReplicaSet\s+deployment\/myapp-deploy\s+Scaled up replica set myapp-deploy-\S+ from 0 to 3\n/,
  );
  const pod = (await kubectl('kubectl get pod -o name')).stdout
    .trim()
    .split('\n')[0]!
    .replace('pod/', '');
  const d = await kubectl(`kubectl describe pod ${pod}`);
  t.is(d.status, 0, d.stderr);
  t.regex(d.stdout, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
  t.regex(d.stdout, /Normal\s+Started\s+\S+\s+kubelet\s+Started container myapp\n/);
});
