// The component schemas of the served documents, made from @kubernetes/client-node's
// generated models (models.ts): every type reachable from the served kinds, named as the
// API server names them (V1DeploymentSpec → io.k8s.api.apps.v1.DeploymentSpec, CoreV1Event
// → io.k8s.api.core.v1.Event, V1ObjectMeta → io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta,
// Date → meta.v1.Time, IntOrString → io.k8s.apimachinery.pkg.util.intstr.IntOrString), with
// the descriptions and required fields of the models, `allOf` around a `$ref` that carries
// a description or patch tags, x-kubernetes-group-version-kind on the kinds and the
// strategic-merge-patch tags of patch/schema.ts. extensions.ts derives the
// extensions/v1beta1 types from these.
import { patchMetaTable } from '../patch/schema.ts';
import type { GroupVersionKind, Schema } from './documents.ts';
import { deriveExtensions } from './extensions.ts';
import {
  classesIn,
  hasModel,
  parseType,
  readModel,
  type Model,
  type ModelField,
  type TypeExpr,
} from './models.ts';
import { groupPackage, RESOURCES } from './paths.ts';

export const SCHEMA_REF = '#/components/schemas/';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const TIME = `${META}Time`;
const MICRO_TIME = `${META}MicroTime`;
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const FIELDS_V1 = `${META}FieldsV1`;

export const ref = (name: string): Schema => ({ $ref: SCHEMA_REF + name });

/**
 * The types client-node writes as plain TypeScript types (Date, IntOrString, string) that
 * the API names: their schemas, as kube-openapi makes them. The descriptions of MicroTime
 * and IntOrString are also in the models (where a field's own was missing); the others
 * are the first sentences of apimachinery's doc comments.
 */
const NAMED_SCALARS: Record<string, Schema> = {
  [TIME]: {
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.',
    format: 'date-time',
    type: 'string',
  },
  [MICRO_TIME]: {
    description: 'MicroTime is version of Time with microsecond level precision.',
    format: 'date-time',
    type: 'string',
  },
  [INT_OR_STRING]: {
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  },
  [QUANTITY]: {
    description:
      'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  [RAW_EXTENSION]: {
    description: 'RawExtension is used to hold extensions in external versions.',
    type: 'object',
  },
  [FIELDS_V1]: {
    description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.',
    type: 'object',
  },
  [`${META}Patch`]: {
    description:
      'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
    type: 'object',
  },
};

/** Fields client-node types `any`: the API types they hold. */
const ANY_FIELDS: Record<string, string> = {
  'V1WatchEvent.object': RAW_EXTENSION,
  'V1ManagedFieldsEntry.fieldsV1': FIELDS_V1,
};

/** Fields client-node types `string` (or a map of strings) that are resource.Quantity. */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1PodSpec.overhead',
  'V1PodStatus.allocatedResources',
  'V1ContainerStatus.allocatedResources',
  'V1NodeStatus.allocatable',
  'V1NodeStatus.capacity',
  'V1NodeAllocatableResourceClaimStatus.resources',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1ResourceFieldSelector.divisor',
]);

/** A group of types that share a component name prefix, and the classes it starts from. */
interface Family {
  /** io.k8s.api.apps.v1. */
  prefix: string;
  gv?: { group: string; version: string };
  /** client-node classes: the kinds (and their lists), then other roots. */
  roots: string[];
  kinds: Set<string>;
}

/** V1Deployment → 'Deployment', CoreV1Event → 'Event', V1beta1Foo → 'Foo'. */
export function shortName(className: string): string {
  const m = /^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])/.exec(className);
  return m === null ? className : className.slice(m[0].length);
}

/** The client-node class of a kind: CoreV1Event / EventsV1Event where the name is shared, else V1Pod. */
function kindClass(group: string, version: string, kind: string): string {
  const v = version[0]!.toUpperCase() + version.slice(1);
  const word = groupPackage(group);
  const prefixed = `${word[0]!.toUpperCase()}${word.slice(1)}${v}${kind}`;
  if (hasModel(prefixed)) return prefixed;
  if (hasModel(v + kind)) return v + kind;
  throw new Error(`@kubernetes/client-node has no model of ${group}/${version} ${kind}`);
}

/**
 * The families in the order they claim types: meta first (everything reaches ObjectMeta),
 * then core (which other groups' types reach: PodTemplateSpec, ObjectReference ...), then
 * the other groups of RESOURCES and autoscaling/v1 (Scale). extensions/v1beta1 is derived.
 */
