// The served OpenAPI: the v3 index and documents (schemas made from @kubernetes/client-node's
// models), the HTTP caching of their URLs, the v2 document, the unknown-field check, and the
// real kubectl (explain; apply's validation and patches) against a stub server that serves
// them with just enough discovery. Without kubectl on PATH the kubectl tests are skipped.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  GROUP_VERSIONS,
  openapiV2Document,
  openapiV3Document,
  openapiV3Hash,
  openapiV3Index,
  openapiV3Reply,
  kindSchema,
  unknownFields,
} from '../../src/apiserver/openapi/index.ts';
import { patchMetaTable } from '../../src/apiserver/patch/schema.ts';

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

const KINDS: Record<string, string[]> = {
  'api/v1': ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'Secret', 'ConfigMap', 'Event'],
  'apis/apps/v1': ['Deployment', 'ReplicaSet'],
  'apis/discovery.k8s.io/v1': ['EndpointSlice'],
  'apis/networking.k8s.io/v1': ['Ingress', 'IngressClass'],
  'apis/events.k8s.io/v1': ['Event'],
  'apis/extensions/v1beta1': ['Deployment', 'ReplicaSet', 'Ingress'],
};

function gvOf(path: string): { group: string; version: string } {
  const parts = path.split('/');
  return parts[0] === 'api'
    ? { group: '', version: parts[1]! }
    : { group: parts[1]!, version: parts[2]! };
}

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { [k: string]: unknown }>>;
  components: { schemas: Record<string, { [k: string]: unknown }> };
}

function doc(path: string): Doc {
  const text = openapiV3Document(path);
  if (text === undefined) throw new Error(`no document for ${path}`);
  return JSON.parse(text) as Doc;
}

