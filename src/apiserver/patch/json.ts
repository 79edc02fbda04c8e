// Plain-JSON helpers shared by the three patch types: type tests, own-property access
// that is safe for keys such as `__proto__`, deep copy and equality, the work bounds,
// and Go's `%v` rendering of decoded JSON (the API server quotes values that way).

export type JsonMap = Record<string, unknown>;

/** Patches nested deeper than this are refused. */
export const MAX_DEPTH = 100;
/** Patches with more operations than this are refused (kube-apiserver's JSON patch bound). */
export const MAX_OPERATIONS = 10_000;

export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function has(m: JsonMap, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, k);
}

export function get(m: JsonMap, k: string): unknown {
  return has(m, k) ? m[k] : undefined;
}

/** Sets an own, enumerable property, even for `__proto__`. */
export function set(m: JsonMap, k: string, v: unknown): void {
  if (k === '__proto__') {
    Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    m[k] = v;
  }
}

/** A deep copy of a JSON value (objects, arrays, primitives). */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map((e: unknown) => deepCopy(e)) as T;
  if (isMap(v)) {
    const out: JsonMap = {};
    for (const k of Object.keys(v)) set(out, k, deepCopy(v[k]));
    return out as T;
  }
  return v;
}

/** JSON equality: objects compare regardless of member order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((e, i) => jsonEqual(e, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => has(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Nesting depth (a scalar is 0, `{}` and `[]` are 1) and node count of a JSON value,
 * stopping early once `maxDepth` is exceeded so that hostile input costs little.
 */
export function measure(v: unknown, maxDepth: number): { depth: number; nodes: number } {
  let nodes = 0;
  let deepest = 0;
  const walk = (x: unknown, depth: number): void => {
    if (deepest > maxDepth) return;
    if (Array.isArray(x)) {
      deepest = Math.max(deepest, depth + 1);
      for (const e of x) {
        nodes++;
        walk(e, depth + 1);
      }
    } else if (isMap(x)) {
      deepest = Math.max(deepest, depth + 1);
      for (const k of Object.keys(x)) {
        nodes++;
        walk(x[k], depth + 1);
      }
    }
  };
  walk(v, 0);
  return { depth: deepest, nodes };
}

/** Go's reflect type name of a value decoded from JSON into interface{}. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v;
}

/** Go's `%v` of a value decoded from JSON: `map[a:1 b:[x y]]`, keys sorted. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  if (typeof v === 'number') return goNumber(v);
  return String(v);
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return String(n); // int64
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  // float64 with %v is strconv's 'g' at the shortest precision: %e notation when the
  // decimal exponent is below -4 or at least 6 (1e+06, 1.5e-05), else plain decimals.
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(n.toExponential());
  if (!m) return String(n);
  const exp = Number(`${m[2]}${m[3]}`);
  if (exp < -4 || exp >= 6) return `${m[1]}e${m[2]}${(m[3] ?? '').padStart(2, '0')}`;
  return String(n);
}
