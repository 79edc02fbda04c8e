// The OpenAPI v3 documents, one per served group version: the real paths and operations
// (paths.ts) and the component schemas they reach (schemas.ts, made from
// @kubernetes/client-node's models). Made on first use, then kept with their hash.
import { createHash } from 'node:crypto';
import { groupVersionPaths } from './paths.ts';
import { closure, META, refsIn, SCHEMA_REF } from './schemas.ts';

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

/** The document of a group version: its paths and every schema they reach, plus WatchEvent. */
function makeDocument(path: GroupVersionPath): OpenAPIV3 {
  const paths = groupVersionPaths(path);
  const roots = new Set([`${META}WatchEvent`]);
  refsIn(paths, roots);
  return {
    components: { schemas: closure(roots), securitySchemes: SECURITY_SCHEMES },
    info: { title: 'Kubernetes', version: 'unversioned' },
    openapi: '3.0.0',
    paths,
  };
}

export function loadDocument(path: GroupVersionPath): LoadedDocument {
  let d = loaded.get(path);
  if (d === undefined) {
    const doc = makeDocument(path);
    const text = JSON.stringify(doc);
    const hash = createHash('sha512').update(text).digest('hex').toUpperCase();
    d = { path, text, hash, made: new Date(), doc };
    loaded.set(path, d);
  }
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