function schemaOf(d: Doc, gvk: Gvk): { [k: string]: unknown } | undefined {
  return Object.values(d.components.schemas).find((s) =>
    ((s['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some(
      (g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind,
    ),
  );
}

test('the v3 index lists every served group version, with its document hash', (t) => {
  const index = openapiV3Index() as { paths: Record<string, { serverRelativeURL: string }> };
  t.deepEqual(Object.keys(index.paths).sort(), Object.keys(KINDS).sort());
  t.deepEqual([...GROUP_VERSIONS].sort(), Object.keys(KINDS).sort());
  for (const [gv, { serverRelativeURL }] of Object.entries(index.paths)) {
    const hash = openapiV3Hash(gv)!;
    t.regex(hash, /^[0-9A-F]{128}$/);
    t.is(serverRelativeURL, `/openapi/v3/${gv}?hash=${hash}`);
  }
  t.is(openapiV3Document('apis/batch/v1'), undefined);
  t.is(openapiV3Document('/openapi/v3/apis/apps/v1?hash=x'), openapiV3Document('apis/apps/v1'));
});

test('each document has the schema of each of its kinds, described', (t) => {
  for (const [gv, kinds] of Object.entries(KINDS)) {
    const d = doc(gv);
    const { group, version } = gvOf(gv);
    for (const kind of kinds) {
      const schema = schemaOf(d, { group, version, kind });
      t.truthy(schema, `${gv} ${kind} schema`);
      t.truthy(schema?.description, `${gv} ${kind} description`);
    }
  }
});

test('each document has the patch operation of each of its kinds', (t) => {
  for (const [gv, kinds] of Object.entries(KINDS)) {
    const d = doc(gv);
    t.is(d.openapi, '3.0.0');
    const { group, version } = gvOf(gv);
    for (const kind of kinds) {
      // The PATCH of the kind, with the media types and fieldValidation kubectl looks for.
      const patch = Object.values(d.paths)
        .map((p) => p.patch)
        .find((op) => {
          const g = op?.['x-kubernetes-group-version-kind'] as Gvk | undefined;
          return g?.group === group && g.version === version && g.kind === kind;
        });
      t.truthy(patch, `${gv} ${kind} patch`);
      const content = (patch?.requestBody as { content: object } | undefined)?.content ?? {};
      t.deepEqual(Object.keys(content).sort(), [
        'application/apply-patch+yaml',
        'application/json-patch+json',
        'application/merge-patch+json',
        'application/strategic-merge-patch+json',
      ]);
      const params = (patch?.parameters as { name: string }[] | undefined) ?? [];
      t.true(
        params.some((p) => p.name === 'fieldValidation'),
        `${gv} ${kind} fieldValidation`,
      );
    }
  }
});

test('every $ref of every document resolves within it', (t) => {
  for (const gv of GROUP_VERSIONS) {
    const text = openapiV3Document(gv)!;
    const d = JSON.parse(text) as Doc;
    const refs = new Set([...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)]);
    for (const [, name] of refs) t.truthy(d.components.schemas[name!], `${gv}: ${name}`);
  }
});

test('the served paths keep the operations that take a body, cut down to what kubectl reads', (t) => {
  const d = doc('apis/apps/v1');
  const item = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!;
  t.deepEqual(Object.keys(item).sort(), ['patch', 'put']);
  t.deepEqual(Object.keys(item.patch!).sort(), [
    'operationId',
    'parameters',
    'requestBody',
    'responses',
    'x-kubernetes-group-version-kind',
  ]);
  t.is(item.patch!.operationId, 'patchAppsV1NamespacedDeployment');
  t.deepEqual(item.patch!.responses, { 200: { description: 'OK' } });
  for (const verb of ['put', 'patch'])
    t.deepEqual(item[verb]!.parameters, [
      { in: 'query', name: 'fieldValidation', schema: { type: 'string' } },
    ]);
  const collection = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments']!;
  t.deepEqual(Object.keys(collection), ['post']);
  t.true(
    (collection.post!.parameters as { name: string }[]).some((p) => p.name === 'fieldValidation'),
  );
  t.deepEqual(collection.post!['x-kubernetes-group-version-kind'], {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
  });
  const scale = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!;
  t.deepEqual(scale.patch!['x-kubernetes-group-version-kind'], {
    group: 'autoscaling',
    kind: 'Scale',
    version: 'v1',
  });
  t.truthy(d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']!.put);
  // Reads (list across namespaces, get, delete, watch, log, exec) are not in the document.
  t.is(d.paths['/apis/apps/v1/deployments'], undefined);
  const core = doc('api/v1');
  t.is(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'], undefined);
  t.is(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'], undefined);
  t.truthy(core.paths['/api/v1/namespaces/{name}']!.patch);
  t.truthy(core.paths['/api/v1/namespaces/{name}/finalize']!.put);
  t.truthy(core.paths['/api/v1/nodes/{name}/status']!.patch);
  // Every PATCH of a kind lists fieldValidation: kubectl looks at the first it finds.
  for (const gv of GROUP_VERSIONS)
    for (const [p, ops] of Object.entries(doc(gv).paths))
      for (const [verb, op] of Object.entries(ops))
        t.true(
          (op.parameters as { name: string }[]).some((q) => q.name === 'fieldValidation'),
          `${gv} ${verb} ${p}`,
        );
  // The v2 document keeps the full operations.
  const v2 = JSON.parse(openapiV2Document()) as V2;
  t.truthy(v2.paths['/apis/apps/v1/deployments']!.get);
  t.truthy(v2.paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!.get);
});

/** JSON objects in a value: what kubectl's parse of a document costs is mostly their number. */
function jsonObjects(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, c) => n + jsonObjects(c), 0);
  if (typeof v !== 'object' || v === null) return 0;
  return 1 + Object.values(v).reduce((n: number, c) => n + jsonObjects(c), 0);
}

// kubectl 1.32 parses the document of an object's group version for every object it applies
// (kubernetes/kubernetes#127095): about 4 µs per JSON object and 7 µs per KB on this
// project's 2-core machine. 1,000 Services need api/v1 near 100 KB and 800 objects to apply
// in under 8 s (412 KB and 3,700 objects took 23 s). The budgets leave ~10% of room.
const BUDGETS: Record<string, { bytes: number; objects: number }> = {
  'api/v1': { bytes: 122_000, objects: 880 },
  'apis/apps/v1': { bytes: 67_000, objects: 480 },
  'apis/discovery.k8s.io/v1': { bytes: 25_000, objects: 130 },
  'apis/events.k8s.io/v1': { bytes: 20_000, objects: 110 },
  'apis/extensions/v1beta1': { bytes: 84_000, objects: 610 },
  'apis/networking.k8s.io/v1': { bytes: 31_000, objects: 210 },
};

test('each document stays within its size budget', (t) => {
  for (const gv of GROUP_VERSIONS) {
    const text = openapiV3Document(gv)!;
    const budget = BUDGETS[gv]!;
    const n = jsonObjects(JSON.parse(text));
    t.log(`${gv}: ${text.length} bytes, ${n} objects`);
    t.true(text.length <= budget.bytes, `${gv}: ${text.length} bytes > ${budget.bytes}`);
    t.true(n <= budget.objects, `${gv}: ${n} objects > ${budget.objects}`);
  }
});

type S = { [k: string]: unknown };

/** A property's schema with allOf, $ref and items followed (the way kubectl reads them). */
function follow(d: Doc, s: S | undefined): S | undefined {
  let cur = s;
  for (let i = 0; cur !== undefined && i < 8; i++) {
    const allOf = cur.allOf as S[] | undefined;
    if (allOf?.length) cur = allOf[0];
    else if (typeof cur.$ref === 'string')
      cur = d.components.schemas[(cur.$ref as string).split('/').pop()!];
    else if (cur.items !== undefined) cur = cur.items as S;
    else break;
  }
  return cur;
}

test('the patch tags of patch/schema.ts are on the schemas, at every path of every kind', (t) => {
  let checked = 0;
  for (const [gv, kinds] of Object.entries(KINDS)) {
    const d = doc(gv);
    const { group, version } = gvOf(gv);
    for (const kind of kinds) {
      for (const [path, meta] of Object.entries(patchMetaTable(kind))) {
        let at = schemaOf(d, { group, version, kind }) as S | undefined;
        let prop: S | undefined;
        for (const field of path.split('.')) {
          prop = (at?.properties as Record<string, S> | undefined)?.[field];
          at = follow(d, prop);
        }
        t.truthy(prop, `${gv} ${kind} ${path}`);
        t.is(prop?.['x-kubernetes-patch-strategy'], meta.strategy, `${gv} ${kind} ${path}`);
        t.is(prop?.['x-kubernetes-patch-merge-key'], meta.mergeKey, `${gv} ${kind} ${path}`);
        checked++;
      }
    }
  }
  t.true(checked > 40, `${checked}`);
  // And only those: no other property carries tags.
  const s = doc('apis/apps/v1').components.schemas;
  const containers = (s['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, S>).containers!;
  t.is(containers['x-kubernetes-patch-merge-key'], 'name');
  t.is(containers['x-kubernetes-patch-strategy'], 'merge');
  const tolerations = (s['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, S>)
    .tolerations!;
  t.is(tolerations['x-kubernetes-patch-strategy'], undefined);
  t.truthy(s['io.k8s.api.autoscaling.v1.Scale']);
});

test('the schemas are named, typed and described as the API has them', (t) => {
  const s = doc('apis/apps/v1').components.schemas;
  const spec = s['io.k8s.api.apps.v1.DeploymentSpec']!;
  const props = spec.properties as Record<string, S>;
  t.deepEqual(spec.required, ['selector', 'template']);
  t.like(props.replicas, { type: 'integer', format: 'int32' });
  t.regex(props.replicas!.description as string, /^Number of desired pods\. /);
  t.is(
    props.selector!.$ref,
    '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  );
  t.is(
    s['io.k8s.api.apps.v1.Deployment']!.description,
    'Deployment enables declarative updates for Pods and ReplicaSets.',
  );
  const meta = s['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!.properties as Record<
    string,
    S
  >;
  t.deepEqual(meta.labels!.additionalProperties, { type: 'string' });
  t.deepEqual(meta.creationTimestamp!.allOf, [
    { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' },
  ]);
  t.regex(meta.creationTimestamp!.description as string, /^CreationTimestamp is a timestamp/);
  t.like(s['io.k8s.apimachinery.pkg.apis.meta.v1.Time'], { type: 'string', format: 'date-time' });
  const intOrString = s['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!;
  t.is(intOrString.format, 'int-or-string');
  t.is(intOrString['x-kubernetes-int-or-string'], true);
  const rolling = s['io.k8s.api.apps.v1.RollingUpdateDeployment']!.properties as Record<string, S>;
  t.is(
    rolling.maxSurge!.$ref ?? (rolling.maxSurge!.allOf as S[])[0]!.$ref,
    '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  );
  const resources = s['io.k8s.api.core.v1.ResourceRequirements']!.properties as Record<string, S>;
  t.deepEqual(resources.limits!.additionalProperties, {
    $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity',
  });
  // Names that client-node prefixes with the group: CoreV1EndpointPort, EventsV1Event.
  t.truthy(doc('api/v1').components.schemas['io.k8s.api.core.v1.EndpointPort']);
  t.truthy(
    doc('apis/discovery.k8s.io/v1').components.schemas['io.k8s.api.discovery.v1.EndpointPort'],
  );
  t.truthy(doc('apis/events.k8s.io/v1').components.schemas['io.k8s.api.events.v1.EventSeries']);
  const secret = doc('api/v1').components.schemas['io.k8s.api.core.v1.Secret']!
    .properties as Record<string, S>;
  t.deepEqual(secret.data!.additionalProperties, { format: 'byte', type: 'string' });
  // Each document has only what its paths reach (api/v1 has no apps types).
  t.false(Object.keys(doc('api/v1').components.schemas).some((n) => n.includes('.apps.')));
});

test('unmodelled subtrees are collapsed; modelled fields keep their full descriptions', (t) => {
  const s = doc('api/v1').components.schemas;
  const props = (name: string): Record<string, S> =>
    s[`io.k8s.api.core.v1.${name}`]!.properties as Record<string, S>;
  // A field of a type svclab does not model: a free-form object, its first sentence and a note.
  t.deepEqual(props('PodSpec').affinity, {
    description:
      'Affinity is a group of affinity scheduling rules. (svclab does not model this field.)',
    type: 'object',
  });
  t.like(props('PodSpec').securityContext, { type: 'object' });
  t.is(props('PodSpec').securityContext!.properties, undefined);
  t.like(props('Container').lifecycle, { type: 'object' });
  for (const name of ['Affinity', 'PodSecurityContext', 'SecurityContext', 'EphemeralContainer'])
    t.is(s[`io.k8s.api.core.v1.${name}`], undefined, name);
  // Modelled: every field, the chosen ones described in full, Container's others by their
  // first sentence.
  t.regex(
    props('Container').image!.description as string,
    /^Container image name\. .* This field is optional to allow higher level config management/,
  );
  t.is(
    props('Container').stdin!.description,
    'Whether this container should allocate a buffer for stdin in the container runtime.',
  );
  t.regex(props('PodSpec').dnsPolicy!.description as string, /^Set DNS policy for the pod\. .+\./);
  t.regex(props('ServiceSpec').type!.description as string, /"ExternalName" aliases this service/);
  // Types whose contents manifests often change keep their fields (first sentences), so
  // kubectl apply's patches find those they descend into (resources.limits, a probe's
  // httpGet, a volume's configMap); Volume only its common sources.
  t.deepEqual(Object.keys(props('ResourceRequirements')).sort(), ['claims', 'limits', 'requests']);
  t.deepEqual(
    ['exec', 'httpGet', 'initialDelaySeconds'].map((f) => f in props('Probe')),
    [true, true, true],
  );
  t.like(props('Probe').initialDelaySeconds, { type: 'integer' });
  t.deepEqual(s['io.k8s.api.core.v1.HTTPGetAction']!.required, ['port']);
  t.true('configMap' in props('Volume') && 'secret' in props('Volume'));
  t.false('nfs' in props('Volume'));
  t.deepEqual(s['io.k8s.api.core.v1.Volume']!.required, ['name']);
  t.regex(s['io.k8s.api.core.v1.Volume']!.description as string, /svclab does not model this type/);
  // Tagged lists below a collapsed field stay, with their tags.
  const ephemeral = props('PodSpec').ephemeralContainers!.items as S;
  t.deepEqual(Object.keys(ephemeral.properties as object).sort(), [
    'env',
    'ports',
    'volumeDevices',
    'volumeMounts',
  ]);
  // The v2 document (kubectl's fallback) and unknownFields keep the full schemas.
  const v2 = JSON.parse(openapiV2Document()) as V2;
  t.truthy(v2.definitions['io.k8s.api.core.v1.PodSecurityContext']);
  t.truthy(
    (v2.definitions['io.k8s.api.core.v1.Probe']!.properties as Record<string, S>)
      .initialDelaySeconds,
  );
});

test('the document URLs are cached as the API server has them: ETag, 301 for a stale hash', (t) => {
  const hash = openapiV3Hash('apis/apps/v1')!;
  const current = openapiV3Reply(`/openapi/v3/apis/apps/v1?hash=${hash}`, {
    accept: 'application/json',
  })!;
  t.is(current.status, 200);
  t.is(current.headers['Cache-Control'], 'public, immutable');
  t.is(current.headers.ETag, `"${hash}"`);
  t.truthy(current.headers.Expires);
  t.is(current.body, openapiV3Document('apis/apps/v1')!);
  t.is(current.headers['Content-Length'], String(Buffer.byteLength(current.body)));

  const stale = openapiV3Reply('/openapi/v3/apis/apps/v1?hash=0123ABC', {})!;
  t.is(stale.status, 301);
  t.is(stale.headers.Location, `/openapi/v3/apis/apps/v1?hash=${hash}`);
  t.is(stale.body, '');

  const plain = openapiV3Reply('/openapi/v3/apis/apps/v1', { accept: '*/*' })!;
  t.is(plain.status, 200);
  t.is(plain.headers['Cache-Control'], 'no-cache, private');
  t.is(plain.headers.ETag, `"${hash}"`);

  const again = openapiV3Reply('/openapi/v3/apis/apps/v1', { 'if-none-match': `"${hash}"` })!;
  t.is(again.status, 304);
  t.is(again.body, '');

  const protobuf = openapiV3Reply('/openapi/v3/api/v1', {
    accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf',
  })!;
  t.is(protobuf.status, 406);

  const index = openapiV3Reply('/openapi/v3', {})!;
  t.is(index.status, 200);
  t.deepEqual(JSON.parse(index.body), openapiV3Index());
  t.regex(index.headers.ETag!, /^"[0-9A-F]{128}"$/);
  t.is(openapiV3Reply('/openapi/v3/apis/batch/v1', {}), undefined);
  t.is(openapiV3Reply('/api/v1', {}), undefined);
});

test('extensions/v1beta1 has the old Ingress and Deployment shapes', (t) => {
  const d = doc('apis/extensions/v1beta1');
  const s = d.components.schemas;
  const props = (name: string): Record<string, { [k: string]: unknown }> =>
    s[`io.k8s.api.extensions.v1beta1.${name}`]!.properties as Record<
      string,
      { [k: string]: unknown }
    >;
  t.deepEqual(Object.keys(props('IngressSpec')).sort(), [
    'backend',
    'ingressClassName',
    'rules',
    'tls',
  ]);
  t.deepEqual(Object.keys(props('IngressBackend')).sort(), [
    'resource',
    'serviceName',
    'servicePort',
  ]);
  t.deepEqual(Object.keys(props('HTTPIngressPath')).sort(), ['backend', 'path', 'pathType']);
  t.truthy(props('DeploymentSpec').rollbackTo);
  t.deepEqual(s['io.k8s.api.extensions.v1beta1.DeploymentSpec']!.required, ['template']);
  t.false(JSON.stringify(d).includes('io.k8s.api.networking.v1.'));
  t.false(JSON.stringify(d).includes('io.k8s.api.apps.v1.'));
  t.truthy(d.paths['/apis/extensions/v1beta1/namespaces/{namespace}/ingresses/{name}']);
});

interface V2 {
  swagger: string;
  paths: Record<string, Record<string, { [k: string]: unknown }>>;
  definitions: Record<string, { [k: string]: unknown }>;
}

test('the v2 document is in swagger 2.0 form', (t) => {
  const text = openapiV2Document();
  const v2 = JSON.parse(text) as V2;
  t.is(v2.swagger, '2.0');
  t.false(text.includes('#/components/'));
  t.true(text.includes('"$ref":"#/definitions/'));
  const patch = v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch!;
  t.true((patch.consumes as string[]).includes('application/strategic-merge-patch+json'));
  t.true((patch.parameters as { name: string; in: string }[]).some((p) => p.in === 'body'));
  t.true(
    (patch.parameters as { name: string; in: string }[]).some(
      (p) => p.name === 'fieldValidation' && p.in === 'query',
    ),
  );
});

test('the v2 document covers the same kinds', (t) => {
  const v2 = JSON.parse(openapiV2Document()) as V2;
  for (const [gv, kinds] of Object.entries(KINDS)) {
    const { group, version } = gvOf(gv);
    for (const kind of kinds) {
      t.truthy(
        Object.values(v2.definitions).find((d) =>
          ((d['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some(
            (g) => g.group === group && g.version === version && g.kind === kind,
          ),
        ),
        `${gv} ${kind}`,
      );
    }
  }
  const spec = v2.definitions['io.k8s.api.apps.v1.DeploymentSpec']!;
  const props = spec.properties as Record<string, Record<string, unknown>>;
  t.is(props.template!.$ref, '#/definitions/io.k8s.api.core.v1.PodTemplateSpec');
  // allOf around a ref is folded into the property, its extensions kept.
  t.is(props.strategy!.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy');
  t.is(props.strategy!['x-kubernetes-patch-strategy'], 'retainKeys');
  t.regex(props.replicas!.description as string, /^Number of desired pods/);
  // IntOrString and Quantity are strings in v2.
  t.like(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], {
    format: 'int-or-string',
    type: 'string',
  });
  t.like(v2.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'], { type: 'string' });
});

test('unknownFields finds misspelt fields at depth and takes map keys', (t) => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { 'any.key/x': 'v' }, annotations: { a: 'b' } },
    spec: {
      replica: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'x' },
            {
              name: 'b',
              image: 'y',
              imagePullPolcy: 'Always',
              resources: { limits: { cpu: '1' } },
              ports: [{ containerPort: 80, prot: 'TCP' }],
            },
          ],
        },
      },
    },
  };
  t.deepEqual(unknownFields('apps/v1', 'Deployment', deployment), [
    'spec.replica',
    'spec.template.spec.containers[1].imagePullPolcy',
    'spec.template.spec.containers[1].ports[0].prot',
  ]);
  t.deepEqual(
    unknownFields('apps/v1', 'Deployment', {
      spec: { replica: 1, template: { spec: { containers: [{ imagePullPolcy: 'Always' }] } } },
    }),
    ['spec.replica', 'spec.template.spec.containers[0].imagePullPolcy'],
  );
  t.deepEqual(
    unknownFields('v1', 'ConfigMap', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { 'some.key': 'v', other: 'w' },
      binaryData: { b: 'AA==' },
    }),
    [],
  );
  t.deepEqual(
    unknownFields('v1', 'Secret', {
      metadata: { name: 's', annotations: { 'x/y': 'z' } },
      type: 'Opaque',
      stringData: { k: 'v' },
      dat: {},
    }),
    ['dat'],
  );
  // managedFields' fieldsV1 is free-form.
  t.deepEqual(
    unknownFields('v1', 'Service', {
      metadata: { managedFields: [{ fieldsV1: { 'f:spec': { 'f:ports': {} } } }] },
      spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { a: 'b' } },
    }),
    [],
  );
  t.deepEqual(
    unknownFields('v1', 'Service', { spec: { portz: [{ port: 80 }], ports: [{ port: 80 }] } }),
    ['spec.portz'],
  );
  // Within the subtrees the served documents collapse the check still has every field (it
  // uses the full schemas): the real ones pass, a typo does not.
  const pod = (securityContext: object) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    spec: {
      securityContext,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] },
            ],
          },
        },
      },
      containers: [
        {
          name: 'c',
          image: 'x',
          livenessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 3 },
          resources: { limits: { cpu: '1' } },
        },
      ],
    },
  });
  t.deepEqual(unknownFields('v1', 'Pod', pod({ runAsUser: 1000, fsGroup: 2000 })), []);
  t.deepEqual(unknownFields('v1', 'Pod', pod({ runAsUsr: 1000 })), [
    'spec.securityContext.runAsUsr',
  ]);
  t.deepEqual(unknownFields('batch/v1', 'Job', { spec: { nonsense: 1 } }), []);
  t.deepEqual(unknownFields('autoscaling/v1', 'Scale', { spec: { replicas: 2, x: 1 } }), [
    'spec.x',
  ]);
});

