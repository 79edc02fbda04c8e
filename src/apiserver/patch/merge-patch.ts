// RFC 7386 JSON Merge Patch (application/merge-patch+json).

import { deepCopy, has, isMap, set, type JsonMap } from './json.ts';

/**
 * RFC 7386 section 2, MergePatch(Target, Patch), on copies: an object patch merges
 * member by member (null removes a member), anything else replaces the target.
 *
 * With `pruneNullsInLists`, null members of objects inside lists taken from the patch
 * are dropped too, as kube-apiserver's library (evanphx/json-patch v4) does; the RFC
 * keeps them.
 */
export function mergePatch(target: unknown, patch: unknown, pruneNullsInLists = false): unknown {
  return merge(deepCopy(target), deepCopy(patch), pruneNullsInLists);
}

function merge(target: unknown, patch: unknown, prune: boolean): unknown {
  if (!isMap(patch)) {
    if (prune) pruneNulls(patch);
    return patch;
  }
  const out: JsonMap = isMap(target) ? target : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete out[k];
    } else {
      set(out, k, merge(has(out, k) ? out[k] : undefined, v, prune));
    }
  }
  return out;
}

function pruneNulls(v: unknown): void {
  if (Array.isArray(v)) {
    for (const e of v) pruneNulls(e);
  } else if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else pruneNulls(v[k]);
    }
  }
}
