// Kubernetes strategic merge patch (application/strategic-merge-patch+json), applied as
// kube-apiserver applies it: StrategicMergeMapPatch in k8s.io/apimachinery
// pkg/util/strategicpatch/patch.go, with the server-side options (parallel lists are
// merged, unmatched nulls ignored). This is a reimplementation of that algorithm on
// plain JSON, down to the order lists come out in ($setElementOrder, the patch's
// order, the live order) — it sorts with Go's sort.SliceStable algorithm so that ties
// and unordered items land where Go puts them.
//
// Directives: `$patch: replace | delete` in a map; `$patch: delete | replace` in an
// element of a merged list (`merge` is refused, as upstream); `$retainKeys`;
// `$deleteFromPrimitiveList/<field>`; `$setElementOrder/<field>`. Anything else
// starting with `$` that is left in the result is refused as the API server's strict
// decoding refuses an unknown field.

import { unclassified, badRequest, unprocessable, type PatchError } from './errors.ts';
import { deepCopy, get, goFormat, goTypeName, has, isMap, set, type JsonMap } from './json.ts';
import { lookupField, type PatchSchema } from './schema.ts';

const DIRECTIVE = '$patch';
const DELETE = 'delete';
const REPLACE = 'replace';
const MERGE = 'merge';
const RETAIN_KEYS = 'retainKeys';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// The sentinel errors of k8s.io/apimachinery/pkg/util/mergepatch, and the status the
// handler gives each (interpretStrategicMergePatchError): the first four are 400s.
const errBadPatchFormatForPrimitiveList = (): PatchError =>
  badRequest('invalid patch format of primitive list');
const errBadPatchFormatForRetainKeys = (): PatchError =>
  badRequest('invalid patch format of retainKeys');
const errBadPatchFormatForSetElementOrderList = (): PatchError =>
  badRequest('invalid patch format of setElementOrder list');
const errNoListOfLists = (): PatchError => unprocessable('lists of lists are not supported');
// The others reach the client as 500s with the error text (ErrorToAPIStatus).
const errNoMergeKey = (m: JsonMap, k: string): PatchError =>
  unclassified(`map: ${goFormat(m)} does not contain declared merge key: ${k}`);
const errBadArgType = (expected: string, actual: unknown): PatchError =>
  unclassified(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errBadPatchType = (t: unknown, m: JsonMap): PatchError =>
  unclassified(`unknown patch type: ${goFormat(t)} in map: ${goFormat(m)}`);

const MAP_TYPE = 'map[string]interface {}';
const SLICE_TYPE = '[]interface {}';

/** Go's reflect kind of a decoded JSON value, as far as the algorithm distinguishes them. */
type Kind = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isMap(v)) return 'map';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return 'number';
}

/**
 * Applies a strategic merge patch to a copy of `original` under `schema`; returns the
 * result. `patch` is copied too. Throws PatchError.
 */
export function strategicMergePatchWithSchema(
  schema: PatchSchema,
  original: JsonMap,
  patch: JsonMap,
): JsonMap {
  return mergeMap(deepCopy(original), deepCopy(patch), schema);
}

// mergeMap: merge the fields of `patch` into `original` (both owned, both mutated).
function mergeMap(original: JsonMap | undefined, patch: JsonMap, schema: PatchSchema): JsonMap {
  if (has(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);
  const orig = original ?? {};

  applyRetainKeysDirective(orig, patch);
  // $setElementOrder lists, and the lists they order, are merged first.
  mergePatchIntoOriginal(orig, patch, schema);

  for (const patchKey of Object.keys(patch)) {
    if (!has(patch, patchKey)) continue;
    const patchV = patch[patchKey];
    let k = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      k = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }

    // null deletes the field; a null for a field that is absent is ignored.
    if (patchV === null) {
      delete orig[k];
      continue;
    }

    if (!has(orig, k) || kindOf(orig[k]) !== kindOf(patchV)) {
      // Not in the original (or of another type): take the patch's value, without
      // nulls and without any element that carries a $patch directive.
      if (!isDeleteList) {
        discardNullValuesFromPatch(patchV);
        const [v, keep] = removeDirectives(patchV);
        if (keep) set(orig, k, v);
        else delete orig[k];
      }
      continue;
    }

    const origV = orig[k];
    if (isMap(origV) && isMap(patchV)) {
      const { meta, sub } = lookupField(schema, k);
      const strategy = extractRetainKeysPatchStrategy(meta.strategies ?? []);
      set(orig, k, strategy === REPLACE ? patchV : mergeMap(origV, patchV, sub));
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      const { meta, sub } = lookupField(schema, k);
      const strategy = extractRetainKeysPatchStrategy(meta.strategies ?? []);
      set(
        orig,
        k,
        mergeSliceHandler(origV, patchV, sub, strategy, meta.mergeKey ?? '', isDeleteList),
      );
    } else {
      set(orig, k, patchV);
    }
  }
  return orig;
}

function handleDirectiveInMergeMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === REPLACE) {
    // The patch replaces the map (nested directives are left as they are, upstream).
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE) return {};
  throw errBadPatchType(directive, patch);
}

// The prefix of a parallel-list key: `$deleteFromPrimitiveList/finalizers` → finalizers.
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST
      ? errBadPatchFormatForPrimitiveList()
      : errBadPatchFormatForSetElementOrderList();
  }
  return s.slice(slash + 1);
}

function extractRetainKeysPatchStrategy(strategies: readonly string[]): string {
  switch (strategies.length) {
    case 0:
      return '';
    case 1:
      return strategies[0] === RETAIN_KEYS ? '' : (strategies[0] ?? '');
    case 2:
      if (strategies[0] === RETAIN_KEYS) return strategies[1] ?? '';
      if (strategies[1] === RETAIN_KEYS) return strategies[0] ?? '';
      break;
  }
  throw unclassified(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

// $retainKeys: the fields of `original` not listed are cleared; every field the patch
// sets must be listed.
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!has(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const list = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(list)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set<unknown>(list);
  for (const k of Object.keys(patch)) {
    if (
      patch[k] === null ||
      k.startsWith(DELETE_FROM_PRIMITIVE_LIST) ||
      k.startsWith(SET_ELEMENT_ORDER)
    ) {
      continue;
    }
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k];
  }
}

// $setElementOrder/<field>: merge the list it orders (if the patch has it), then order
// the result: the listed items as listed, the live object's other items kept where they
// were relative to them.
function mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, schema: PatchSchema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType(SLICE_TYPE, order);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER);

    const foundOriginal = has(original, originalKey);
    const foundPatch = has(patch, originalKey);
    let originalList: unknown[] = [];
    let patchList: unknown[] = [];
    if (foundOriginal) {
      const v = original[originalKey];
      if (!Array.isArray(v)) throw errBadArgType(SLICE_TYPE, v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[originalKey];
      if (!Array.isArray(v)) throw errBadArgType(SLICE_TYPE, v);
      patchList = v;
    }
    const { meta, sub } = lookupField(schema, originalKey);
    const strategy = extractRetainKeysPatchStrategy(meta.strategies ?? []);
    const mergeKey = meta.mergeKey ?? '';
    validatePatchWithSetOrderList(patchList, order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) {
      merged = originalList;
    } else if (!foundOriginal && foundPatch) {
      merged = removeDirectives(patchList)[0] as unknown[];
    } else if (foundOriginal && foundPatch) {
      merged = mergeSliceHandler(originalList, patchList, sub, strategy, mergeKey, false);
    } else {
      continue;
    }

    const [patchItems, serverOnlyItems] =
      mergeKey === ''
        ? partitionPrimitivesByPresentInList(merged, order)
        : partitionMapsByPresentInList(merged, order, mergeKey);
    const kind = sliceElementKind(originalList, patchList);
    set(
      original,
      originalKey,
      normalizeElementOrder(patchItems, serverOnlyItems, order, originalList, mergeKey, kind),
    );
    delete patch[originalKey];
  }
}