test('unknownFields takes the seed manifests, old API versions included', (t) => {
  const yamlFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? yamlFiles(join(dir, e.name))
        : /\.ya?ml$/.test(e.name)
          ? [join(dir, e.name)]
          : [],
    );
  const files = yamlFiles('scenarios/seed/manifests');
  t.true(files.length >= 15, files.join(' '));
  const seen = new Set<string>();
  for (const file of files) {
    for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const obj = d.toJS() as { apiVersion: string; kind: string } | null;
      if (!obj) continue;
      seen.add(`${obj.apiVersion} ${obj.kind}`);
      t.deepEqual(unknownFields(obj.apiVersion, obj.kind, obj), [], `${file} ${obj.kind}`);
    }
  }
  // Every kind the seed uses has a schema (so none passed for want of one).
  for (const k of seen) t.truthy(kindSchema(k.split(' ')[0]!, k.split(' ')[1]!), k);
  t.true(seen.has('v1 Service'));
  t.true(seen.has('apps/v1 Deployment'));
  t.true(seen.has('extensions/v1beta1 Deployment'));
  t.true(seen.has('extensions/v1beta1 Ingress'));
  // The v1beta1 backend fields are not networking/v1's.
  const ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    spec: { rules: [{ http: { paths: [{ path: '/', backend: { serviceName: 's' } }] } }] },
  };
  t.deepEqual(unknownFields('networking.k8s.io/v1', 'Ingress', ingress), [
    'spec.rules[0].http.paths[0].backend.serviceName',
  ]);
  t.deepEqual(
    unknownFields('extensions/v1beta1', 'Deployment', {
      spec: { rollbackTo: { revision: 1 }, template: { spec: { containers: [{ nam: 'x' }] } } },
    }),
    ['spec.template.spec.containers[0].nam'],
  );
});

