// A node configured with imagePullSeconds pulls each image it lacks once, one pull at a
// time; its pods stay ContainerCreating meanwhile and the kubelet records what it did.
import test from 'ava';
import type { Deployment, Pod } from '../../src/api/types.ts';
import { SECOND } from '../../src/control/clock.ts';
import { Cluster } from '../../src/control/cluster.ts';

const nodes = [
  { name: 'k8s-master01', ip: '10.0.100.10', controlPlane: true },
  { name: 'k8s-node01', ip: '10.0.100.11', imagePullSeconds: 20 },
];

function deployment(name: string, image: string, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image }] },
      },
    },
  } as Deployment;
}

const pods = (c: Cluster, app: string): Pod[] =>
  c.list('Pod', 'default').filter((p) => p.metadata.labels?.['app'] === app);

const messages = (c: Cluster, reason: string): string[] =>
  c
    .list('Event', 'default')
    .filter((e) => e.reason === reason)
    .map((e) => e.message ?? '');

test('pods wait for their node to pull the image once; the pull is recorded', (t) => {
  const c = new Cluster({ nodes });
  c.apply([deployment('web', 'wangyanglinux/myapp:v2', 2)]);
  c.advance(10 * SECOND);
  t.deepEqual(
    pods(c, 'web').map((p) => p.status.phase),
    ['Pending', 'Pending'],
    'both wait for the one pull',
  );
  c.advance(11 * SECOND);
  t.deepEqual(
    pods(c, 'web').map((p) => p.status.phase),
    ['Running', 'Running'],
  );
  t.deepEqual(messages(c, 'Pulling'), [
    'Pulling image "wangyanglinux/myapp:v2"',
    'Pulling image "wangyanglinux/myapp:v2"',
  ]);
  const pulled = messages(c, 'Pulled');
  t.is(pulled.length, 2);
  for (const m of pulled)
    t.regex(
      m,
      /^Successfully pulled image "wangyanglinux\/myapp:v2" in 20s \(20s including waiting\)$/,
    );
  // The node has the image now: a third pod starts at once, "already present".
  c.scale('default', 'web', 3);
  c.advance(1 * SECOND);
  t.is(pods(c, 'web').filter((p) => p.status.phase === 'Running').length, 3);
  t.true(
    messages(c, 'Pulled').includes(
      'Container image "wangyanglinux/myapp:v2" already present on machine',
    ),
  );
});

test('pulls are serialized per node: a second image waits for the first pull', (t) => {
  const c = new Cluster({ nodes });
  c.apply([deployment('a', 'image-a:1', 1), deployment('b', 'image-b:1', 1)]);
  c.advance(21 * SECOND);
  t.is(pods(c, 'a')[0]!.status.phase, 'Running');
  t.is(pods(c, 'b')[0]!.status.phase, 'Pending', 'its pull starts when the first ends');
  c.advance(20 * SECOND);
  t.is(pods(c, 'b')[0]!.status.phase, 'Running');
  t.true(
    messages(c, 'Pulled').includes(
      'Successfully pulled image "image-b:1" in 20s (40s including waiting)',
    ),
  );
});

test("the event's wording follows the kubelet's release", (t) => {
  const old = new Cluster({ nodes, kubernetesVersion: 'v1.15.1' });
  old.apply([deployment('web', 'wangyanglinux/myapp:v2', 1)]);
  old.advance(25 * SECOND);
  t.deepEqual(messages(old, 'Pulled'), ['Successfully pulled image "wangyanglinux/myapp:v2"']);
  const mid = new Cluster({ nodes, kubernetesVersion: 'v1.24.17' });
  mid.apply([deployment('web', 'wangyanglinux/myapp:v2', 1)]);
  mid.advance(25 * SECOND);
  t.deepEqual(messages(mid, 'Pulled'), [
    'Successfully pulled image "wangyanglinux/myapp:v2" in 20s',
  ]);
});