function families(): Family[] {
  const out: Family[] = [
    {
      prefix: META,
      roots: [
        'V1ObjectMeta',
        'V1ListMeta',
        'V1Status',
        'V1DeleteOptions',
        'V1APIResourceList',
        'V1WatchEvent',
        'V1LabelSelector',
        'V1Condition',
      ],
      kinds: new Set(),
    },
  ];
  const byGv = new Map<string, Family>();
  const family = (group: string, version: string): Family => {
    const key = `${group}/${version}`;
    let f = byGv.get(key);
    if (f === undefined) {
      f = {
        prefix: `io.k8s.api.${groupPackage(group)}.${version}.`,
        gv: { group, version },
        roots: [],
        kinds: new Set(),
      };
      byGv.set(key, f);
    }
    return f;
  };
  const addKind = (group: string, version: string, kind: string): void => {
    const f = family(group, version);
    for (const k of [kind, `${kind}List`]) {
      const cls = kindClass(group, version, k);
      if (!f.kinds.has(cls)) {
        f.kinds.add(cls);
        f.roots.push(cls);
      }
    }
  };
  family('', 'v1'); // core first
  for (const [path, resources] of Object.entries(RESOURCES)) {
    if (path === 'apis/extensions/v1beta1') continue;
    const parts = path.split('/');
    const group = parts[0] === 'api' ? '' : parts[1]!;
    const version = parts[parts.length - 1]!;
    for (const r of resources) {
      addKind(group, version, r.kind);
      if (r.subresources.includes('scale')) {
        const f = family('autoscaling', 'v1');
        if (!f.kinds.has('V1Scale')) {
          f.kinds.add('V1Scale');
          f.roots.push('V1Scale');
        }
      }
    }
  }
  // Core types that only other groups' kinds reach (a Deployment's pod template).
  family('', 'v1').roots.push('V1PodTemplateSpec');
  return [...out, ...byGv.values()];
}

/** The pieces the schemas are made of: each class read, with its component name and kind. */
interface Catalogue {
  models: Map<string, Model>;
  /** class → component name */
  names: Map<string, string>;
  gvks: Map<string, GroupVersionKind>;
  /** component name → the type's description */
  descriptions: Map<string, string>;
}

function catalogue(): Catalogue {
  const models = new Map<string, Model>();
  const names = new Map<string, string>();
  const gvks = new Map<string, GroupVersionKind>();
  const descriptions = new Map<string, string>();
  for (const f of families()) {
    const todo = [...f.roots].reverse();
    while (todo.length > 0) {
      const cls = todo.pop()!;
      if (names.has(cls) || cls === 'V1MicroTime') continue;
      const model = readModel(cls);
      models.set(cls, model);
      names.set(cls, f.prefix + shortName(cls));
      if (model.description !== undefined)
        descriptions.set(f.prefix + shortName(cls), model.description);
      if (f.kinds.has(cls) && f.gv !== undefined)
        gvks.set(cls, { group: f.gv.group, kind: shortName(cls), version: f.gv.version });
      for (const field of model.fields)
        for (const c of classesIn(parseType(field.type)).reverse()) todo.push(c);
    }
  }
  return { models, names, gvks, descriptions };
}

/** Strategic-merge-patch tags by class and field, from the kinds' tables in patch/schema.ts. */
function patchTags(
  cat: Catalogue,
): Map<string, Map<string, { strategy: string; mergeKey?: string }>> {
  const out = new Map<string, Map<string, { strategy: string; mergeKey?: string }>>();
  for (const [cls, gvk] of cat.gvks) {
    for (const [path, meta] of Object.entries(patchMetaTable(gvk.kind))) {
      let at: string | undefined = cls;
      const fields = path.split('.');
      for (let i = 0; i < fields.length && at !== undefined; i++) {
        const field: ModelField | undefined = cat.models
          .get(at)
          ?.fields.find((f) => f.name === fields[i]);
        if (field === undefined) {
          at = undefined;
          break;
        }
        if (i === fields.length - 1) {
          let tags = out.get(at);
          if (tags === undefined) out.set(at, (tags = new Map()));
          tags.set(field.name, meta);
        } else at = classesIn(parseType(field.type))[0];
      }
      // A tagged field the models lack gets no tag (the tests check that none is lost).
    }
  }
  return out;
}

function numberSchema(format: string): Schema {
  return format === 'int32' || format === 'int64'
    ? { format, type: 'integer' }
    : { ...(format !== '' ? { format } : {}), type: 'number' };
}

/**
 * The schema of a value of type `t` (without description), or the component it names
 * (`ref`), for the field `key` (Class.field).
 */
function valueSchema(t: TypeExpr, format: string, key: string, cat: Catalogue): Schema {
  switch (t.kind) {
    case 'array':
      return { items: valueSchema(t.of, format, key, cat), type: 'array' };
    case 'map':
      return { additionalProperties: valueSchema(t.of, format, key, cat), type: 'object' };
    case 'class': {
      if (t.name === 'V1MicroTime') return ref(MICRO_TIME);
      const name = cat.names.get(t.name);
      if (name === undefined) throw new Error(`${key}: ${t.name} not read`);
      return ref(name);
    }
    case 'primitive':
      switch (t.name) {
        case 'string':
          return QUANTITY_FIELDS.has(key)
            ? ref(QUANTITY)
            : { ...(format !== '' ? { format } : {}), type: 'string' };
        case 'number':
          return numberSchema(format);
        case 'boolean':
          return { type: 'boolean' };
        case 'Date':
          return ref(format === 'date-time-micro' ? MICRO_TIME : TIME);
        case 'IntOrString':
          return ref(INT_OR_STRING);
        case 'any': {
          const named = ANY_FIELDS[key];
          return named !== undefined
            ? ref(named)
            : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
        }
        default:
          return { type: 'object' };
      }
  }
}

