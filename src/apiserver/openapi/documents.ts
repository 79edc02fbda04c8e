// The OpenAPI v3 documents, one per served group version: Kubernetes' own (trimmed) where
// the data folder has them, else the skeleton (skeleton.ts). Read on first use, then kept
// with their hash. README.md says where the data folder is and what goes in it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../lab/repo.ts';
import { skeletonDocument } from './skeleton.ts';

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

/**
 * The group versions served, as the OpenAPI v3 index names them ('api/v1',
 * 'apis/apps/v1' ...). The data folder has each as <path with / as __>.json.
 */
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
  /** The JSON text served: the data file's, or the skeleton's. */
  text: string;
  /** Where `text` comes from: a data file (Kubernetes' document), or the skeleton. */
  source: string;
  /** SHA-512 of `text`, upper-case hex: the API server's ETag and `?hash=`. */
  hash: string;
  /** `text` parsed, on first use (read-only: shared by every caller). */
  readonly doc: OpenAPIV3;
}

const loaded = new Map<GroupVersionPath, LoadedDocument>();

export function isGroupVersionPath(path: string): path is GroupVersionPath {
  return (GROUP_VERSIONS as readonly string[]).includes(path);
}

let dir: string | null | undefined;

/**
 * The folder of Kubernetes' trimmed documents, or undefined: $SVCLAB_OPENAPI_DATA, else
 * openapi/ in the shared folder beside svclab's (../shared/openapi), where it has api__v1.json.
 */
export function openapiDataDir(): string | undefined {
  if (dir === undefined) {
    const candidates = [process.env.SVCLAB_OPENAPI_DATA, repoPath('..', 'shared', 'openapi')];
    dir = candidates.find((d) => d && existsSync(join(d, 'api__v1.json'))) ?? null;
  }
  return dir ?? undefined;
}

export function loadDocument(path: GroupVersionPath): LoadedDocument {
  let d = loaded.get(path);
  if (d === undefined) {
    const data = openapiDataDir();
    const file = data && join(data, `${path.replaceAll('/', '__')}.json`);
    const fromFile = file !== undefined && existsSync(file);
    const text = fromFile
      ? readFileSync(file, 'utf8').trimEnd()
      : JSON.stringify(skeletonDocument(path));
    const hash = createHash('sha512').update(text).digest('hex').toUpperCase();
    let parsed: OpenAPIV3 | undefined;
    d = {
      path,
      text,
      hash,
      source: fromFile ? file : 'skeleton',
      // Parsed only when asked for: serving the document needs just the text.
      get doc(): OpenAPIV3 {
        return (parsed ??= JSON.parse(text) as OpenAPIV3);
      },
    };
    loaded.set(path, d);
  }
  return d;
}

export const SCHEMA_REF = '#/components/schemas/';

/** The schema a `$ref` names within `doc`, or undefined. */
export function resolveRef(doc: OpenAPIV3, ref: string): Schema | undefined {
  if (!ref.startsWith(SCHEMA_REF)) return undefined;
  return doc.components.schemas[ref.slice(SCHEMA_REF.length)];
}

/** 'v1' → api/v1, 'apps/v1' → apis/apps/v1. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `apis/${apiVersion}` : `api/${apiVersion}`;
}
