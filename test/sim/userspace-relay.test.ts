// kube-proxy's userspace relay on a simulated node (src/sim/userspace-relay.ts, after
// pkg/proxy/userspace/proxysocket.go): a refused dial and a dial that times out both move on
// to the next backend; no endpoint closes the accepted connection; UDP is relayed per client.
import test from 'ava';
import { Session } from '../../src/scenario/session.ts';
import { relayOn } from '../../src/sim/userspace-relay.ts';

const PODS = `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 80 }]
---
apiVersion: v1
kind: Pod
metadata: { name: web-ok, labels: { app: web } }
spec:
  nodeName: k8s-node02
  containers: [{ name: web, image: wangyanglinux/myapp:v1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: web-refuses, labels: { app: web } }
spec:
  nodeName: k8s-node02
  containers: [{ name: web, image: busybox }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  nodeName: k8s-node01
  containers: [{ name: client, image: busybox }]
`;

async function cluster(): Promise<Session> {
  const s = new Session({ mode: 'userspace', baseDir: '.', seed: 1 });
  const r = s.applyText(PODS, 'pods.yaml');
  if (r.exitCode !== 0) throw new Error(r.stderr);
  await s.exec('sleep 10');
  return s;
}

test('a refused dial is retried on the next backend: every request is answered', async (t) => {
  const s = await cluster();
  const url = `http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')/hostname.html`;
  for (let i = 0; i < 4; i++) {
    const r = await s.exec(`curl -sS ${url}`, 'pod/client');
    t.is(r.exitCode, 0, r.stderr);
    t.is(r.stdout, 'web-ok\n');
  }
  const relay = relayOn(s.net.nodeHosts.get('k8s-node01')!)!;
  t.truthy(relay);
  t.is(relay.counters.accepted, 4);
  // Two endpoints: the retry after a refusal takes web-ok's turn, so every request after
  // the first meets the refuser first (the shuffle put web-ok first).
  t.is(relay.counters.dialFailures, 3);
  const refuser = s.host('pod/web-refuses').address;
  t.deepEqual(
    relay.events.filter((e) => e.outcome === 'refused').map((e) => e.backend),
    [`${refuser}:80`, `${refuser}:80`, `${refuser}:80`],
  );
});

test('a dial that gets no answer times out after 250 ms and moves on', async (t) => {
  const s = await cluster();
  // The refuser's host goes quiet (its packets are dropped): SYNs get no answer at all.
  s.net.detachPod(s.host('pod/web-refuses').addresses[0]!);
  const url = `http://$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')/hostname.html`;
  for (let i = 0; i < 2; i++) {
    const r = await s.exec(`curl -sS -m 5 ${url}`, 'pod/client');
    t.is(r.exitCode, 0, r.stderr);
  }
  const relay = relayOn(s.net.nodeHosts.get('k8s-node01')!)!;
  const timeouts = relay.events.filter((e) => e.outcome === 'timeout');
  t.is(timeouts.length, 1);
});

test('no endpoints: kube-proxy accepts and closes, curl sees an empty reply', async (t) => {
  const s = new Session({ mode: 'userspace', baseDir: '.', seed: 1 });
  s.applyText(
    'apiVersion: v1\nkind: Service\nmetadata: { name: nobody }\nspec:\n  selector: { app: nobody }\n  ports: [{ port: 80 }]\n',
    'svc.yaml',
  );
  await s.exec('sleep 2');
  const r = await s.exec(
    `curl -sS -m 2 http://$(kubectl get svc nobody -o jsonpath='{.spec.clusterIP}')/`,
    'k8s-node01',
  );
  t.is(r.exitCode, 52, r.stderr);
  t.is(r.stderr, 'curl: (52) Empty reply from server\n');
});

test('UDP: DNS through the kube-dns ClusterIP, a relay "connection" per client', async (t) => {
  const s = new Session({ mode: 'userspace', baseDir: '.', seed: 1 });
  const r = await s.exec(
    'dig +short kubernetes.default.svc.cluster.local @10.96.0.10',
    'k8s-node02',
  );
  t.is(r.stdout, '10.96.0.1\n', r.stderr);
  const relay = relayOn(s.net.nodeHosts.get('k8s-node02')!)!;
  t.true(relay.counters.udpClients >= 1);
  t.true(relay.counters.bytesFromBackend > 0);
});
