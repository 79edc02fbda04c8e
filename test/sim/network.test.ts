import test from 'ava';
import { loadManifests } from '../../src/api/load.ts';
import { SECOND } from '../../src/control/clock.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { httpRequest } from '../../src/sim/http/client.ts';
import type { HttpResult } from '../../src/sim/http/client.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { startMyApp } from '../../src/sim/workloads/myapp.ts';

const SEED = 'scenarios/seed/manifests';

function seedCluster(files: string[]) {
  const cluster = new Cluster({ seed: 1 });
  const loaded = loadManifests(files.map((f) => `${SEED}/${f}`));
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  cluster.apply(loaded.objects);
  cluster.advance(5 * SECOND);
  const net = new SimNetwork(cluster, { mode: 'iptables' });
  const pods = cluster.list('Pod', 'default');
  for (const p of pods) {
    const host = net.newHost(p.metadata.name, [p.status.podIP!]);
    net.attachPod(host, p.spec.nodeName!);
    startMyApp(host, { image: p.spec.containers[0]!.image });
  }
  return { cluster, net, pods };
}

function curl(
  net: SimNetwork,
  from: string,
  ip: string,
  port: number,
  path = '/',
): Promise<HttpResult> {
  const host = net.podHost(from) ?? [...net.nodeHosts.values()][0]!;
  return new Promise((resolve, reject) => {
    httpRequest(host, { ip, port, path }, (err, res) => (err ? reject(err) : resolve(res!)));
    net.run(1 * SECOND);
  });
}

test('curl a ClusterIP from a pod: real packets through iptables-mode nodes, every pod answers', async (t) => {
  const { cluster, net, pods } = seedCluster(['svc-deployment.yaml', 'svc.yaml']);
  const vip = cluster.get('Service', 'default', 'myapp')!.spec.clusterIP!;
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await curl(net, pods[0]!.status.podIP!, vip, 80, '/hostname.html');
    t.is(res.status, 200);
    seen.add(new TextDecoder().decode(res.body).trim());
  }
  t.deepEqual([...seen].sort(), pods.map((p) => p.metadata.name).sort());
  const index = await curl(net, pods[1]!.status.podIP!, vip, 80, '/');
  t.is(
    new TextDecoder().decode(index.body),
    'Hello MyApp | Version: v2 | <a href="hostname.html">Pod Name</a>\n',
  );
});

test('NodePort from an outside client on every node IP', async (t) => {
  const { cluster, net } = seedCluster(['svc-deployment.yaml', 'nodeport.yaml']);
  const nodePort = cluster.get('Service', 'default', 'myapp')!.spec.ports[0]!.nodePort!;
  const client = net.addExternalHost('win10', '192.168.1.50');
  for (const nodeIp of ['10.0.100.10', '10.0.100.11', '10.0.100.12']) {
    const res = await new Promise<HttpResult>((resolve, reject) => {
      httpRequest(client, { ip: nodeIp, port: nodePort, path: '/' }, (e, r) =>
        e ? reject(e) : resolve(r!),
      );
      net.run(1 * SECOND);
    });
    t.is(res.status, 200, nodeIp);
    t.regex(new TextDecoder().decode(res.body), /Version: v2/);
  }
});

test('links: loss is survived by TCP retransmission, over-MTU packets are dropped, bandwidth adds serialization delay', async (t) => {
  const build = (links: ConstructorParameters<typeof SimNetwork>[1]['links']) => {
    const cluster = new Cluster({ seed: 1 });
    const loaded = loadManifests([`${SEED}/svc-deployment.yaml`, `${SEED}/nodeport.yaml`]);
    if (!loaded.ok) throw new Error('manifests');
    cluster.apply(loaded.objects);
    cluster.advance(5 * SECOND);
    const net = new SimNetwork(cluster, { mode: 'iptables', ...(links ? { links } : {}) });
    for (const p of cluster.list('Pod', 'default')) {
      const host = net.newHost(p.metadata.name, [p.status.podIP!]);
      net.attachPod(host, p.spec.nodeName!);
      startMyApp(host, { image: p.spec.containers[0]!.image });
    }
    const port = cluster.get('Service', 'default', 'myapp')!.spec.ports[0]!.nodePort!;
    const client = net.addExternalHost('far', '192.168.1.77');
    const get = (path = '/') =>
      new Promise<HttpResult>((resolve, reject) => {
        httpRequest(client, { ip: '10.0.100.11', port, path, timeoutNs: 100 * SECOND }, (e, r) =>
          e ? reject(e) : resolve(r!),
        );
        net.run(110 * SECOND);
      });
    return { net, get };
  };
  const lossy = build({ external: { loss: 0.3 } });
  for (let i = 0; i < 5; i++) t.is((await lossy.get()).status, 200);
  t.true(lossy.net.linkDrops.loss > 0, 'packets were lost');

  const small = build({ external: { mtu: 100 } });
  await t.throwsAsync(() => small.get(), undefined, 'a response larger than the MTU cannot arrive');
  t.true(small.net.linkDrops.mtu > 0);

  const fast = await build(undefined).get();
  const slow = await build({ external: { bandwidthBps: 100_000 } }).get();
  t.true(
    slow.timing.total > fast.timing.total + 5_000_000,
    `${slow.timing.total} vs ${fast.timing.total} ns`,
  );
});