// ---- the real kubectl against a stub server ------------------------------------------------

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!hasKubectl) console.log('kubectl not on PATH: the kubectl tests are skipped');
const kubectlTest = hasKubectl ? test.serial : test.skip;

interface ResourceDef {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}

const RESOURCES: Record<string, ResourceDef[]> = {
  v1: [
    {
      name: 'services',
      singularName: 'service',
      kind: 'Service',
      namespaced: true,
      shortNames: ['svc'],
    },
    { name: 'pods', singularName: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'] },
    {
      name: 'configmaps',
      singularName: 'configmap',
      kind: 'ConfigMap',
      namespaced: true,
      shortNames: ['cm'],
    },
  ],
  'apps/v1': [
    {
      name: 'deployments',
      singularName: 'deployment',
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
    },
  ],
  'extensions/v1beta1': [
    {
      name: 'deployments',
      singularName: 'deployment',
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
    },
    {
      name: 'ingresses',
      singularName: 'ingress',
      kind: 'Ingress',
      namespaced: true,
      shortNames: ['ing'],
    },
  ],
  'networking.k8s.io/v1': [
    {
      name: 'ingresses',
      singularName: 'ingress',
      kind: 'Ingress',
      namespaced: true,
      shortNames: ['ing'],
    },
  ],
};

const GROUPS = ['apps', 'networking.k8s.io', 'extensions'];
const preferred = (group: string): string =>
  Object.keys(RESOURCES)
    .find((gv) => gv.startsWith(`${group}/`))!
    .split('/')[1]!;

/** What the stub was asked: method, URL and Accept of each request. */
const requests: string[] = [];
/** The objects created through the stub, by URL path. */
const objects = new Map<string, unknown>();
/** Whether the stub's v3 index gives apps/v1 a stale hash. */
let staleIndex = false;
/** The PATCH requests' Content-Type and body. */
const patches: { type: string; body: string }[] = [];

function stub(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://stub');
  const path = url.pathname;
  requests.push(`${req.method} ${req.url} Accept: ${req.headers.accept ?? ''}`);
  const json = (code: number, body: unknown, type = 'application/json'): void => {
    res.writeHead(code, { 'Content-Type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  if (path === '/openapi/v3' && staleIndex) {
    // An index from before a change: apps/v1's URL names a hash the document no longer has.
    const index = openapiV3Index() as { paths: Record<string, { serverRelativeURL: string }> };
    index.paths['apis/apps/v1']!.serverRelativeURL =
      `/openapi/v3/apis/apps/v1?hash=${'0'.repeat(128)}`;
    return json(200, index);
  }
  if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) {
    // As the API server answers: ETag, 301 for a stale hash, immutable for the current one.
    const r = openapiV3Reply(req.url ?? path, req.headers);
    if (r === undefined) return json(404, { kind: 'Status', code: 404 });
    res.writeHead(r.status, r.headers);
    res.end(r.body);
    return;
  }
  if (path === '/openapi/v2') return json(200, openapiV2Document());
  if (path === '/api')
    return json(200, {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
    });
  if (path === '/apis')
    return json(200, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: GROUPS.map((g) => ({
        name: g,
        versions: Object.keys(RESOURCES)
          .filter((gv) => gv.startsWith(`${g}/`))
          .map((gv) => ({ groupVersion: gv, version: gv.split('/')[1] })),
        preferredVersion: { groupVersion: `${g}/${preferred(g)}`, version: preferred(g) },
      })),
    });
  const gv = path === '/api/v1' ? 'v1' : path.replace(/^\/apis\//, '');
  const resources = RESOURCES[gv];
  if (resources)
    return json(200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: resources.map((r) => ({
        ...r,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      })),
    });
  // A create, as the API server makes it with ?fieldValidation=Strict (dry run or not);
  // a patch (recorded, not applied); a get of what was created.
  if (req.method === 'POST' || req.method === 'PATCH') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'PATCH') {
        patches.push({ type: req.headers['content-type'] ?? '', body });
        return json(200, objects.get(path));
      }
      const obj = JSON.parse(body) as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; resourceVersion?: string };
      };
      const unknown = unknownFields(obj.apiVersion, obj.kind, obj);
      if (url.searchParams.get('fieldValidation') === 'Strict' && unknown.length > 0) {
        const version = obj.apiVersion.split('/').pop();
        return json(400, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `${obj.kind} in version "${version}" cannot be handled as a ${obj.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
          reason: 'BadRequest',
          code: 400,
        });
      }
      obj.metadata.resourceVersion = '1';
      if (!url.searchParams.has('dryRun')) objects.set(`${path}/${obj.metadata.name}`, obj);
      json(201, obj);
    });
    return;
  }
  const stored = req.method === 'GET' ? objects.get(path) : undefined;
  if (stored) return json(200, stored);
  // Everything else (the GET apply makes of the object) does not exist.
  json(404, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${path} not found`,
    reason: 'NotFound',
    details: { name: path.split('/').pop() },
    code: 404,
  });
}

