// PATCH bodies as kube-apiserver applies them to a stored object (in the API version
// the request addressed): RFC 6902 JSON patch, RFC 7386 merge patch and the
// Kubernetes strategic merge patch, with the HTTP status and Status message the server
// answers each failure with.

import {
  badRequest,
  invalidPatch,
  tooLarge,
  unsupportedMediaType,
  type PatchError,
} from './errors.ts';
import { applyJsonPatch } from './json-patch.ts';
import {
  MAX_DEPTH,
  MAX_OPERATIONS,
  deepCopy,
  goFormat,
  isMap,
  measure,
  type JsonMap,
} from './json.ts';
import { mergePatch } from './merge-patch.ts';
import { schemaForKind, type PatchSchema } from './schema.ts';
import { directivesLeft, strategicMergePatchWithSchema } from './strategic.ts';

export { PatchError } from './errors.ts';
export type {
  PatchErrorReason,
  PatchStatus,
  PatchStatusCause,
  PatchStatusDetails,
} from './errors.ts';
export { applyJsonPatch, parsePointer } from './json-patch.ts';
export { mergePatch } from './merge-patch.ts';
export { MAX_DEPTH, MAX_OPERATIONS } from './json.ts';
export {
  KUBERNETES_PATCH_TYPES,
  PATCH_KINDS,
  patchMetaAt,
  patchMetaTable,
  schemaForKind,
} from './schema.ts';
export type { FieldPatchMeta, PatchSchema, PatchTypeTable, StructPatchMeta } from './schema.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

const CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The patch content types served, in the order kube-apiserver lists them. */
export const PATCH_CONTENT_TYPES: readonly string[] = Object.keys(CONTENT_TYPES);

/**
 * Content-Type → PatchType, or undefined for unsupported (the server answers 415).
 * As kube-apiserver: parameters after the first `;` are dropped, and the rest must
 * match exactly.
 */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const semi = contentType.indexOf(';');
  const base = semi > 0 ? contentType.slice(0, semi) : contentType;
  return Object.prototype.hasOwnProperty.call(CONTENT_TYPES, base)
    ? CONTENT_TYPES[base]
    : undefined;
}

/** The 415 for a Content-Type patchTypeOf does not know. */
export function unsupportedPatchType(): PatchError {
  return unsupportedMediaType(PATCH_CONTENT_TYPES);
}

/**
 * Apply `patch` (parsed JSON) to a deep copy of `original`; returns the new object.
 * `original` is never modified (it may be deep-frozen). Throws PatchError.
 *
 * `kind` picks the strategic-merge-patch metadata (group-independent: `Deployment` for
 * apps/v1 and extensions/v1beta1 alike); JSON and merge patches ignore it.
 */
export function applyPatch(
  type: PatchType,
  kind: string,
  original: object,
  patch: unknown,
): object {
  return applyPatchWithSchema(type, schemaForKind(kind), original, patch);
}

/** applyPatch with an explicit strategic-merge-patch schema (tests use Go's MergeItem). */
export function applyPatchWithSchema(
  type: PatchType,
  schema: PatchSchema,
  original: object,
  patch: unknown,
): object {
  checkBounds(type, patch);
  let result: unknown;
  switch (type) {
    case 'json':
      result = applyJsonPatch(original, patch);
      break;
    case 'merge':
      // evanphx/json-patch: a patch that is not an object or array is "Invalid JSON Patch".
      if (!isMap(patch) && !Array.isArray(patch)) throw badRequest('Invalid JSON Patch');
      result = mergePatch(original, patch, true);
      break;
    case 'strategic': {
      if (patch === null) return deepCopy(original); // JSON null decodes to no fields: no change
      if (!isMap(patch)) {
        throw badRequest(
          `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch === 'boolean' ? 'bool' : typeof patch} into Go value of type map[string]interface {}`,
        );
      }
      const out = strategicMergePatchWithSchema(schema, original as JsonMap, patch);
      const unknown = directivesLeft(out);
      if (unknown.length > 0) {
        throw invalidPatch(
          goFormat(patch),
          `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
        );
      }
      result = out;
      break;
    }
    default:
      throw unsupportedPatchType();
  }
  if (!isMap(result)) {
    // The patched document no longer decodes into the object's type.
    throw invalidPatch(
      JSON.stringify(result) ?? 'null',
      `json: cannot unmarshal ${Array.isArray(result) ? 'array' : result === null ? 'null' : typeof result} into Go value of type map[string]interface {}`,
    );
  }
  const { depth } = measure(result, MAX_DEPTH);
  if (depth > MAX_DEPTH) {
    throw badRequest(`the patched object is nested more than ${MAX_DEPTH} levels deep`);
  }
  return result;
}

/** The work bounds: nesting depth, and the number of operations (JSON patch) or of values (the others). */
function checkBounds(type: PatchType, patch: unknown): void {
  const { depth, nodes } = measure(patch, MAX_DEPTH);
  if (depth > MAX_DEPTH) {
    throw badRequest(`the patch is nested more than ${MAX_DEPTH} levels deep`);
  }
  if (type === 'json') return; // applyJsonPatch counts operations itself
  if (nodes > MAX_OPERATIONS) {
    throw tooLarge(
      `The allowed maximum operations in a ${type === 'merge' ? 'merge' : 'strategic merge'} patch is ${MAX_OPERATIONS}, got ${nodes}`,
    );
  }
}
