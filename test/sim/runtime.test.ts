import test from 'ava';
import { SECOND } from '../../src/control/clock.ts';
import { Session } from '../../src/scenario/session.ts';
import type { SocketError } from '../../src/sim/tcp/errors.ts';

const SEED = 'scenarios/seed/manifests';

test('an established connection to a pod that is deleted gets a RST; new ones go elsewhere', async (t) => {
  const s = new Session({ mode: 'iptables', baseDir: SEED });
  await s.exec('kubectl apply -f svc-deployment.yaml -f svc.yaml');
  s.wait(5 * SECOND);
  const vip = (await s.exec(`kubectl get svc myapp -o jsonpath='{.spec.clusterIP}'`)).stdout;
  const client = s.host('k8s-master01');
  const conn = client.tcpConnect(vip, 80);
  let connected = false;
  let closed: { error: SocketError | undefined } | undefined;
  conn.onConnect = () => (connected = true);
  conn.onClose = (error) => (closed = { error });
  s.runUntil(() => connected, 5 * SECOND);
  t.true(connected);
  // Which pod did it reach? Its node's conntrack knows the DNAT target.
  const entry = (await s.exec('conntrack -L -p tcp')).stdout;
  const backend = /src=(10\.244\.\d+\.\d+) dst=10\.0\.100\.10 sport=80/.exec(entry)?.[1];
  t.truthy(backend, entry);
  const pod = s.cluster.list('Pod', 'default').find((p) => p.status.podIP === backend)!;
  t.truthy(pod);
  await s.exec(`kubectl delete pod ${pod.metadata.name}`);
  s.runUntil(() => closed !== undefined, 5 * SECOND);
  t.truthy(closed, 'the client saw its connection end');
  t.is(closed?.error?.code, 'ECONNRESET');
  s.wait(40 * SECOND);
  for (let i = 0; i < 6; i++) {
    const r = await s.exec(`curl -s ${vip}/hostname.html`);
    t.is(r.exitCode, 0);
    t.not(r.stdout.trim(), pod.metadata.name);
  }
});