let server: Server | undefined;
let dir = '';

test.before(async () => {
  if (!hasKubectl) return;
  dir = mkdtempSync(join(tmpdir(), 'svclab-openapi-'));
  server = createServer(stub);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: stub',
      '  cluster:',
      `    server: http://127.0.0.1:${port}`,
      'users:',
      '- name: u',
      '  user:',
      '    token: any-token',
      'contexts:',
      '- name: stub',
      '  context: {cluster: stub, user: u, namespace: default}',
      'current-context: stub',
      '',
    ].join('\n'),
  );
});

test.after.always(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs kubectl against the stub (async, so the stub in this process can answer). */
function kubectl(
  args: string[],
  cache = 'cache',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'kubectl',
      ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, cache), ...args],
      { env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

kubectlTest('kubectl explain deployment.spec.replicas', async (t) => {
  const r = await kubectl(['explain', 'deployment.spec.replicas']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /GROUP:\s+apps/);
  t.regex(r.stdout, /KIND:\s+Deployment/);
  t.regex(r.stdout, /VERSION:\s+v1/);
  t.regex(r.stdout, /FIELD: replicas <integer>/);
  t.regex(r.stdout, /Number of desired pods/);
});

kubectlTest('kubectl explain svc.spec.ports (a list of objects)', async (t) => {
  const r = await kubectl(['explain', 'svc.spec.ports']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /FIELD: ports <\[\]ServicePort>/);
  t.regex(r.stdout, /targetPort\s+<IntOrString>/);
  t.regex(r.stdout, /port\s+<integer> -required-/);
});

kubectlTest('kubectl explain ingress.spec.backend --api-version=extensions/v1beta1', async (t) => {
  const r = await kubectl(['explain', 'ingress.spec.backend', '--api-version=extensions/v1beta1']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /GROUP:\s+extensions/);
  t.regex(r.stdout, /VERSION:\s+v1beta1/);
  t.regex(r.stdout, /A default backend capable of servicing requests/);
  t.regex(r.stdout, /serviceName\s+<string>/);
  t.regex(r.stdout, /servicePort\s+<IntOrString>/);
  const ga = await kubectl(['explain', 'ingress.spec.defaultBackend']);
  t.is(ga.code, 0, ga.stderr);
  t.regex(ga.stdout, /GROUP:\s+networking\.k8s\.io/);
});

kubectlTest(
  "kubectl keeps a document in its HTTP cache, and follows a stale hash's 301",
  async (t) => {
    const docRequests = (): string[] =>
      requests.filter((q) => q.startsWith('GET /openapi/v3/apis/apps/v1?'));
    requests.length = 0;
    const first = await kubectl(['explain', 'deployment.spec.replicas'], 'cache-http');
    t.is(first.code, 0, first.stderr);
    t.is(docRequests().length, 1);
    // Asked for with its current hash, the document came back immutable: kubectl does not
    // ask again (it does read the index again).
    requests.length = 0;
    const second = await kubectl(['explain', 'deployment.spec.paused'], 'cache-http');
    t.is(second.code, 0, second.stderr);
    t.regex(second.stdout, /Indicates that the deployment is paused/);
    t.deepEqual(docRequests(), []);
    t.true(requests.some((q) => q.startsWith('GET /openapi/v3?')));

    // A stale hash gets 301 to the current URL, which kubectl follows.
    staleIndex = true;
    requests.length = 0;
    try {
      const stale = await kubectl(['explain', 'deployment.spec.replicas'], 'cache-stale');
      t.is(stale.code, 0, stale.stderr);
      t.regex(stale.stdout, /Number of desired pods/);
    } finally {
      staleIndex = false;
    }
    const hash = openapiV3Hash('apis/apps/v1')!;
    t.deepEqual(
      docRequests().map((q) => /hash=([0-9A-F]+)/.exec(q)![1]),
      ['0'.repeat(128), hash],
    );
  },
);

kubectlTest('kubectl explain reports a field that does not exist', async (t) => {
  const r = await kubectl(['explain', 'deployment.spec.replica']);
  t.not(r.code, 0);
  t.regex(r.stderr, /field "replica" does not exist/);
});

kubectlTest('kubectl explain: modelled fields in full, unmodelled ones collapsed', async (t) => {
  const flat = (text: string): string => text.replace(/\s+/g, ' ');
  const image = await kubectl(['explain', 'deployment.spec.template.spec.containers.image']);
  t.is(image.code, 0, image.stderr);
  t.regex(image.stdout, /FIELD: image <string>/);
  t.regex(flat(image.stdout), /optional to allow higher level config management to default/);
  const affinity = await kubectl(['explain', 'pod.spec.affinity']);
  t.is(affinity.code, 0, affinity.stderr);
  t.regex(affinity.stdout, /FIELD: affinity <Object>/);
  t.regex(
    flat(affinity.stdout),
    /affinity scheduling rules\. \(svclab does not model this field\.\)/,
  );
  const probe = await kubectl(['explain', 'pod.spec.containers.livenessProbe']);
  t.is(probe.code, 0, probe.stderr);
  t.regex(probe.stdout, /FIELD: livenessProbe <Probe>/);
  t.regex(probe.stdout, /httpGet\s+<HTTPGetAction>/);
  t.regex(flat(probe.stdout), /svclab does not model this type/);
  t.regex(probe.stdout, /initialDelaySeconds\s+<integer>/);
});

kubectlTest(
  'kubectl apply patches changes inside collapsed fields from the v3 document, without a warning',
  async (t) => {
    const file = join(dir, 'nested.yaml');
    const manifest = (cpu: string, path: string, configMap: string, runAsUser: number): string =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: nested}',
        'spec:',
        '  selector: {matchLabels: {app: nested}}',
        '  template:',
        '    metadata: {labels: {app: nested}}',
        '    spec:',
        `      securityContext: {runAsUser: ${runAsUser}}`,
        '      containers:',
        '      - name: web',
        '        image: nginx:1.25',
        `        resources: {limits: {cpu: "${cpu}"}}`,
        `        livenessProbe: {httpGet: {path: ${path}, port: 80}}`,
        '        env: [{name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]',
        '      volumes:',
        `      - {name: cfg, configMap: {name: ${configMap}}}`,
        '',
      ].join('\n');
    writeFileSync(file, manifest('1', '/', 'a', 1000));
    const created = await kubectl(['apply', '-f', file], 'cache-nested');
    t.is(created.code, 0, created.stderr);
    writeFileSync(file, manifest('2', '/healthz', 'b', 1001));
    patches.length = 0;
    requests.length = 0;
    const changed = await kubectl(['apply', '-f', file], 'cache-nested');
    t.is(changed.code, 0, changed.stderr);
    t.notRegex(changed.stderr, /warning/);
    t.false(requests.some((q) => q.startsWith('GET /openapi/v2')));
    t.is(patches.length, 1);
    t.is(patches[0]!.type, 'application/strategic-merge-patch+json');
    const spec = (
      JSON.parse(patches[0]!.body) as { spec: { template: { spec: Record<string, unknown> } } }
    ).spec.template.spec;
    t.deepEqual(spec.securityContext, { runAsUser: 1001 });
    t.deepEqual(spec.containers, [
      {
        livenessProbe: { httpGet: { path: '/healthz' } },
        name: 'web',
        resources: { limits: { cpu: '2' } },
      },
    ]);
    t.deepEqual(spec.volumes, [
      { $retainKeys: ['configMap', 'name'], configMap: { name: 'b' }, name: 'cfg' },
    ]);
  },
);

