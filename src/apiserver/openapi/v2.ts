// The swagger 2.0 document (GET /openapi/v2), made from the full v3 documents (every
// operation and schema: kubectl falls back to it for a patch the served v3 ones cannot make)
// as the API server
// makes its v2 one from the same definitions: `#/definitions/` refs, a single-ref allOf
// folded into the property, body parameters and consumes/produces instead of requestBody
// and response content, no v3-only keywords (oneOf, default): IntOrString and Quantity,
// a oneOf of string and another type in v3, are strings in v2 as in kube-apiserver's.
import { fullDocument, GROUP_VERSIONS, SCHEMA_REF } from './documents.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const DEFINITION_REF = '#/definitions/';

function schemaV2(v: Json): Json {
  if (Array.isArray(v)) return v.map(schemaV2);
  if (!isObj(v)) return v;
  const out: Obj = {};
  if (Array.isArray(v.oneOf) && v.type === undefined) {
    const types = v.oneOf.map((o) => (isObj(o) ? o.type : undefined));
    if (types.includes('string')) out.type = 'string';
  }
  for (const [k, child] of Object.entries(v)) {
    if (k === 'oneOf' || k === 'default' || k === 'nullable') continue;
    if (k === '$ref' && typeof child === 'string') {
      out[k] = child.startsWith(SCHEMA_REF)
        ? DEFINITION_REF + child.slice(SCHEMA_REF.length)
        : child;
    } else if (k === 'allOf' && Array.isArray(child) && child.length === 1 && isObj(child[0])) {
      Object.assign(out, schemaV2(child[0]));
    } else if (k === 'properties' && isObj(child)) {
      const props: Obj = {};
      for (const [name, p] of Object.entries(child)) props[name] = schemaV2(p);
      out[k] = props;
    } else out[k] = schemaV2(child);
  }
  return out;
}

/** A v3 parameter ({schema: {type}}) as a v2 one ({type}). */
function parameterV2(p: Json): Json {
  if (!isObj(p)) return p;
  const out: Obj = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'schema' && isObj(v)) Object.assign(out, schemaV2(v));
    else out[k] = v;
  }
  return out;
}

const OPERATIONS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function operationV2(op: Obj): Obj {
  const out: Obj = {};
  const consumes: string[] = [];
  const produces = new Set<string>();
  const parameters: Json[] = Array.isArray(op.parameters) ? op.parameters.map(parameterV2) : [];
  if (isObj(op.requestBody)) {
    const content = isObj(op.requestBody.content) ? op.requestBody.content : {};
    consumes.push(...Object.keys(content));
    const first = Object.values(content)[0];
    parameters.unshift({
      in: 'body',
      name: 'body',
      required: op.requestBody.required === true,
      schema: isObj(first) && first.schema !== undefined ? schemaV2(first.schema) : {},
    });
  }
  const responses: Obj = {};
  for (const [code, r] of Object.entries(isObj(op.responses) ? op.responses : {})) {
    if (!isObj(r)) continue;
    const resp: Obj = { description: r.description ?? '' };
    if (isObj(r.content)) {
      for (const media of Object.keys(r.content)) produces.add(media);
      const first = Object.values(r.content)[0];
      if (isObj(first) && first.schema !== undefined) resp.schema = schemaV2(first.schema);
    }
    responses[code] = resp;
  }
  for (const [k, v] of Object.entries(op)) {
    if (k === 'requestBody' || k === 'responses' || k === 'parameters') continue;
    out[k] = v;
  }
  if (consumes.length > 0) out.consumes = consumes;
  if (parameters.length > 0) out.parameters = parameters;
  if (produces.size > 0) out.produces = [...produces];
  out.responses = responses;
  out.schemes = ['https'];
  return out;
}

let text: string | undefined;

/** The swagger 2.0 document of every served group version, as JSON text. */
export function openapiV2Document(): string {
  if (text !== undefined) return text;
  const definitions: Obj = {};
  const paths: Obj = {};
  for (const gv of GROUP_VERSIONS) {
    const doc = fullDocument(gv);
    for (const [name, s] of Object.entries(doc.components.schemas))
      definitions[name] ??= schemaV2(s as Json);
    for (const [p, item] of Object.entries(doc.paths)) {
      const out: Obj = {};
      for (const [k, v] of Object.entries(item as Obj)) {
        if (OPERATIONS.includes(k) && isObj(v)) out[k] = operationV2(v);
        else if (k === 'parameters' && Array.isArray(v)) out[k] = v.map(parameterV2);
        else out[k] = v;
      }
      paths[p] = out;
    }
  }
  const sorted = (o: Obj): Obj =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]!]),
    );
  const first = fullDocument(GROUP_VERSIONS[0]);
  text = JSON.stringify({
    swagger: '2.0',
    info: first.info,
    paths: sorted(paths),
    definitions: sorted(definitions),
    securityDefinitions: (first.components.securitySchemes ?? {}) as Json,
    security: [{ BearerToken: [] }],
  });
  return text;
}