// Every item of the patch list (but deletions) must be in $setElementOrder, in the
// same relative order.
function validatePatchWithSetOrderList(
  patchList: unknown[],
  order: unknown[],
  mergeKey: string,
): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    if (containsDirectiveMarker(nonDelete[p])) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[p], order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw unclassified(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`,
    );
  }
}

function containsDirectiveMarker(item: unknown): boolean {
  return isMap(item) && has(item, DIRECTIVE);
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return left === right;
  if (!isMap(left)) throw errBadArgType(MAP_TYPE, left);
  if (!isMap(right)) throw errBadArgType(MAP_TYPE, right);
  if (!has(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!has(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(
  original: unknown[],
  patch: unknown[],
  schema: PatchSchema,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  // Deletion lists apply whatever the field's strategy.
  if (strategy === MERGE || isDeleteList) {
    return mergeSlice(original, patch, schema, mergeKey, isDeleteList);
  }
  return patch;
}

/**
 * A Go slice: a window [0, len) on an array of capacity `cap`. Upstream deletes list
 * elements in place (`append(s[:i], s[i+1:]...)`) and appends into the room that
 * frees, which writes through to every other slice of the same array — among them
 * the caller's view of the live list, which $setElementOrder then orders by. The
 * results (and upstream's test expectations) depend on it, so it is kept.
 */
class GoSlice {
  constructor(
    readonly arr: unknown[],
    readonly len: number,
    readonly cap: number,
  ) {}

  static of(arr: unknown[]): GoSlice {
    return new GoSlice(arr, arr.length, arr.length);
  }

  items(): unknown[] {
    return this.arr.slice(0, this.len);
  }

  /** findMapInSliceBasedOnKeyValue on the window. */
  find(key: string, value: unknown): number {
    return findMapInSlice(this.arr, key, value, this.len);
  }

  /** `append(s[:k], s[k+1:]...)`. */
  deleteAt(k: number): GoSlice {
    for (let i = k; i < this.len - 1; i++) this.arr[i] = this.arr[i + 1];
    return new GoSlice(this.arr, this.len - 1, this.cap);
  }

  /** `append(s, v)`: in place while there is room, else onto a new array. */
  append(v: unknown): GoSlice {
    if (this.len < this.cap) {
      this.arr[this.len] = v;
      return new GoSlice(this.arr, this.len + 1, this.cap);
    }
    const arr = this.items();
    arr.push(v);
    return new GoSlice(arr, arr.length, Infinity);
  }
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  schema: PatchSchema,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);

  let merged: unknown[];
  let live = original;
  if (kind !== 'map') {
    // Lists of scalars merge as sets; a $deleteFromPrimitiveList removes.
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') {
      throw unclassified(`cannot merge lists without merge key for ${schema.type ?? 'map'}`);
    }
    const special = mergeSliceWithSpecialElements(GoSlice.of(original), patch, mergeKey);
    live = special.original.items();
    patch = special.patch;
    merged = mergeSliceWithoutSpecialElements(special.original, patch, mergeKey, schema);
  }

  const [patchItems, serverOnlyItems] =
    mergeKey === ''
      ? partitionPrimitivesByPresentInList(merged, patch)
      : partitionMapsByPresentInList(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnlyItems, patch, live, mergeKey, kind);
}

// Elements carrying $patch: `delete` removes the live elements with that key, `replace`
// makes the rest of the patch list the whole list.
function mergeSliceWithSpecialElements(
  original: GoSlice,
  patch: unknown[],
  mergeKey: string,
): { original: GoSlice; patch: unknown[] } {
  const plain: unknown[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JsonMap;
    if (!has(m, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === DELETE) {
      if (!has(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      for (;;) {
        const k = original.find(mergeKey, m[mergeKey]);
        if (k < 0) break;
        original = original.deleteAt(k);
      }
    } else if (directive === REPLACE) {
      replace = true;
    } else if (directive === MERGE) {
      throw unclassified('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, m);
    }
  }
  return replace
    ? { original: new GoSlice(plain, plain.length, plain.length), patch: [] }
    : { original, patch: plain };
}

/**
 * findMapInSlice for many look-ups in one list: a hash of first positions, failing as
 * the linear scan would when it meets an element that is not a map before a match.
 */
function keyFinder(list: unknown[], key: string): (value: unknown) => number {
  const first = new Map<unknown, number>();
  let bad = -1;
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    if (!isMap(m)) {
      bad = i;
      break;
    }
    if (has(m, key) && !first.has(m[key])) first.set(m[key], i);
  }
  return (value) => {
    const i = first.get(value);
    if (i !== undefined) return i;
    if (bad >= 0) throw unclassified(`value for key ${bad} is not a map`);
    return -1;
  };
}

// The first element of `list` (of its first `len`) whose `key` is `value`.
function findMapInSlice(list: unknown[], key: string, value: unknown, len = list.length): number {
  for (let i = 0; i < len; i++) {
    const m = list[i];
    if (!isMap(m)) throw unclassified(`value for key ${i} is not a map`);
    if (has(m, key) && m[key] === value) return i;
  }
  return -1;
}

function mergeSliceWithoutSpecialElements(
  original: GoSlice,
  patch: unknown[],
  mergeKey: string,
  schema: PatchSchema,
): unknown[] {
  // Every element is a map (sliceElementKind), so a hash of first positions answers
  // findMapInSliceBasedOnKeyValue; appended elements join it.
  const at = new Map<unknown, number>();
  original.items().forEach((o, i) => {
    const e = o as JsonMap;
    if (has(e, mergeKey) && !at.has(e[mergeKey])) at.set(e[mergeKey], i);
  });
  for (const v of patch) {
    const m = v as JsonMap;
    if (!has(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    const i = at.get(m[mergeKey]);
    if (i !== undefined) {
      original.arr[i] = mergeMap(original.arr[i] as JsonMap, m, schema);
    } else {
      at.set(m[mergeKey], original.len);
      original = original.append(v);
    }
  }
  return original.items();
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const del = new Set(toDelete);
  return current.filter((v) => !del.has(v));
}

// Go's deduplicateScalars, order quirks included: a duplicate is overwritten by the
// last element.
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

function partitionPrimitivesByPresentInList(
  list: unknown[],
  by: unknown[],
): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (inPatch.has(v) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMapsByPresentInList(
  list: unknown[],
  by: unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  const find = keyFinder(by, mergeKey);
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType(MAP_TYPE, v);
    if (!has(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (find(v[mergeKey]) >= 0 ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

// The kind of the elements of the lists (all must agree; lists of lists are refused).
// Integral numbers decode as int64, others as float64: two Go types.
function sliceElementKind(...lists: unknown[][]): Kind {
  const goType = (v: unknown): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : kindOf(v);
  let prev: unknown;
  let found = false;
  for (const list of lists) {
    for (const v of list) {
      if (!found) {
        found = true;
        prev = v;
        if (Array.isArray(v)) throw errNoListOfLists();
      } else if (goType(prev) !== goType(v)) {
        throw unclassified(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (!found) throw unclassified('no elements in any of the given slices');
  return kindOf(prev);
}

// Sort the patch's items by the patch order and the server-only items by the live
// order, then interleave them.
function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: Kind,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function normalizeSliceOrder(
  toSort: unknown[],
  order: unknown[],
  mergeKey: string,
  kind: Kind,
): unknown[] {
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  const sorted = toSort.slice();
  const index = indexer(order, mergeKey, kind);
  goSliceStable(sorted, (a, b) => {
    const ia = index(a);
    if (ia >= 0) {
      const ib = index(b);
      if (ib >= 0) return ia < ib;
    }
    return true;
  });
  return [...sorted, ...toDelete];
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isMap(item)) throw errBadArgType(MAP_TYPE, item);
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType(MAP_TYPE, v);
    (has(v, DIRECTIVE) && v[DIRECTIVE] === DELETE ? del : keep).push(v);
  }
  return [keep, del];
}

// Insert the items of `left` (server-only) among those of `right` (from the patch):
// an item of `left` goes before the next `right` item it precedes in the live order.
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: Kind,
): unknown[] {
  const out: unknown[] = [];
  const index = indexer(serverOrder, mergeKey, kind);
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) {
      out.push(right[j++]);
    } else if (j >= right.length) {
      out.push(left[i++]);
    } else {
      const li = index(left[i]);
      const ri = index(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

// Go's index(): the first position of an item in `list`, by merge key for maps, by
// value for scalars (-1: absent); hashed, as the sorts ask it O(n log n) times.
function indexer(list: unknown[], mergeKey: string, kind: Kind): (item: unknown) => number {
  const val = (x: unknown): unknown =>
    kind === 'map' ? (isMap(x) && has(x, mergeKey) ? x[mergeKey] : null) : x;
  const first = new Map<unknown, number>();
  list.forEach((x, i) => {
    const v = val(x);
    if (!first.has(v)) first.set(v, i);
  });
  return (item) => first.get(val(item)) ?? -1;
}

// Values taken whole from the patch: maps carrying $patch are dropped.
function removeDirectives(obj: unknown): [unknown, boolean] {
  if (isMap(obj)) {
    if (has(obj, DIRECTIVE)) return [null, false];
    for (const k of Object.keys(obj)) {
      const [v, keep] = removeDirectives(obj[k]);
      if (keep) set(obj, k, v);
      else delete obj[k];
    }
    return [obj, true];
  }
  if (Array.isArray(obj)) {
    const out: unknown[] = [];
    for (const v of obj) {
      const [nv, keep] = removeDirectives(v);
      if (keep) out.push(nv);
    }
    return [out, true];
  }
  return [obj, true];
}

function discardNullValuesFromPatch(v: unknown): void {
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValuesFromPatch(v[k]);
    }
  } else if (Array.isArray(v)) {
    for (const e of v) discardNullValuesFromPatch(e);
  }
}

/**
 * Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), so that a
 * `less` which is not a strict weak order — upstream's is not, for items missing from
 * the order list — sorts as it does in kube-apiserver.
 */
export function goSliceStable<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const lessAt = (i: number, j: number): boolean => less(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
    }
  };
  const swapRange = (a: number, b: number, n: number): void => {
    for (let i = 0; i < n; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const n = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = n - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = n - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = n - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  const n = data.length;
  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}

/**
 * The API server decodes the patched map into the Go type with strict field
 * validation (kubectl's default): a `$…` key left in the result — an unknown
 * directive, or a directive inside a value the patch set whole — is an unknown field,
 * and the request is Invalid. Returns the offending field paths.
 */
export function directivesLeft(result: JsonMap): string[] {
  const found: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((e, i) => walk(e, `${path}[${i}]`));
    } else if (isMap(v)) {
      for (const k of Object.keys(v)) {
        const p = path === '' ? k : `${path}.${k}`;
        if (k.startsWith('$')) found.push(p);
        else walk(get(v, k), p);
      }
    }
  };
  walk(result, '');
  return found;
}
