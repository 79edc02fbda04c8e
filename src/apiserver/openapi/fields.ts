// Unknown fields for fieldValidation=Strict (and Warn): the fields of a request object that
// the schema of its kind does not define, named as the API server's strict decoding error
// names them ('spec.replica', 'spec.template.spec.containers[0].imagePullPolcy'). Checked
// against the full schemas (documents.ts fullDocument), not the slimmed ones served to
// kubectl: a typo below a field the served document collapses is caught too.
import {
  fullDocument,
  GROUP_VERSIONS,
  groupVersionPath,
  resolveRef,
  type OpenAPIV3,
  type Schema,
} from './documents.ts';

interface KindSchema {
  doc: OpenAPIV3;
  schema: Schema;
}

let kinds: Map<string, KindSchema> | undefined;

/**
 * group/version/kind → its schema. A kind comes from the document of its own group version
 * where it has one (meta types such as DeleteOptions list every group, and each document
 * has its own copy), else from the first document that has it (autoscaling/v1 Scale, which
 * apps/v1 carries for the scale subresource).
 */
function kindIndex(): Map<string, KindSchema> {
  if (kinds) return kinds;
  const index = new Map<string, KindSchema>();
  for (const ownOnly of [true, false]) {
    for (const path of GROUP_VERSIONS) {
      const doc = fullDocument(path);
      for (const schema of Object.values(doc.components.schemas)) {
        for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
          const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
          const own =
            groupVersionPath(gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version) === path;
          if (own === ownOnly && !index.has(key)) index.set(key, { doc, schema });
        }
      }
    }
  }
  return (kinds = index);
}

/** The schema of (apiVersion, kind), or undefined when it is not served. */
export function kindSchema(apiVersion: string, kind: string): KindSchema | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  return kindIndex().get(`${group}/${version}/${kind}`);
}

/** A schema with its $ref followed and its allOf alternatives merged in. */
interface Flat {
  properties: Map<string, Schema>;
  additionalProperties: Schema | boolean | undefined;
  items: Schema | undefined;
  preserveUnknown: boolean;
}

function flatten(doc: OpenAPIV3, schema: Schema, out?: Flat, depth = 0): Flat {
  const f: Flat = out ?? {
    properties: new Map(),
    additionalProperties: undefined,
    items: undefined,
    preserveUnknown: false,
  };
  if (depth > 32) return f;
  if (schema.$ref !== undefined) {
    const target = resolveRef(doc, schema.$ref);
    if (target) flatten(doc, target, f, depth + 1);
  }
  for (const alt of schema.allOf ?? []) flatten(doc, alt, f, depth + 1);
  for (const [name, s] of Object.entries(schema.properties ?? {}))
    if (!f.properties.has(name)) f.properties.set(name, s);
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false)
    f.additionalProperties ??= schema.additionalProperties;
  if (schema.items !== undefined) f.items ??= schema.items;
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) f.preserveUnknown = true;
  return f;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function field(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function walk(doc: OpenAPIV3, schema: Schema, value: unknown, path: string, out: string[]): void {
  const f = flatten(doc, schema);
  if (f.preserveUnknown) return;
  if (Array.isArray(value)) {
    if (f.items) value.forEach((item, i) => walk(doc, f.items!, item, `${path}[${i}]`, out));
    return;
  }
  if (!isPlainObject(value)) return;
  const extra = f.additionalProperties;
  // An object schema with neither properties nor a value schema is free-form
  // (RawExtension, FieldsV1): anything goes below it.
  if (f.properties.size === 0 && extra === undefined) return;
  for (const [key, v] of Object.entries(value)) {
    const known = f.properties.get(key);
    if (known) walk(doc, known, v, field(path, key), out);
    else if (typeof extra === 'object') walk(doc, extra, v, field(path, key), out);
    else if (extra !== true) out.push(field(path, key));
  }
}

/**
 * The dotted paths of the fields in `obj` that the schema of (apiVersion, kind) does not
 * define. Maps (labels, annotations, data: additionalProperties) take any key; a schema
 * with x-kubernetes-preserve-unknown-fields takes anything. Empty when every field is
 * known, or when the kind is not served.
 */
export function unknownFields(apiVersion: string, kind: string, obj: unknown): string[] {
  const k = kindSchema(apiVersion, kind);
  if (!k) return [];
  const out: string[] = [];
  walk(k.doc, k.schema, obj, '', out);
  return out;
}