kubectlTest(
  'kubectl apply --validate=strict --dry-run=client leaves validation to the server',
  async (t) => {
    requests.length = 0;
    const r = await kubectl(
      [
        'apply',
        '--dry-run=client',
        '--validate=strict',
        '-f',
        'scenarios/seed/manifests/svc-deployment.yaml',
        '-o',
        'name',
      ],
      'cache-apply',
    );
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.trim(), 'deployment.apps/myapp-deploy');
    t.log(requests.join('\n'));
    // kubectl read the v3 index and the apps/v1 document (to see that the server validates
    // fields itself), then looked the object up; it never needed the v2 document.
    t.true(requests.some((q) => /^GET \/openapi\/v3[? ]/.test(q)));
    t.true(requests.some((q) => q.startsWith('GET /openapi/v3/apis/apps/v1?hash=')));
    t.true(
      requests.some((q) =>
        q.startsWith('GET /apis/apps/v1/namespaces/default/deployments/myapp-deploy'),
      ),
    );
    t.false(requests.some((q) => q.startsWith('GET /openapi/v2')));

    // A misspelt field is no client-side error: the server is trusted to reject it.
    const bad = join(dir, 'bad.yaml');
    const manifest = readFileSync('scenarios/seed/manifests/svc-deployment.yaml', 'utf8');
    writeFileSync(bad, manifest.replace('replicas:', 'replica:'));
    const b = await kubectl([
      'apply',
      '--dry-run=client',
      '--validate=strict',
      '-f',
      bad,
      '-o',
      'name',
    ]);
    t.is(b.code, 0, b.stderr);

    // With the server's dry run, the create reaches the server with fieldValidation=Strict,
    // and the unknown field comes back as the API server words it.
    requests.length = 0;
    const s = await kubectl(['apply', '--dry-run=server', '-f', bad, '-o', 'name']);
    t.not(s.code, 0);
    t.regex(s.stderr, /strict decoding error: unknown field "spec\.replica"/);
    const post = requests.find((q) => q.startsWith('POST '));
    t.regex(post ?? '', /^POST \/apis\/apps\/v1\/namespaces\/default\/deployments\?/);
    t.regex(post ?? '', /[?&]fieldValidation=Strict(&|\s)/);
    t.regex(post ?? '', /[?&]dryRun=All(&|\s)/);
    t.log(post);
  },
);

