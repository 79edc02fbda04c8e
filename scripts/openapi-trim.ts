// Makes the data folder of src/apiserver/openapi (see its README.md): trimmed copies of
// Kubernetes 1.32's OpenAPI v3 documents for the group versions svclab's API server
// serves, and an extensions/v1beta1 document derived from them. Run by hand:
//
//   npx tsx scripts/openapi-trim.ts --v3 DIR --ext-doc FILE --out DIR
//
// --v3: Kubernetes' api/openapi-spec/v3 folder (files api__v1_openapi.json ...), or a folder
//       laid out as api/v1.json, apis/apps/v1.json ... (kubectl-validate's builtins/1.32).
// --ext-doc: k8s.io/api's extensions/v1beta1/types_swagger_doc_generated.go (the v1beta1
//       field descriptions).
// --out: the data folder to write (the API server reads $SVCLAB_OPENAPI_DATA, else
//       ../shared/openapi beside svclab's folder).
//
// Kept: the paths of the served resources (and their status/scale/log/exec subresources),
// without the deprecated /watch/ paths; every schema those paths reach, plus WatchEvent.
// Response and request bodies keep the JSON and YAML media types (and the patch types);
// protobuf and CBOR, which svclab does not speak, are dropped.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const v3Dir = arg('--v3');
const extDoc = arg('--ext-doc');
const outDir = arg('--out');
if (!v3Dir || !extDoc || !outDir) {
  console.error('usage: tsx scripts/openapi-trim.ts --v3 DIR --ext-doc FILE --out DIR');
  process.exit(2);
}

function load(gvPath: string): Obj {
  const flat = join(v3Dir!, `${gvPath.replaceAll('/', '__')}_openapi.json`);
  const nested = join(v3Dir!, `${gvPath}.json`);
  const file = existsSync(flat) ? flat : nested;
  return JSON.parse(readFileSync(file, 'utf8')) as Obj;
}

