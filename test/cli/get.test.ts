import test from 'ava';
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import { renderGet } from '../../src/control/kubectl-get.ts';
import { matchGolden } from './golden.ts';

const SEED = 'scenarios/seed/manifests';
const files = (...names: string[]) => names.map((n) => `${SEED}/${n}`);

const clusterIpCluster = () =>
  clusterFromFiles({ files: files('svc-deployment.yaml', 'svc.yaml', 'svc-none.yaml', 'ex.yaml') });

test('kubectl get svc -o wide on the seed ClusterIP, headless and ExternalName services', (t) => {
  const out = renderGet(clusterIpCluster(), 'svc', [], { output: 'wide' }).stdout;
  const lines = out.trimEnd().split('\n');
  t.regex(lines[0]!, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$/);
  t.regex(out, /\nmyapp-headless\s+ClusterIP\s+None\s+<none>\s+80\/TCP\s+60s\s+app=myapp\n/);
  t.regex(
    out,
    /\nmy-service-1\s+ExternalName\s+<none>\s+hub\.atguigu\.com\s+<none>\s+60s\s+<none>\n/,
  );
  t.regex(
    out,
    /\nmyapp\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+60s\s+app=myapp,release=stabel\n/,
  );
  matchGolden(t, 'get-svc-wide.txt', out);
});

test("kubectl get pods -o wide: three myapp pods, Running, IPs in their nodes' pod CIDRs", (t) => {
  const out = renderGet(clusterIpCluster(), 'pods', [], { output: 'wide' }).stdout;
  const rows = out.trimEnd().split('\n').slice(1);
  t.is(rows.length, 3);
  for (const r of rows) {
    const m =
      /^(myapp-deploy-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5})\s+1\/1\s+Running\s+0\s+60s\s+10\.244\.(\d)\.\d+\s+k8s-node0(\d)/.exec(
        r,
      );
    t.truthy(m, r);
    t.is(m![2], m![3], "pod IP from its node's /24");
  }
  matchGolden(t, 'get-pods-wide.txt', out);
});

test('NodePort shows port:nodePort/TCP in the 30000-32767 range', (t) => {
  const c = clusterFromFiles({ files: files('svc-deployment.yaml', 'nodeport.yaml') });
  const out = renderGet(c, 'svc', ['myapp'], {}).stdout;
  const m = /myapp\s+NodePort\s+\S+\s+<none>\s+80:(\d+)\/TCP/.exec(out);
  t.truthy(m, out);
  t.true(Number(m![1]) >= 30000 && Number(m![1]) <= 32767);
});

test('endpoints list the ready pod addresses; empty namespaces say No resources found', (t) => {
  const c = clusterIpCluster();
  const out = renderGet(c, 'endpoints', ['myapp'], {}).stdout;
  t.regex(out, /myapp\s+10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80,10\.244\.\d+\.\d+:80\s+60s/);
  const none = renderGet(c, 'pods', [], { namespace: 'nothing-here' });
  t.is(none.stdout, '');
  t.is(none.stderr, 'No resources found in nothing-here namespace.\n');
});

test('ingress, deploy, rs and nodes views', (t) => {
  const c = clusterFromFiles({
    files: files(
      'svc-deployment.yaml',
      'ingress-vh/deployment.yaml',
      'ingressrule.yaml',
      'https.ingress.yaml',
    ),
    kubernetesVersion: 'v1.15.1',
  });
  const ing = renderGet(c, 'ingress', [], {}).stdout;
  // v1.15's table: no CLASS column.
  t.regex(ing, /^NAME\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n/);
  t.regex(ing, /https\s+www3\.atguigu\.com\s+80, 443\s+60s/);
  t.regex(ing, /ingress1\s+www1\.atguigu\.com\s+80\s+60s/);
  const deploy = renderGet(c, 'deploy', [], { output: 'wide' }).stdout;
  t.regex(
    deploy,
    /deployment1\s+2\/2\s+2\s+2\s+60s\s+nginx\s+wangyanglinux\/myapp:v1\s+name=nginx/,
  );
  const nodes = renderGet(c, 'nodes', [], {}).stdout;
  t.regex(nodes, /k8s-master01\s+Ready\s+master\s+\d+s\s+v1\.15\.1/, 'the v1.15 role');
  t.regex(nodes, /k8s-node02\s+Ready\s+<none>/);
  matchGolden(t, 'get-ingress.txt', ing);
});

test('-o yaml prints the API object with quoted timestamps; -o json too', (t) => {
  const c = clusterIpCluster();
  const yaml = renderGet(c, 'svc', ['myapp'], { output: 'yaml' }).stdout;
  t.regex(
    yaml,
    /^apiVersion: v1\nkind: Service\nmetadata:\n {2}creationTimestamp: "2022-07-26T11:18:\d\dZ"\n/,
  );
  t.regex(yaml, /\n {2}selector:\n {4}app: myapp\n {4}release: stabel\n/);
  const json = JSON.parse(renderGet(c, 'svc', [], { output: 'json' }).stdout) as {
    kind: string;
    items: unknown[];
  };
  t.is(json.kind, 'List');
  t.is(json.items.length, 4, 'kubernetes, myapp, myapp-headless, my-service-1');
});

test('unknown resource types and names fail like kubectl', (t) => {
  const c = clusterIpCluster();
  t.throws(() => renderGet(c, 'widgets', [], {}), {
    message: 'error: the server doesn\'t have a resource type "widgets"',
  });
  t.throws(() => renderGet(c, 'svc', ['nope'], {}), {
    message: 'Error from server (NotFound): services "nope" not found',
  });
});

test('the same seed gives the same cluster; another seed gives other IPs', (t) => {
  const a = renderGet(clusterIpCluster(), 'pods', [], { output: 'wide' }).stdout;
  const b = renderGet(clusterIpCluster(), 'pods', [], { output: 'wide' }).stdout;
  const c = renderGet(
    clusterFromFiles({ files: files('svc-deployment.yaml', 'svc.yaml'), seed: 2 }),
    'svc',
    [],
    {},
  ).stdout;
  const d = renderGet(
    clusterFromFiles({ files: files('svc-deployment.yaml', 'svc.yaml') }),
    'svc',
    [],
    {},
  ).stdout;
  t.is(a, b);
  t.not(c, d);
});

test('kubectl get -o jsonpath: one object, and a list with a wildcard', (t) => {
  const cluster = clusterIpCluster();
  const ip = cluster.get('Service', 'default', 'myapp')!.spec.clusterIP!;
  t.is(renderGet(cluster, 'svc', ['myapp'], { output: 'jsonpath={.spec.clusterIP}' }).stdout, ip);
  const names = renderGet(cluster, 'svc', [], {
    output: 'jsonpath={.items[*].metadata.name}',
  }).stdout;
  t.deepEqual(names.split(' ').sort(), ['kubernetes', 'my-service-1', 'myapp', 'myapp-headless']);
});
