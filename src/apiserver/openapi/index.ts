// OpenAPI for kubectl: the v3 index and per-group-version documents (kubectl explain, apply's
// strategic merge patches, the check that the server does field validation), the swagger
// 2.0 document, and the unknown-field check behind fieldValidation=Strict.
//
// The served v3 documents are made on first use from the real paths of the served resources
// (paths.ts; only their POST, PUT and PATCH, cut down) and the schemas of their kinds built
// from @kubernetes/client-node's generated models (schemas.ts, extensions.ts for
// extensions/v1beta1), slimmed (slim.ts): kubectl 1.32 parses a group version's document
// for every object it applies. The v2 document and the unknown-field check use the full
// ones (documents.ts). What kubectl 1.32 reads from the v3 documents:
// - GET /openapi/v3 (Accept: application/json, */*): `paths[gv].serverRelativeURL`, fetched
//   as given (hash and all) with Accept: application/json.
// - apply/create/replace --validate=strict (the default): whether the `patch` operation of
//   a path, the first it finds with `x-kubernetes-group-version-kind` == the object's GVK,
//   lists a `fieldValidation` parameter. Every one does here, so kubectl validates nothing
//   itself and sends ?fieldValidation=Strict: the server must answer unknown fields
//   (unknownFields) with 400.
// - apply (client side): the `patch` operation's requestBody content has
//   application/strategic-merge-patch+json, then the components schema whose
//   `x-kubernetes-group-version-kind` list has the GVK, with x-kubernetes-patch-strategy /
//   x-kubernetes-patch-merge-key through $ref and allOf; every object, list or map field the
//   patch compares must be among `properties` on the way down.
// - explain: the GVK of an operation under /api(s)/G/V[/namespaces/{namespace}]/R[/{name}],
//   then the schema with that GVK; `description`, `properties`, `required`, `type`, `items`,
//   `additionalProperties`, `allOf`, `$ref`, `enum`.
import { createHash } from 'node:crypto';
import { GROUP_VERSIONS, isGroupVersionPath, loadDocument } from './documents.ts';

export { GROUP_VERSIONS, type GroupVersionPath } from './documents.ts';
export { unknownFields, kindSchema } from './fields.ts';
export { openapiV2Document } from './v2.ts';

/** 'api/v1', '/openapi/v3/api/v1', 'apis/apps/v1?hash=...' → the group version path. */
function normalise(path: string): string {
  let p = path.split('?')[0]!.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.startsWith('openapi/v3/')) p = p.slice('openapi/v3/'.length);
  return p;
}

/** The serverRelativeURL of a group version's document with hash `hash`. */
function serverRelativeURL(gv: string, hash: string): string {
  return `/openapi/v3/${gv}?hash=${hash}`;
}

/**
 * GET /openapi/v3: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"},
 * ...}}`, H being the document's SHA-512 (upper-case hex), as the API server has it.
 */
export function openapiV3Index(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of GROUP_VERSIONS)
    paths[gv] = { serverRelativeURL: serverRelativeURL(gv, loadDocument(gv).hash) };
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
 * serverRelativeURL), or undefined.
 */
export function openapiV3Hash(path: string): string | undefined {
  const p = normalise(path);
  return isGroupVersionPath(p) ? loadDocument(p).hash : undefined;
}

/** An HTTP answer: status, headers (Content-Length included) and body. */
export interface OpenAPIReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function reply(
  status: number,
  headers: Record<string, string>,
  body: string,
  ifNoneMatch: string | undefined,
): OpenAPIReply {
  const etag = headers.ETag;
  if (status === 200 && etag !== undefined && ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (tags.includes(etag) || tags.includes('*')) {
      // As Go's http.ServeContent: no body, and no Content-Type or Last-Modified.
      const h = { ...headers };
      delete h['Content-Type'];
      delete h['Last-Modified'];
      return { status: 304, headers: h, body: '' };
    }
  }
  return {
    status,
    headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
    body,
  };
}

/** Whether an Accept header takes JSON (absent, `*\/*`, `application/*`, `application/json`). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept
    .split(',')
    .map((c) => c.split(';')[0]!.trim().toLowerCase())
    .some((m) => m === '*/*' || m === 'application/*' || m === 'application/json');
}

/**
 * GET /openapi/v3 and /openapi/v3/<group version>[?hash=H] answered as kube-apiserver
 * answers them (kube-openapi's handler3 behind the API server's Cache-Control filter):
 * - the index and each document carry `ETag: "<SHA-512>"`; If-None-Match with it gets 304;
 * - a document asked for with a `hash` that is not its current one: 301 to its current
 *   serverRelativeURL (kubectl follows it);
 * - with the current hash: `Cache-Control: public, immutable` and an Expires a year ahead
 *   (kubectl's HTTP cache keeps it); without a hash, and the index: `no-cache, private`;
 * - an Accept that takes no JSON: 406 (the protobuf form is not made).
 * Undefined for a path that is neither (a group version not served: the server's 404).
 * `url` is the request's path with its query.
 */
export function openapiV3Reply(
  url: string,
  headers: { accept?: string | undefined; 'if-none-match'?: string | undefined },
): OpenAPIReply | undefined {
  const u = new URL(url, 'http://localhost');
  const pathname = u.pathname.replace(/\/+$/, '');
  const ifNoneMatch = headers['if-none-match'];
  if (pathname === '/openapi/v3') {
    const body = JSON.stringify(openapiV3Index());
    const etag = `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`;
    return reply(
      200,
      {
        'Cache-Control': 'no-cache, private',
        'Content-Type': 'application/json',
        ETag: etag,
        'Last-Modified': new Date().toUTCString(),
      },
      body,
      ifNoneMatch,
    );
  }
  if (!pathname.startsWith('/openapi/v3/')) return undefined;
  const gv = pathname.slice('/openapi/v3/'.length);
  if (!isGroupVersionPath(gv)) return undefined;
  if (!acceptsJson(headers.accept))
    return { status: 406, headers: { Vary: 'Accept', 'Content-Length': '0' }, body: '' };
  const doc = loadDocument(gv);
  const h: Record<string, string> = {
    'Cache-Control': 'no-cache, private',
    'Content-Type': 'application/json',
    ETag: `"${doc.hash}"`,
    'Last-Modified': doc.made.toUTCString(),
    Vary: 'Accept',
  };
  const hash = u.searchParams.get('hash');
  if (hash !== null && hash !== '') {
    if (hash !== doc.hash) {
      // http.Redirect after handler3 has set Content-Type: no body is written.
      return {
        status: 301,
        headers: {
          'Cache-Control': 'no-cache, private',
          'Content-Type': 'application/json',
          ETag: `"${doc.hash}"`,
          Location: serverRelativeURL(gv, doc.hash),
          Vary: 'Accept',
          'Content-Length': '0',
        },
        body: '',
      };
    }
    h['Cache-Control'] = 'public, immutable';
    h.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
  }
  return reply(200, h, doc.text, ifNoneMatch);
}
