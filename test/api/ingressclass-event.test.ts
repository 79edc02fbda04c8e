import test from 'ava';
import { parseManifestText } from '../../src/api/load.ts';
import type { Event, IngressClass } from '../../src/api/types.ts';
import { eventPrinter, ingressClassPrinter } from '../../src/api/kubectl/printers.ts';
import { renderTable } from '../../src/api/kubectl/table.ts';
import { DEFAULT_EPOCH_MS, toApiObject } from '../../src/api/wire.ts';
import { Cluster, formatApplyResult } from '../../src/control/cluster.ts';
import { renderGet } from '../../src/control/kubectl-get.ts';

const SECOND = 1e9;

function load(yaml: string): { objects: unknown[]; errors: string[] } {
  const r = parseManifestText(yaml, 'x.yaml');
  return r.ok
    ? { objects: r.objects, errors: [] }
    : { objects: [], errors: r.errors.map((e) => e.format()) };
}

const NGINX_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
`;

test('IngressClass loads cluster-scoped; parameters default to scope Cluster', (t) => {
  const { objects, errors } = load(`${NGINX_CLASS}---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: external-lb
  namespace: ignored
spec:
  controller: example.com/ingress-controller
  parameters:
    apiGroup: k8s.example.com
    kind: IngressParameters
    name: external-lb