kubectlTest(
  'kubectl apply of a changed object sends a strategic merge patch, merging containers by name',
  async (t) => {
    const file = join(dir, 'deploy.yaml');
    const manifest = readFileSync('scenarios/seed/manifests/svc-deployment.yaml', 'utf8');
    writeFileSync(file, manifest);
    const created = await kubectl(['apply', '-f', file]);
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /deployment.apps\/myapp-deploy created/);
    writeFileSync(file, manifest.replace('myapp:v2', 'myapp:v3'));
    patches.length = 0;
    requests.length = 0;
    const changed = await kubectl(['apply', '-f', file]);
    t.is(changed.code, 0, changed.stderr);
    t.notRegex(changed.stderr, /warning/);
    // The patch comes from the v3 document (x-kubernetes-patch-merge-key and -strategy): no
    // fallback to the v2 one.
    t.false(requests.some((q) => q.startsWith('GET /openapi/v2')));
    t.is(patches.length, 1);
    t.is(patches[0]!.type, 'application/strategic-merge-patch+json');
    // containers is merged by name.
    const patch = JSON.parse(patches[0]!.body) as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    t.deepEqual(patch.spec.template.spec['$setElementOrder/containers'], [{ name: 'myapp' }]);
    t.deepEqual(patch.spec.template.spec.containers, [
      { image: 'wangyanglinux/myapp:v3', name: 'myapp' },
    ]);
  },
);