const isObj = (v: Json | undefined): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: Json | undefined, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what}: not an object`);
  return v;
}

const clone = <T extends Json>(v: T): T => structuredClone(v);

interface GroupVersionSpec {
  /** 'api/v1', 'apis/apps/v1' */
  gvPath: string;
  /** resource → the subresources kept */
  resources: Record<string, string[]>;
}

const SERVED: GroupVersionSpec[] = [
  {
    gvPath: 'api/v1',
    resources: {
      namespaces: ['status', 'finalize'],
      nodes: ['status'],
      pods: ['status', 'log', 'exec'],
      services: ['status'],
      endpoints: [],
      secrets: [],
      configmaps: [],
      events: [],
    },
  },
  {
    gvPath: 'apis/apps/v1',
    resources: { deployments: ['status', 'scale'], replicasets: ['status', 'scale'] },
  },
  { gvPath: 'apis/discovery.k8s.io/v1', resources: { endpointslices: [] } },
  {
    gvPath: 'apis/networking.k8s.io/v1',
    resources: { ingresses: ['status'], ingressclasses: [] },
  },
  { gvPath: 'apis/events.k8s.io/v1', resources: { events: [] } },
];

const DROPPED_MEDIA = /protobuf|cbor/;
const SCHEMA_REF = '#/components/schemas/';

/** Whether a path (without the /api/v1 or /apis/G/V prefix) is one of the kept resources'. */
function keepPath(rest: string, resources: Record<string, string[]>): boolean {
  if (rest === '/') return true;
  let segs = rest.split('/').filter((s) => s !== '');
  if (segs[0] === 'watch') return false;
  if (segs[0] === 'namespaces' && segs[1] === '{namespace}' && segs.length > 2)
    segs = segs.slice(2);
  const [resource, name, sub, ...more] = segs;
  if (resource === undefined || more.length > 0) return false;
  const subs = resources[resource];
  if (subs === undefined) return false;
  if (name === undefined) return true;
  if (name !== '{name}') return false;
  return sub === undefined || subs.includes(sub);
}

/** Drops the protobuf and CBOR media types from every `content` map below `v`. */
function dropMedia(v: Json): void {
  if (Array.isArray(v)) v.forEach(dropMedia);
  else if (isObj(v)) {
    for (const [k, child] of Object.entries(v)) {
      if (k === 'content' && isObj(child))
        for (const media of Object.keys(child)) if (DROPPED_MEDIA.test(media)) delete child[media];
      dropMedia(child);
    }
  }
}

function refsIn(v: Json, out: Set<string>): void {
  if (Array.isArray(v)) v.forEach((c) => refsIn(c, out));
  else if (isObj(v)) {
    for (const [k, child] of Object.entries(v)) {
      if (k === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF))
        out.add(child.slice(SCHEMA_REF.length));
      else refsIn(child, out);
    }
  }
}

/** The schemas reachable from `roots` through $refs, sorted by name. */
function closure(roots: Iterable<string>, pool: Obj): Obj {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    const schema = pool[name];
    if (schema === undefined) throw new Error(`schema ${name} not found`);
    seen.add(name);
    const refs = new Set<string>();
    refsIn(schema, refs);
    todo.push(...refs);
  }
  const out: Obj = {};
  for (const name of [...seen].sort()) out[name] = clone(pool[name]!);
  return out;
}

function sortKeys(o: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

function trimmed(source: Obj, spec: GroupVersionSpec, pool: Obj): Obj {
  const prefix = `/${spec.gvPath}`;
  const paths: Obj = {};
  for (const [p, item] of Object.entries(obj(source.paths, 'paths'))) {
    if (!p.startsWith(prefix)) continue;
    if (keepPath(p.slice(prefix.length), spec.resources)) paths[p] = clone(item);
  }
  dropMedia(paths);
  const roots = new Set<string>(['io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent']);
  refsIn(paths, roots);
  const components = obj(source.components, 'components');
  return {
    components: { schemas: closure(roots, pool), securitySchemes: components.securitySchemes! },
    info: source.info!,
    openapi: source.openapi!,
    paths: sortKeys(paths),
  };
}

// ---- extensions/v1beta1 ------------------------------------------------------------------

/** map_<Type> → { '': type description, field: field description } from the Go file. */
function extDescriptions(file: string): Map<string, Map<string, string>> {
  const text = readFileSync(file, 'utf8');
  const out = new Map<string, Map<string, string>>();
  const block = /var map_(\w+) = map\[string\]string\{\n([\s\S]*?)\n\}/g;
  for (const m of text.matchAll(block)) {
    const fields = new Map<string, string>();
    for (const line of m[2]!.split('\n')) {
      const f = /^\s*"(\w*)":\s*(".*"),$/.exec(line);
      if (f) fields.set(f[1]!, JSON.parse(f[2]!) as string);
    }
    out.set(m[1]!, fields);
  }
  return out;
}

const EXT = 'io.k8s.api.extensions.v1beta1.';
/** v1beta1 type ← the apps/v1, networking/v1 or autoscaling/v1 schema it is made from. */
const EXT_FROM: Record<string, string> = {
  Deployment: 'io.k8s.api.apps.v1.Deployment',
  DeploymentList: 'io.k8s.api.apps.v1.DeploymentList',
  DeploymentSpec: 'io.k8s.api.apps.v1.DeploymentSpec',
  DeploymentStatus: 'io.k8s.api.apps.v1.DeploymentStatus',
  DeploymentStrategy: 'io.k8s.api.apps.v1.DeploymentStrategy',
  DeploymentCondition: 'io.k8s.api.apps.v1.DeploymentCondition',
  RollingUpdateDeployment: 'io.k8s.api.apps.v1.RollingUpdateDeployment',
  ReplicaSet: 'io.k8s.api.apps.v1.ReplicaSet',
  ReplicaSetList: 'io.k8s.api.apps.v1.ReplicaSetList',
  ReplicaSetSpec: 'io.k8s.api.apps.v1.ReplicaSetSpec',
  ReplicaSetStatus: 'io.k8s.api.apps.v1.ReplicaSetStatus',
  ReplicaSetCondition: 'io.k8s.api.apps.v1.ReplicaSetCondition',
  Scale: 'io.k8s.api.autoscaling.v1.Scale',
  ScaleSpec: 'io.k8s.api.autoscaling.v1.ScaleSpec',
  ScaleStatus: 'io.k8s.api.autoscaling.v1.ScaleStatus',
  Ingress: 'io.k8s.api.networking.v1.Ingress',
  IngressList: 'io.k8s.api.networking.v1.IngressList',
  IngressSpec: 'io.k8s.api.networking.v1.IngressSpec',
  IngressBackend: 'io.k8s.api.networking.v1.IngressBackend',
  IngressRule: 'io.k8s.api.networking.v1.IngressRule',
  HTTPIngressRuleValue: 'io.k8s.api.networking.v1.HTTPIngressRuleValue',
  HTTPIngressPath: 'io.k8s.api.networking.v1.HTTPIngressPath',
  IngressTLS: 'io.k8s.api.networking.v1.IngressTLS',
  IngressStatus: 'io.k8s.api.networking.v1.IngressStatus',
  IngressLoadBalancerStatus: 'io.k8s.api.networking.v1.IngressLoadBalancerStatus',
  IngressLoadBalancerIngress: 'io.k8s.api.networking.v1.IngressLoadBalancerIngress',
  IngressPortStatus: 'io.k8s.api.networking.v1.IngressPortStatus',
};
const EXT_KINDS = [
  'Deployment',
  'DeploymentList',
  'ReplicaSet',
  'ReplicaSetList',
  'Scale',
  'Ingress',
  'IngressList',
];

/** Renames the $refs to the types above, and the group/version of the kinds. */
function toExt(v: Json): Json {
  if (Array.isArray(v)) return v.map(toExt);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, child] of Object.entries(v)) {
    if (k === '$ref' && typeof child === 'string') {
      const name = child.slice(SCHEMA_REF.length);
      const ext = Object.entries(EXT_FROM).find(([, from]) => from === name);
      out[k] = ext ? `${SCHEMA_REF}${EXT}${ext[0]}` : child;
    } else if (k === 'x-kubernetes-group-version-kind') {
      const rename = (g: Json): Json => {
        const gvk = obj(g, 'gvk');
        return EXT_KINDS.includes(gvk.kind as string) &&
          ['apps', 'networking.k8s.io', 'autoscaling'].includes(gvk.group as string)
          ? { group: 'extensions', kind: gvk.kind!, version: 'v1beta1' }
          : g;
      };
      out[k] = Array.isArray(child) ? child.map(rename) : rename(child);
    } else if (k === 'operationId' && typeof child === 'string') {
      out[k] = child.replace(/(AppsV1|NetworkingV1|AutoscalingV1)/, 'ExtensionsV1beta1');
    } else if (k === 'tags' && Array.isArray(child)) {
      out[k] = child.map(() => 'extensions_v1beta1');
    } else out[k] = toExt(child);
  }
  return out;
}

function refProp(type: string, description: string): Obj {
  return { allOf: [{ $ref: `${SCHEMA_REF}${type}` }], description };
}

function extensions(apps: Obj, networking: Obj, pool: Obj, docFile: string): Obj {
  const docs = extDescriptions(docFile);
  const schemas: Obj = {};
  for (const [name, from] of Object.entries(EXT_FROM)) {
    const s = obj(toExt(clone(obj(pool[from], from))), from);
    schemas[EXT + name] = s;
  }
  const S = (name: string): Obj => obj(schemas[EXT + name], name);
  const props = (name: string): Obj => obj(S(name).properties, `${name}.properties`);

  // The v1beta1 shapes that differ from the GA ones.
  props('DeploymentSpec').rollbackTo = refProp(`${EXT}RollbackConfig`, '');
  S('DeploymentSpec').required = ['template'];
  schemas[`${EXT}RollbackConfig`] = {
    description: '',
    properties: { revision: { description: '', format: 'int64', type: 'integer' } },
    type: 'object',
  };
  delete S('ReplicaSetSpec').required;
  props('ScaleStatus').selector = {
    additionalProperties: { default: '', type: 'string' },
    description: '',
    type: 'object',
  };
  props('ScaleStatus').targetSelector = { description: '', type: 'string' };
  const ingressSpec = props('IngressSpec');
  ingressSpec.backend = refProp(`${EXT}IngressBackend`, '');
  delete ingressSpec.defaultBackend;
  S('IngressSpec').properties = sortKeys(ingressSpec);
  S('IngressBackend').properties = {
    resource: refProp('io.k8s.api.core.v1.TypedLocalObjectReference', ''),
    serviceName: { description: '', type: 'string' },
    servicePort: refProp('io.k8s.apimachinery.pkg.util.intstr.IntOrString', ''),
  };
  S('HTTPIngressPath').required = ['backend'];

  // Descriptions as k8s.io/api's extensions/v1beta1 has them.
  for (const [name, schema] of Object.entries(schemas)) {
    const type = name.slice(EXT.length);
    const doc = docs.get(type);
    if (!doc) throw new Error(`no v1beta1 descriptions for ${type}`);
    const s = obj(schema, name);
    const p = isObj(s.properties) ? s.properties : {};
    for (const [field, text] of doc) {
      if (field === '') s.description = text;
      else if (isObj(p[field])) p[field].description = text;
      else console.warn(`extensions/v1beta1 ${type}.${field}: documented, not in the schema`);
    }
    for (const field of Object.keys(p))
      if (!doc.has(field) && !['apiVersion', 'kind'].includes(field))
        console.warn(`extensions/v1beta1 ${type}.${field}: in the schema, not documented`);
  }

  // Paths: the GA resources' paths, moved under /apis/extensions/v1beta1.
  const paths: Obj = {};
  const move = (source: Obj, gvPath: string, resources: Record<string, string[]>): void => {
    const prefix = `/${gvPath}`;
    for (const [p, item] of Object.entries(obj(source.paths, 'paths'))) {
      if (!p.startsWith(prefix) || !keepPath(p.slice(prefix.length), resources)) continue;
      paths[`/apis/extensions/v1beta1${p.slice(prefix.length)}`] = toExt(clone(item));
    }
  };
  move(apps, 'apis/apps/v1', {
    deployments: ['status', 'scale'],
    replicasets: ['status', 'scale'],
  });
  move(networking, 'apis/networking.k8s.io/v1', { ingresses: ['status'] });
  dropMedia(paths);
  // The GET of /apis/extensions/v1beta1/ lists the group version's resources.
  const root = obj(obj(paths['/apis/extensions/v1beta1/'], 'root').get, 'root get');
  root.description = 'get available resources';

  const roots = new Set<string>(['io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent']);
  refsIn(paths, roots);
  const all = { ...pool, ...schemas };
  return {
    components: {
      schemas: closure(roots, all),
      securitySchemes: obj(apps.components, 'components').securitySchemes!,
    },
    info: apps.info!,
    openapi: apps.openapi!,
    paths: sortKeys(paths),
  };
}

// ---- main --------------------------------------------------------------------------------

const sources = new Map<string, Obj>();
const pool: Obj = {};
for (const spec of SERVED) {
  const doc = load(spec.gvPath);
  sources.set(spec.gvPath, doc);
  const schemas = obj(obj(doc.components, 'components').schemas, 'schemas');
  for (const [name, s] of Object.entries(schemas)) {
    if (pool[name] !== undefined && JSON.stringify(pool[name]) !== JSON.stringify(s))
      console.warn(`schema ${name} differs between documents; keeping the first`);
    pool[name] ??= s;
  }
}

mkdirSync(outDir, { recursive: true });
const write = (gvPath: string, doc: Obj): void => {
  const file = join(outDir, `${gvPath.replaceAll('/', '__')}.json`);
  const text = JSON.stringify(doc);
  writeFileSync(file, text + '\n');
  console.log(`${file}: ${text.length} bytes`);
};
for (const spec of SERVED) write(spec.gvPath, trimmed(sources.get(spec.gvPath)!, spec, pool));
write(
  'apis/extensions/v1beta1',
  extensions(sources.get('apis/apps/v1')!, sources.get('apis/networking.k8s.io/v1')!, pool, extDoc),
);
