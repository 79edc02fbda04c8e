import test from 'ava';
import { defaultObject } from '../../src/api/decode.ts';
import { defaultPullPolicy } from '../../src/api/defaults.ts';

type Obj = Record<string, unknown>;

const svc = (spec: Obj, meta: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', ...meta },
  spec: { ports: [{ port: 80 }], ...spec },
});

const deploy = (spec: Obj = {}, apiVersion = 'apps/v1'): Obj => ({
  apiVersion,
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: {
    selector: { matchLabels: { app: 'd' } },
    template: {
      metadata: { labels: { app: 'd' } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
    },
    ...spec,
  },
});

/** Follow a dotted path with [i] indexes through a plain object. */
function get(o: unknown, path: string): unknown {
  let cur = o;
  for (const part of path.split(/\.|(?=\[)/)) {
    if (cur === undefined || cur === null) return undefined;
    const m = /^\[(\d+)\]$/.exec(part);
    cur = m ? (cur as unknown[])[Number(m[1])] : (cur as Obj)[part];
  }
  return cur;
}

const cases: { name: string; input: Obj; path: string; want: unknown; opts?: Obj }[] = [
  { name: 'namespace default', input: svc({}), path: 'metadata.namespace', want: 'default' },
  {
    name: 'namespace from options (kubectl -n)',
    input: svc({}),
    path: 'metadata.namespace',
    want: 'prod',
    opts: { defaultNamespace: 'prod' },
  },
  {
    name: 'namespace kept',
    input: svc({}, { namespace: 'x' }),
    path: 'metadata.namespace',
    want: 'x',
  },
  { name: 'Service type ClusterIP', input: svc({}), path: 'spec.type', want: 'ClusterIP' },
  {
    name: 'Service type "" is unset',
    input: svc({ type: '' }),
    path: 'spec.type',
    want: 'ClusterIP',
  },
  { name: 'port protocol TCP', input: svc({}), path: 'spec.ports[0].protocol', want: 'TCP' },
  { name: 'targetPort = port', input: svc({}), path: 'spec.ports[0].targetPort', want: 80 },
  {
    name: 'targetPort 0 = port',
    input: svc({ ports: [{ port: 8080, targetPort: 0 }] }),
    path: 'spec.ports[0].targetPort',
    want: 8080,
  },
  {
    name: 'named targetPort kept',
    input: svc({ ports: [{ port: 80, targetPort: 'http' }] }),
    path: 'spec.ports[0].targetPort',
    want: 'http',
  },
  { name: 'sessionAffinity None', input: svc({}), path: 'spec.sessionAffinity', want: 'None' },
  {
    name: 'no affinity config for None',
    input: svc({}),
    path: 'spec.sessionAffinityConfig',
    want: undefined,
  },
  {
    name: 'ClientIP timeout 10800',
    input: svc({ sessionAffinity: 'ClientIP' }),
    path: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
    want: 10800,
  },
  {
    name: 'ClientIP explicit timeout kept',
    input: svc({
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    }),
    path: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
    want: 60,
  },
  {
    name: 'no externalTrafficPolicy for ClusterIP',
    input: svc({}),
    path: 'spec.externalTrafficPolicy',
    want: undefined,
  },
  {
    name: 'externalTrafficPolicy Cluster for NodePort',
    input: svc({ type: 'NodePort' }),
    path: 'spec.externalTrafficPolicy',
    want: 'Cluster',
  },
  {
    name: 'externalTrafficPolicy Cluster for LoadBalancer',
    input: svc({ type: 'LoadBalancer' }),
    path: 'spec.externalTrafficPolicy',
    want: 'Cluster',
  },
  {
    name: 'externalTrafficPolicy Local kept',
    input: svc({ type: 'NodePort', externalTrafficPolicy: 'Local' }),
    path: 'spec.externalTrafficPolicy',
    want: 'Local',
  },
  {
    name: 'externalTrafficPolicy Cluster with externalIPs',
    input: svc({ externalIPs: ['192.168.1.10'] }),
    path: 'spec.externalTrafficPolicy',
    want: 'Cluster',
  },
  {
    name: 'allocateLoadBalancerNodePorts for LoadBalancer',
    input: svc({ type: 'LoadBalancer' }),
    path: 'spec.allocateLoadBalancerNodePorts',
    want: true,
  },
  {
    name: 'internalTrafficPolicy Cluster',
    input: svc({}),
    path: 'spec.internalTrafficPolicy',
    want: 'Cluster',
  },
  { name: 'ipFamilies [IPv4]', input: svc({}), path: 'spec.ipFamilies', want: ['IPv4'] },
  {
    name: 'ipFamilyPolicy SingleStack',
    input: svc({}),
    path: 'spec.ipFamilyPolicy',
    want: 'SingleStack',
  },
  {
    name: 'headless without selector: RequireDualStack',
    input: svc({ clusterIP: 'None' }),
    path: 'spec.ipFamilyPolicy',
    want: 'RequireDualStack',
  },
  {
    name: 'headless with selector: SingleStack',
    input: svc({ clusterIP: 'None', selector: { app: 'x' } }),
    path: 'spec.ipFamilyPolicy',
    want: 'SingleStack',
  },
  {
    name: 'clusterIPs from clusterIP',
    input: svc({ clusterIP: '10.96.0.20' }),
    path: 'spec.clusterIPs',
    want: ['10.96.0.20'],
  },
  {
    name: 'clusterIP from clusterIPs',
    input: svc({ clusterIPs: ['10.96.0.21'] }),
    path: 'spec.clusterIP',
    want: '10.96.0.21',
  },
  {
    name: 'no clusterIP before allocation',
    input: svc({}),
    path: 'spec.clusterIP',
    want: undefined,
  },
  {
    name: 'ExternalName: no families',
    input: svc({ type: 'ExternalName', externalName: 'a.example.com', ports: [] }),
    path: 'spec.ipFamilies',
    want: [],
  },
  {
    name: 'ExternalName: no internalTrafficPolicy',
    input: svc({ type: 'ExternalName', externalName: 'a.example.com' }),
    path: 'spec.internalTrafficPolicy',
    want: undefined,
  },
  { name: 'Deployment replicas 1', input: deploy(), path: 'spec.replicas', want: 1 },
  {
    name: 'Deployment replicas 0 kept',
    input: deploy({ replicas: 0 }),
    path: 'spec.replicas',
    want: 0,
  },
  {
    name: 'Deployment strategy',
    input: deploy(),
    path: 'spec.strategy.type',
    want: 'RollingUpdate',
  },
  {
    name: 'Deployment maxSurge 25%',
    input: deploy(),
    path: 'spec.strategy.rollingUpdate.maxSurge',
    want: '25%',
  },
  {
    name: 'Deployment revisionHistoryLimit',
    input: deploy(),
    path: 'spec.revisionHistoryLimit',
    want: 10,
  },
  {
    name: 'Deployment progressDeadlineSeconds',
    input: deploy(),
    path: 'spec.progressDeadlineSeconds',
    want: 600,
  },
  {
    name: 'extensions/v1beta1 maxSurge 1',
    input: deploy({}, 'extensions/v1beta1'),
    path: 'spec.strategy.rollingUpdate.maxSurge',
    want: 1,
  },
  {
    name: 'container port protocol TCP',
    input: deploy(),
    path: 'spec.template.spec.containers[0].ports[0].protocol',
    want: 'TCP',
  },
  {
    name: 'imagePullPolicy IfNotPresent for a tag',
    input: deploy(),
    path: 'spec.template.spec.containers[0].imagePullPolicy',
    want: 'IfNotPresent',
  },
  {
    name: 'restartPolicy Always',
    input: deploy(),
    path: 'spec.template.spec.restartPolicy',
    want: 'Always',
  },
  {
    name: 'dnsPolicy ClusterFirst',
    input: deploy(),
    path: 'spec.template.spec.dnsPolicy',
    want: 'ClusterFirst',
  },
  {
    name: 'ReplicaSet replicas 1',
    input: { ...deploy(), kind: 'ReplicaSet' },
    path: 'spec.replicas',
    want: 1,
  },
  {
    name: 'Pod phase Pending',
    input: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    },
    path: 'status.phase',
    want: 'Pending',
  },
  {
    name: 'hostNetwork: hostPort = containerPort',
    input: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 53 }] }],
      },
    },
    path: 'spec.containers[0].ports[0].hostPort',
    want: 53,
  },
  {
    name: 'Secret type Opaque',
    input: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } },
    path: 'type',
    want: 'Opaque',
  },
  {
    name: 'Namespace has no namespace',
    input: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'x' } },
    path: 'metadata.namespace',
    want: undefined,
  },
  {
    name: 'Namespace phase Active',
    input: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } },
    path: 'status.phase',
    want: 'Active',
  },
  {
    name: 'Endpoints port protocol TCP',
    input: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'e' },
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }],
    },
    path: 'subsets[0].ports[0].protocol',
    want: 'TCP',
  },
  {
    name: 'EndpointSlice port protocol TCP and name ""',
    input: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'e' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }],
      ports: [{ port: 80 }],
    },
    path: 'ports[0]',
    want: { port: 80, name: '', protocol: 'TCP' },
  },
  {
    name: 'kubectl get -o yaml leftovers dropped',
    input: svc({}, { creationTimestamp: null }),
    path: 'metadata.creationTimestamp',
    want: undefined,
  },
];

for (const c of cases) {
  test(`default: ${c.name}`, (t) => {
    const out = defaultObject(c.input, c.opts ?? {});
    t.deepEqual(get(out, c.path), c.want);
  });
}

test('defaultObject does not touch its input', (t) => {
  const input = svc({});
  const before = JSON.stringify(input);
  defaultObject(input);
  t.is(JSON.stringify(input), before);
});

test('defaultObject throws with the decode error for a bad type', (t) => {
  const err = t.throws(() => defaultObject(svc({ ports: [{ port: '80' }] })));
  t.is(
    err?.message,
    'cannot decode object: spec.ports[0].port: Invalid value: "80": must be an integer',
  );
});

const pullPolicies: [string, 'Always' | 'IfNotPresent'][] = [
  ['nginx', 'Always'],
  ['nginx:latest', 'Always'],
  ['nginx:1.25', 'IfNotPresent'],
  ['registry:5000/team/app', 'Always'],
  ['registry:5000/team/app:v2', 'IfNotPresent'],
  ['nginx@sha256:0123abcd', 'IfNotPresent'],
];
for (const [image, want] of pullPolicies) {
  test(`imagePullPolicy default for ${image} is ${want}`, (t) => {
    t.is(defaultPullPolicy(image), want);
  });
}