`);
  t.deepEqual(errors, []);
  const [nginx, ext] = objects as IngressClass[];
  t.is(nginx!.metadata.namespace, undefined);
  t.is(nginx!.spec.controller, 'k8s.io/ingress-nginx');
  t.is(ext!.metadata.namespace, undefined, 'a namespace on a cluster-scoped kind is dropped');
  t.deepEqual(ext!.spec.parameters, {
    apiGroup: 'k8s.example.com',
    kind: 'IngressParameters',
    name: 'external-lb',
    scope: 'Cluster',
  });
});

test('IngressClass validation: controller required and domain-prefixed, parameters checked', (t) => {
  const ic = (spec: string, name = 'c') =>
    load(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: ${name}
spec:
${spec}`).errors;
  t.deepEqual(ic('  {}\n'), ['x.yaml:5:1 spec.controller: Required value']);
  t.deepEqual(ic('  controller: nginx\n'), [
    'x.yaml:6:15 spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
  ]);
  t.deepEqual(ic('  controller: Example.com/x\n'), [
    `x.yaml:6:15 spec.controller: Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  ]);
  t.deepEqual(ic('  controller: k8s.io/ingress-nginx\n', 'Bad_Name').length, 1);
  t.deepEqual(
    ic(`  controller: k8s.io/x
  parameters:
    kind: P
    name: p
    scope: Namespace
`),
    [
      "x.yaml:7:3 spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
    ],
  );
  t.deepEqual(
    ic(`  controller: k8s.io/x
  parameters:
    name: p
    namespace: default
`),
    [
      'x.yaml:7:3 spec.parameters.kind: Required value',
      "x.yaml:9:16 spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'",
    ],
  );
  t.deepEqual(
    ic(`  controller: k8s.io/x
  parameters: {kind: P, name: p, scope: Everywhere}
`),
    [
      'x.yaml:7:41 spec.parameters.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespace"',
    ],
  );
});

test('IngressClass printer and kubectl get ingressclass', (t) => {
  const c = new Cluster();
  const r = c.apply(load(NGINX_CLASS).objects as IngressClass[]);
  t.is(formatApplyResult(r[0]!), 'ingressclass.networking.k8s.io/nginx created');
  c.advance(30 * SECOND);
  t.is(
    renderGet(c, 'ingressclass', [], { namespace: 'kube-system' }).stdout,
    'NAME    CONTROLLER             PARAMETERS   AGE\nnginx   k8s.io/ingress-nginx   <none>       30s\n',
  );
});

test('kubectl get ingressclass of a missing name', (t) => {
  const c = new Cluster();
  t.throws(() => renderGet(c, 'ingressclasses', ['gone'], {}), {
    message: 'Error from server (NotFound): ingressclasses.networking.k8s.io "gone" not found',
  });
});

test('IngressClass parameters column: Kind.apiGroup/name', (t) => {
  const ic: IngressClass = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'ext', creationTimestamp: 0 },
    spec: {
      controller: 'example.com/ingress-controller',
      parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'ext' },
    },
  };
  const row = ingressClassPrinter.row(ic, { now: 90 * SECOND, wide: false });
  t.deepEqual(row, [
    'ext',
    'example.com/ingress-controller',
    'IngressParameters.k8s.example.com/ext',
    '90s',
  ]);
});

test('an Event manifest: RFC 3339 times become virtual time; namespaces must agree', (t) => {
  const at = new Date(DEFAULT_EPOCH_MS + 90_000).toISOString();
  const { objects, errors } = load(`apiVersion: v1
kind: Event
metadata:
  name: web.17055d0222240700
involvedObject:
  kind: Pod
  name: web
  namespace: default
reason: Hello
message: hello there
source:
  component: me
firstTimestamp: "${at}"
lastTimestamp: "${at}"
count: 1
type: Normal
`);
  t.deepEqual(errors, []);
  const ev = objects[0] as Event;
  t.is(ev.metadata.namespace, 'default');
  t.is(ev.firstTimestamp, 90 * SECOND);
  t.is(toApiObject(ev)['firstTimestamp'], at.replace(/\.\d{3}Z$/, 'Z'));
  const bad = load(`apiVersion: v1
kind: Event
metadata:
  name: e
  namespace: default
involvedObject: {kind: Pod, name: web, namespace: other}
`);
  t.deepEqual(bad.errors, [
    'x.yaml:6:51 involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  const newStyle = load(`apiVersion: v1
kind: Event
metadata: {name: e}
involvedObject: {kind: Pod, name: web, namespace: default}
eventTime: "2022-07-26T11:18:20.000000Z"
`);
  t.deepEqual(newStyle.errors, [
    'x.yaml:1:1 reportingComponent: Required value',
    'x.yaml:1:1 reportingInstance: Required value',
    'x.yaml:1:1 action: Required value',
    'x.yaml:1:1 reason: Required value',
  ]);
});

test('event printer: a new-style event counts through its series and shows its eventTime', (t) => {
  const base: Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'FailedScheduling',
    message: '  0/3 nodes are available.  ',
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    type: 'Warning',
    eventTime: 10 * SECOND,
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-k8s-master01',
  };
  const ctx = { now: 100 * SECOND, wide: true };
  t.deepEqual(eventPrinter.row(base, ctx), [
    '90s',
    'Warning',
    'FailedScheduling',
    'pod/web',
    '',
    'default-scheduler, default-scheduler-k8s-master01',
    '0/3 nodes are available.',
    '90s',
    '1',
    'web.1',
  ]);
  const series = { ...base, series: { count: 4, lastObservedTime: 70 * SECOND } };
  t.deepEqual(eventPrinter.row(series, ctx).slice(0, 1), ['30s']);
  t.is(eventPrinter.row(series, ctx)[8], '4');
  const legacy: Event = {
    ...base,
    source: { component: 'kubelet', host: 'k8s-node01' },
    firstTimestamp: 0,
    lastTimestamp: 40 * SECOND,
    count: 7,
    eventTime: null,
  };
  t.deepEqual(eventPrinter.row(legacy, { ...ctx, wide: false }), [
    '60s',
    'Warning',
    'FailedScheduling',
    'pod/web',
    '0/3 nodes are available.',
  ]);
  t.is(eventPrinter.row(legacy, ctx)[5], 'kubelet, k8s-node01');
  t.is(eventPrinter.row(legacy, ctx)[7], '100s');
  t.is(eventPrinter.row({ ...legacy, firstTimestamp: null, eventTime: null }, ctx)[7], '<unknown>');
  t.is(
    renderTable(eventPrinter.headers(false), [eventPrinter.row(legacy, { ...ctx, wide: false })]),
    'LAST SEEN   TYPE      REASON             OBJECT    MESSAGE\n60s         Warning   FailedScheduling   pod/web   0/3 nodes are available.\n',
  );
});
