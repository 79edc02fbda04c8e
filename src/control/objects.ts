// Small helpers over stored objects: keys, deep freezing (stored objects are
// immutable: controllers build new objects instead of mutating), canonical JSON.
import type { KubeObject } from '../api/types.ts';

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKey). */
export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  const ns = obj.metadata.namespace;
  return ns === undefined || ns === '' ? obj.metadata.name : `${ns}/${obj.metadata.name}`;
}

export function nsNameKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/**
 * Freeze an object graph in place (typed arrays are left alone: they cannot be frozen).
 * A frozen node is not entered again: stored objects share frozen subtrees, so freezing
 * a new version only walks what the writer built. Arrays are walked by index (`for in`
 * over an array enumerates its indexes as strings, the slow path).
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') deepFreeze(v);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') deepFreeze(v);
  }
  return value;
}

/**
 * deepFreeze of a new version of a stored object: subtrees it shares with the previous
 * (frozen) version are skipped by identity, without asking V8 whether they are frozen.
 */
export function deepFreezeAgainst<T>(value: T, old: unknown): T {
  if (value === old || value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || Object.isFrozen(value)) return value;
  Object.freeze(value);
  const prev = old !== null && typeof old === 'object' ? (old as Record<string, unknown>) : {};
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreezeAgainst(value[i] as unknown, prev[i]);
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') deepFreezeAgainst(v, prev[k]);
  }
  return value;
}

/**
 * A shallow copy built key by key into `{}` (same key order). An object that was spread
 * and then had fields added or deleted may carry a hidden class of its own in V8; the
 * copy shares the common one, which keeps the many readers of stored objects fast.
 */
export function plainCopy<T extends object>(obj: T): T {
  // Object.assign into `{}` follows the same transitions as keyed stores, on a faster path.
  return Object.assign({}, obj);
}

/**
 * `{ ...obj, ...fields }` with the same key order, built key by key into `{}`: a spread
 * that overrides a field can leave every result with a hidden class of its own in V8.
 */
export function withFields<T extends object>(obj: T, fields: Partial<T>): T {
  return Object.assign(Object.assign({}, obj), fields);
}

/** JSON with object keys sorted at every level; typed arrays as plain number arrays. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
    if (Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
    return out;
  });
}

/** 32-bit FNV-1a over the UTF-16 code units of `s` (k8s hashes with fnv32a). */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Hash UTF-8-ish: low byte then high byte for non-ASCII, enough for determinism.
    h = Math.imul(h ^ (c & 0xff), 0x01000193);
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), 0x01000193);
  }
  return h >>> 0;
}

function cloneValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return (v as Uint8Array).slice();
  if (Array.isArray(v)) return v.map(cloneValue);
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = cloneValue((v as Record<string, unknown>)[k]);
  return out;
}

/** Deep copy of a JSON-like object (user input crosses into the store this way). */
export function cloneObject<T extends KubeObject>(obj: T): T {
  return cloneValue(obj) as T;
}

/** cloneValue, freezing as it goes (typed arrays are copied, they cannot be frozen). */
function frozenCloneValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return (v as Uint8Array).slice();
  if (Array.isArray(v)) {
    const a: unknown[] = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = frozenCloneValue(v[i]);
    return Object.freeze(a);
  }
  return Object.freeze(cloneChildren(Object.assign({}, v) as Record<string, unknown>));
}

/** Replace the object-valued fields of a fresh shallow copy by frozen deep copies. */
function cloneChildren(out: Record<string, unknown>): Record<string, unknown> {
  for (const k in out) {
    const x = out[k];
    if (x !== null && typeof x === 'object') out[k] = frozenCloneValue(x);
  }
  return out;
}

/**
 * Equal JSON-like trees with the same key order (sharing one would otherwise change how
 * the other prints); typed arrays never match (they cannot be frozen, so not shared).
 */
export function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  const arrA = Array.isArray(a);
  if (arrA !== Array.isArray(b)) return false;
  if (arrA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameTree(x[i], y[i])) return false;
    return true;
  }
  // b's keys go on a shared stack (no array per call: this runs for every applied object).
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const base = keyTop;
  for (const k in y) keyStack[keyTop++] = k;
  let i = base;
  let same = true;
  for (const k in x) {
    if (i >= keyTop || keyStack[i] !== k || !sameTree(x[k], y[k])) {
      same = false;
      break;
    }
    i++;
  }
  same = same && i === keyTop;
  keyTop = base;
  return same;
}

/** sameTree's stack of key lists, one frame per nesting level being compared. */
const keyStack: string[] = [];
let keyTop = 0;

/**
 * Deep copy of user input on its way into the store: the object and its metadata stay
 * writable (apply fills the namespace, the store replaces metadata), everything below
 * them is frozen while copied, so the store's deepFreeze has nothing left to walk there.
 * `like`, an earlier result of this function, lends its (frozen) spec and labels when
 * they are equal: objects of a kind applied one after another often share them (the pods
 * of one template), and one frozen copy is less to allocate, copy through the young
 * generation and keep.
 */
export function cloneForStore<T extends KubeObject>(obj: T, like?: KubeObject): T {
  const out: Record<string, unknown> = {};
  const src = obj as unknown as Record<string, unknown>;
  for (const k in src) {
    const v = src[k];
    if (k === 'metadata' && v !== null && typeof v === 'object') {
      const meta = Object.assign({}, v) as Record<string, unknown>;
      const labels = like?.metadata.labels;
      if (labels !== undefined && sameTree(meta.labels, labels)) {
        meta.labels = undefined;
        cloneChildren(meta);
        meta.labels = labels;
      } else {
        cloneChildren(meta);
      }
      out[k] = meta;
    } else if (
      k === 'spec' &&
      like !== undefined &&
      sameTree(v, (like as { spec?: unknown }).spec)
    ) {
      out[k] = (like as { spec?: unknown }).spec;
    } else {
      out[k] = frozenCloneValue(v);
    }
  }
  return out as unknown as T;
}

/** Does `obj` have a controller owner reference with this uid? */
export function controllerOf(
  obj: KubeObject,
): { kind: string; name: string; uid: string } | undefined {
  const refs = obj.metadata.ownerReferences;
  if (refs === undefined) return undefined;
  for (let i = 0; i < refs.length; i++) if (refs[i]!.controller === true) return refs[i];
  return undefined;
}

/** Structural equality of two JSON-like values (typed arrays compared bytewise). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    const x = a as Uint8Array;
    const y = b as Uint8Array;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  const arrA = Array.isArray(a);
  if (arrA !== Array.isArray(b)) return false;
  if (arrA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  // Plain objects: same own enumerable keys, equal values (no key arrays allocated).
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let na = 0;
  for (const k in x) {
    if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
    if (!deepEqual(x[k], y[k])) return false;
    na++;
  }
  let nb = 0;
  for (const _ in y) nb++;
  return na === nb;
}