/** The description a field's schema shows, unless it is only its type's (IntOrString's). */
function fieldDescription(
  description: string | undefined,
  schema: Schema,
  cat: Catalogue,
): string | undefined {
  if (description === undefined || schema.$ref === undefined) return description;
  const target = schema.$ref.slice(SCHEMA_REF.length);
  const typeDescription = NAMED_SCALARS[target]?.description ?? cat.descriptions.get(target);
  return description === typeDescription ? undefined : description;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );
}

function classSchema(
  model: Model,
  cat: Catalogue,
  tags: Map<string, { strategy: string; mergeKey?: string }> | undefined,
  gvk: GroupVersionKind | undefined,
): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const f of model.fields) {
    const key = `${model.className}.${f.name}`;
    const value = valueSchema(parseType(f.type), f.format, key, cat);
    const description = fieldDescription(f.description, value, cat);
    const tag = tags?.get(f.name);
    const extra: Schema = {};
    if (description !== undefined) extra.description = description;
    if (tag?.mergeKey !== undefined) extra['x-kubernetes-patch-merge-key'] = tag.mergeKey;
    if (tag !== undefined) extra['x-kubernetes-patch-strategy'] = tag.strategy;
    // A $ref takes no siblings in OpenAPI 3.0: a described or tagged one is wrapped in allOf.
    properties[f.name] =
      value.$ref !== undefined
        ? Object.keys(extra).length > 0
          ? sortKeys({ allOf: [value], ...extra })
          : value
        : sortKeys({ ...value, ...extra });
    if (f.required) required.push(f.name);
  }
  const s: Schema = {};
  if (model.description !== undefined) s.description = model.description;
  s.properties = sortKeys(properties);
  if (required.length > 0) s.required = required;
  s.type = 'object';
  if (gvk !== undefined) s['x-kubernetes-group-version-kind'] = [gvk];
  return s;
}

/** The served group versions as GVK group/version pairs, for DeleteOptions and WatchEvent. */
function servedGroupVersions(): { group: string; version: string }[] {
  const out = Object.keys(RESOURCES).map((path) => {
    const parts = path.split('/');
    return { group: parts[0] === 'api' ? '' : parts[1]!, version: parts[parts.length - 1]! };
  });
  out.push({ group: 'autoscaling', version: 'v1' });
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
}

let pool: Record<string, Schema> | undefined;

/**
 * Every component schema the documents draw from (each document keeps those its paths
 * reach), by component name. Made on first use; shared and read-only after.
 */
export function componentSchemas(): Readonly<Record<string, Schema>> {
  if (pool !== undefined) return pool;
  const cat = catalogue();
  const tags = patchTags(cat);
  const out: Record<string, Schema> = {};
  for (const [cls, model] of cat.models)
    out[cat.names.get(cls)!] = classSchema(model, cat, tags.get(cls), cat.gvks.get(cls));
  for (const [name, s] of Object.entries(NAMED_SCALARS)) out[name] = s;
  const gvs = servedGroupVersions();
  out[`${META}DeleteOptions`]!['x-kubernetes-group-version-kind'] = gvs.map((gv) => ({
    group: gv.group,
    kind: 'DeleteOptions',
    version: gv.version,
  }));
  out[`${META}WatchEvent`]!['x-kubernetes-group-version-kind'] = gvs.map((gv) => ({
    group: gv.group,
    kind: 'WatchEvent',
    version: gv.version,
  }));
  out[`${META}Status`]!['x-kubernetes-group-version-kind'] = [
    { group: '', kind: 'Status', version: 'v1' },
  ];
  Object.assign(out, deriveExtensions(out));
  return (pool = sortKeys(out));
}

/** The names of the components `v` (a schema, path item, ...) refers to. */
export function refsIn(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const c of v) refsIn(c, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, child] of Object.entries(v)) {
      if (k === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF))
        out.add(child.slice(SCHEMA_REF.length));
      else refsIn(child, out);
    }
  }
}

/** The schemas reachable from `roots` through $refs, sorted by name. */
export function closure(roots: Iterable<string>): Record<string, Schema> {
  const all = componentSchemas();
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    const schema = all[name];
    if (schema === undefined) throw new Error(`no component schema ${name}`);
    seen.add(name);
    const refs = new Set<string>();
    refsIn(schema, refs);
    todo.push(...refs);
  }
  const out: Record<string, Schema> = {};
  for (const name of [...seen].sort()) out[name] = all[name]!;
  return out;
}