kubectlTest(
  'kubectl apply patches merge Service ports by port and v1beta1 container ports by containerPort',
  async (t) => {
    const file = join(dir, 'vh.yaml');
    const manifest = readFileSync('scenarios/seed/manifests/ingress-vh/deployment.yaml', 'utf8');
    writeFileSync(file, manifest);
    const created = await kubectl(['apply', '-f', file], 'cache-merge');
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /deployment.extensions\/deployment1 created/);
    writeFileSync(
      file,
      manifest
        .replace('myapp:v1', 'myapp:v2')
        .replace('- containerPort: 80', '- containerPort: 80\n            - containerPort: 443')
        .replace('targetPort: 80', 'targetPort: 8080'),
    );
    patches.length = 0;
    requests.length = 0;
    const changed = await kubectl(['apply', '-f', file], 'cache-merge');
    t.is(changed.code, 0, changed.stderr);
    t.notRegex(changed.stderr, /warning/);
    t.false(requests.some((q) => q.startsWith('GET /openapi/v2')));
    t.is(patches.length, 2);
    type Patch = {
      spec: { template: { spec: Record<string, unknown> } } & Record<string, unknown>;
    };
    const [deployment, service] = patches.map((p) => JSON.parse(p.body) as Patch);
    // containers by name, and within a container its ports by containerPort.
    t.deepEqual(deployment!.spec.template.spec['$setElementOrder/containers'], [{ name: 'nginx' }]);
    t.deepEqual(deployment!.spec.template.spec.containers, [
      {
        '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 443 }],
        image: 'wangyanglinux/myapp:v2',
        name: 'nginx',
        ports: [{ containerPort: 443 }],
      },
    ]);
    // A Service's ports by port.
    t.deepEqual(service!.spec, {
      '$setElementOrder/ports': [{ port: 80 }],
      ports: [{ port: 80, targetPort: 8080 }],
    });
  },
);

kubectlTest(
  "kubectl apply of extensions/v1beta1 manifests reads that group's document",
  async (t) => {
    requests.length = 0;
    const r = await kubectl(
      [
        'apply',
        '--dry-run=server',
        '-f',
        'scenarios/seed/manifests/ingress1.yaml',
        '-f',
        'scenarios/seed/manifests/ingress-vh/deployment.yaml',
        '-o',
        'name',
      ],
      'cache-extensions',
    );
    t.is(r.code, 0, r.stderr);
    t.deepEqual(r.stdout.trim().split('\n').sort(), [
      'deployment.extensions/deployment1',
      'ingress.extensions/nginx-test',
      'service/svc-1',
    ]);
    t.true(requests.some((q) => q.startsWith('GET /openapi/v3/apis/extensions/v1beta1?hash=')));
    t.true(
      requests.some((q) =>
        /^POST \/apis\/extensions\/v1beta1\/namespaces\/default\/ingresses\?.*fieldValidation=Strict/.test(
          q,
        ),
      ),
    );
    t.false(requests.some((q) => q.startsWith('GET /openapi/v2')));
  },
);
