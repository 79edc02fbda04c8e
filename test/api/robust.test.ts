// The loader reports bad input; it never throws on it (property test).
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseManifestText } from '../../src/api/load.ts';

const KINDS: [string, string][] = [
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['extensions/v1beta1', 'Deployment'],
  ['apps/v1', 'ReplicaSet'],
  ['extensions/v1beta1', 'Ingress'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['v1', 'Pod'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
  ['v1', 'Endpoints'],
  ['discovery.k8s.io/v1', 'EndpointSlice'],
  ['v1', 'Node'],
  ['v1', 'Namespace'],
  ['v1', 'List'],
];

const leaf = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('TCP', 'None', 'NodePort', 'ExternalName', 'ClientIP', 'Prefix', 'In', 'Exists'),
  fc.constantFrom('kubernetes.io/tls', 'http', '80', '10.96.0.1', 'aGk=', 'v1', 'Service'),
);

// Field names the loader reads, so random trees reach deep into the checks.
const KEYS = fc.constantFrom(
  ...'spec ports port targetPort nodePort selector matchLabels matchExpressions key operator values template metadata labels containers name image rules http paths path pathType backend service serviceName servicePort number data stringData type clusterIP clusterIPs subsets addresses ip endpoints addressType items apiVersion kind sessionAffinity sessionAffinityConfig clientIP timeoutSeconds tls hosts host defaultBackend externalName externalIPs replicas strategy rollingUpdate maxSurge conditions ipFamilies namespace'.split(
    ' ',
  ),
);

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(KEYS, tie('tree'), { maxKeys: 4 }),
  ),
}));

test('random objects of every kind load or fail with errors, never throw', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...KINDS), tree, tree, ([apiVersion, kind], spec, top) => {
      const extra = typeof top === 'object' && top !== null && !Array.isArray(top) ? top : {};
      const obj = { ...extra, apiVersion, kind, metadata: { name: 'x' }, spec };
      const r = parseManifestText(stringify(obj), 'f.yaml');
      return r.ok
        ? Array.isArray(r.objects)
        : r.errors.every((e) => e.format().startsWith('f.yaml'));
    }),
    {
      numRuns: Number(process.env['SVCLAB_FUZZ_RUNS'] ?? 500),
      seed: Number(process.env['SVCLAB_FUZZ_SEED'] ?? 42),
    },
  );
  t.pass();
});

test('random text never throws', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseManifestText(`apiVersion: v1\nkind: Service\n${s}`, 'f.yaml');
      return typeof r.ok === 'boolean';
    }),
    { numRuns: 300, seed: 7 },
  );
  t.pass();
});
