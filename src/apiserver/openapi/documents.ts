// The OpenAPI v3 documents, one per served group version, in two forms made on first use:
// - served (loadDocument, kept with its text and hash): the write operations of the real
//   paths cut down to what kubectl reads (paths.ts servedPaths) and the schemas of their
//   kinds, slimmed (slim.ts), because kubectl 1.32 parses it once per object it applies;
// - full (fullDocument): every operation as the API server describes it and every schema
//   it reaches (schemas.ts, from @kubernetes/client-node's models), for the unknown-field
//   check and the v2 document.
import { createHash } from 'node:crypto';
import { componentName, groupVersionPaths, servedPaths } from './paths.ts';
import { closure, componentSchemas, META, refsIn, SCHEMA_REF } from './schemas.ts';
import { servedSchemas } from './slim.ts';

export { SCHEMA_REF };

/** An OpenAPI schema object, as far as svclab reads it. */
export interface Schema {
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  [extension: string]: unknown;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface OpenAPIV3 {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
}

/** The group versions served, as the OpenAPI v3 index names them. */
export const GROUP_VERSIONS = [
  'api/v1',
  'apis/apps/v1',
  'apis/discovery.k8s.io/v1',
  'apis/events.k8s.io/v1',
  'apis/extensions/v1beta1',
  'apis/networking.k8s.io/v1',
] as const;

export type GroupVersionPath = (typeof GROUP_VERSIONS)[number];

export interface LoadedDocument {
  path: GroupVersionPath;
  /** The JSON text served. */
  text: string;
  /** SHA-512 of `text`, upper-case hex: the API server's ETag and `?hash=`. */
  hash: string;
  /** When it was made: its Last-Modified. */
  made: Date;
  /** `text` as an object (read-only: shared by every caller). */
  readonly doc: OpenAPIV3;
}

const loaded = new Map<GroupVersionPath, LoadedDocument>();

export function isGroupVersionPath(path: string): path is GroupVersionPath {
  return (GROUP_VERSIONS as readonly string[]).includes(path);
}

const SECURITY_SCHEMES = {
  BearerToken: {
    description: 'Bearer Token authentication',
    in: 'header',
    name: 'authorization',
    type: 'apiKey',
  },
};

const INFO = { title: 'Kubernetes', version: 'unversioned' };

/**
 * The full document of a group version: its paths with every operation as the API server
 * describes it, and every schema they reach (plus WatchEvent). Not served as such: it backs
 * the unknown-field check and the v2 document.
 */
function makeFullDocument(path: GroupVersionPath): OpenAPIV3 {
  const paths = groupVersionPaths(path);
  const roots = new Set([`${META}WatchEvent`]);
  refsIn(paths, roots);
  return {
    components: { schemas: closure(roots), securitySchemes: SECURITY_SCHEMES },
    info: INFO,
    openapi: '3.0.0',
    paths,
  };
}

/**
 * The served document of a group version: the paths cut down to what kubectl reads
 * (servedPaths) and the schemas of the kinds their operations name, slimmed (slim.ts).
 */
function makeServedDocument(path: GroupVersionPath): OpenAPIV3 {
  const paths = servedPaths(path);
  const pool = componentSchemas();
  const roots = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item)) {
      const gvk = (op as { 'x-kubernetes-group-version-kind'?: GroupVersionKind })[
        'x-kubernetes-group-version-kind'
      ];
      if (gvk !== undefined && pool[componentName(gvk)] !== undefined)
        roots.add(componentName(gvk));
    }
  }
  return {
    components: { schemas: servedSchemas(pool, roots), securitySchemes: SECURITY_SCHEMES },
    info: INFO,
    openapi: '3.0.0',
    paths,
  };
}

/** The served document of a group version, made on first use, with its text and hash. */
export function loadDocument(path: GroupVersionPath): LoadedDocument {
  let d = loaded.get(path);
  if (d === undefined) {
    const doc = makeServedDocument(path);
    const text = JSON.stringify(doc);
    const hash = createHash('sha512').update(text).digest('hex').toUpperCase();
    d = { path, text, hash, made: new Date(), doc };
    loaded.set(path, d);
  }
  return d;
}

const full = new Map<GroupVersionPath, OpenAPIV3>();

/** The full document of a group version (read-only: shared by every caller). */
export function fullDocument(path: GroupVersionPath): OpenAPIV3 {
  let d = full.get(path);
  if (d === undefined) full.set(path, (d = makeFullDocument(path)));
  return d;
}

/** The schema a `$ref` names within `doc`, or undefined. */
export function resolveRef(doc: OpenAPIV3, ref: string): Schema | undefined {
  if (!ref.startsWith(SCHEMA_REF)) return undefined;
  return doc.components.schemas[ref.slice(SCHEMA_REF.length)];
}

/** 'v1' → api/v1, 'apps/v1' → apis/apps/v1. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `apis/${apiVersion}` : `api/${apiVersion}`;
}
