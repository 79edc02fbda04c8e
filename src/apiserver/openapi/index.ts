// OpenAPI for kubectl: the v3 index and per-group-version documents (kubectl explain, apply's
// strategic merge patches, the check that the server does field validation), the swagger
// 2.0 document, and the unknown-field check behind fieldValidation=Strict.
//
// The documents are Kubernetes 1.32's own, trimmed to the served kinds, where the data
// folder has them (README.md), else skeletons with the real paths and operations but
// placeholder schemas (skeleton.ts). What kubectl 1.32 reads from them:
// - GET /openapi/v3 (Accept: application/json, */*): `paths[gv].serverRelativeURL`, fetched
//   as given (hash and all) with Accept: application/json.
// - apply/create/replace --validate=strict (the default): whether some path's `patch`
//   operation with `x-kubernetes-group-version-kind` == the object's GVK lists a
//   `fieldValidation` parameter. It does here, so kubectl validates nothing itself and sends
//   ?fieldValidation=Strict: the server must answer unknown fields (unknownFields) with 400.
// - apply (client side): the `patch` operation's requestBody content has
//   application/strategic-merge-patch+json, then the components schema whose
//   `x-kubernetes-group-version-kind` list has the GVK, with x-kubernetes-patch-strategy /
//   x-kubernetes-patch-merge-key through $ref and allOf.
// - explain: the GVK of an operation under /api(s)/G/V[/namespaces/{namespace}]/R[/{name}],
//   then the schema with that GVK; `description`, `properties`, `required`, `type`, `items`,
//   `additionalProperties`, `allOf`, `$ref`, `enum`.
import { GROUP_VERSIONS, isGroupVersionPath, loadDocument } from './documents.ts';

export { GROUP_VERSIONS, openapiDataDir, type GroupVersionPath } from './documents.ts';
export { unknownFields, kindSchema } from './fields.ts';
export { openapiV2Document } from './v2.ts';

/** 'api/v1', '/openapi/v3/api/v1', 'apis/apps/v1?hash=...' → the group version path. */
function normalise(path: string): string {
  let p = path.split('?')[0]!.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.startsWith('openapi/v3/')) p = p.slice('openapi/v3/'.length);
  return p;
}

/**
 * GET /openapi/v3: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"},
 * ...}}`, H being the document's SHA-512 (upper-case hex), as the API server has it.
 */
export function openapiV3Index(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of GROUP_VERSIONS) {
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${loadDocument(gv).hash}` };
  }
  return { paths };
}

/**
 * GET /openapi/v3/<path> ('api/v1', 'apis/apps/v1'; a ?hash= is ignored): the OpenAPI 3.0
 * document as JSON text, or undefined for a group version not served.
 */
export function openapiV3Document(path: string): string | undefined {
  const p = normalise(path);
  return isGroupVersionPath(p) ? loadDocument(p).text : undefined;
}

/**
 * The hash of a group version's document (its ETag, unquoted, and the `hash` of its
 * serverRelativeURL), or undefined. The API server answers a request whose ?hash= differs
 * with 301 to the current URL, and one whose hash matches with
 * `Cache-Control: public, immutable` (kubectl keeps the document in its HTTP cache).
 */
export function openapiV3Hash(path: string): string | undefined {
  const p = normalise(path);
  return isGroupVersionPath(p) ? loadDocument(p).hash : undefined;
}

/**
 * Where a group version's document comes from: the data file's path, or 'skeleton' (no
 * schemas: kubectl explain shows nothing, unknownFields finds nothing). Undefined when the
 * group version is not served.
 */
export function openapiV3Source(path: string): string | undefined {
  const p = normalise(path);
  return isGroupVersionPath(p) ? loadDocument(p).source : undefined;
}
