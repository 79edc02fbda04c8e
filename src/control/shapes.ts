// Copies of plain objects built as one object literal. V8 gives `{}`, a spread and
// Object.assign's target 4 in-object slots; a fifth key goes to a separate PropertyArray.
// A stored pod version is several such objects (the pod, its metadata, spec, status),
// so 100,000 pods carried ~660,000 PropertyArrays: a sixth of the heap's objects, each
// copied by every young-generation GC they survive. A literal that names every key
// holds them all in-object. One builder is generated per key sequence and cached.

/** A builder: the copy of `s` with the caller's values `v` in place. */
type Build = (s: Readonly<Record<string, unknown>>, v: readonly unknown[]) => object;

interface Shape {
  /** The source's own enumerable keys, in order. */
  readonly src: readonly string[];
  readonly build: Build;
}

/** Keys a literal cannot carry as written (`__proto__` sets the prototype; indexes reorder). */
const UNSAFE_KEY = /^(?:__proto__|0|[1-9]\d*)$/;

/** Sources with more keys than this take the generic path. */
const MAX_KEYS = 32;

/** Shapes learnt per copier; a source of yet another shape takes the generic path. */
const MAX_SHAPES = 16;

/**
 * Copies objects with some keys set (replaced in place where the source has them,
 * appended in order otherwise) and some source keys dropped (a dropped key that is also
 * set moves to the end, as deleting and re-adding it would): one copier per call site,
 * with its keys fixed, so the shapes it meets are few and its first guess nearly always
 * right. A value of `undefined` is stored as a key with value undefined: callers pass
 * only the keys they mean to set (another copier when the set differs).
 */
export class LiteralCopier {
  private readonly set: readonly string[];
  private readonly omit: ReadonlySet<string>;
  /** Where each set key's value is in copy()'s `values`. */
  private readonly slots: readonly number[];
  /** Most recently used first. */
  private readonly shapes: Shape[] = [];
  private readonly slow: Build;

  /**
   * `slots[i]`, when given, is the index in copy()'s `values` of the value for `set[i]`:
   * callers with several copiers (one per set of keys) can then pass one values array.
   */
  constructor(set: readonly string[], omit: Iterable<string> = [], slots?: readonly number[]) {
    this.set = [...set];
    this.omit = new Set(omit);
    this.slots = slots ?? this.set.map((_, i) => i);
    if (this.slots.length !== this.set.length) throw new Error('one slot per key');
    for (const k of this.set) if (UNSAFE_KEY.test(k)) throw new Error(`unsafe key ${k}`);
    this.slow = (s, v) => this.generic(s, v);
  }

  /** The copy of `src` with this copier's keys set to `values` (in the constructor's order, or by its slots). */
  copy<T extends object>(src: T, values: readonly unknown[]): T {
    const s = src as Readonly<Record<string, unknown>>;
    const shapes = this.shapes;
    for (let i = 0; i < shapes.length; i++) {
      const shape = shapes[i]!;
      if (!sameKeys(s, shape.src)) continue;
      if (i > 0) {
        shapes.splice(i, 1);
        shapes.unshift(shape);
      }
      return shape.build(s, values) as T;
    }
    if (shapes.length >= MAX_SHAPES) return this.generic(s, values) as T;
    return this.learn(s).build(s, values) as T;
  }

  private learn(s: Readonly<Record<string, unknown>>): Shape {
    const src = Object.keys(s);
    let build = this.slow;
    if (src.length <= MAX_KEYS && !src.some((k) => UNSAFE_KEY.test(k))) {
      build = compile(src, this.set, this.omit, this.slots);
    }
    const shape: Shape = { src, build };
    this.shapes.unshift(shape);
    return shape;
  }

  /** The same copy without a literal (keys the literal cannot carry). */
  private generic(s: Readonly<Record<string, unknown>>, v: readonly unknown[]): object {
    const out: Record<string, unknown> = {};
    for (const k in s) {
      if (this.omit.has(k)) continue;
      const at = this.set.indexOf(k);
      put(out, k, at >= 0 ? v[this.slots[at]!] : s[k]);
    }
    for (let i = 0; i < this.set.length; i++) {
      const k = this.set[i]!;
      if (!Object.prototype.hasOwnProperty.call(out, k)) put(out, k, v[this.slots[i]!]);
    }
    return out;
  }
}

/** `out[k] = value` as an own data property (`out.__proto__ = x` would set the prototype). */
function put(out: Record<string, unknown>, k: string, value: unknown): void {
  if (k !== '__proto__') out[k] = value;
  else
    Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
}

/** Does `s` have exactly these own enumerable keys, in this order? (No allocation.) */
function sameKeys(s: Readonly<Record<string, unknown>>, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in s) {
    if (i >= keys.length || keys[i] !== k) return false;
    i++;
  }
  return i === keys.length;
}

function compile(
  src: readonly string[],
  set: readonly string[],
  omit: ReadonlySet<string>,
  slots: readonly number[],
): Build {
  const parts: string[] = [];
  const placed = new Set<string>();
  for (const k of src) {
    if (omit.has(k)) continue;
    const at = set.indexOf(k);
    const name = JSON.stringify(k);
    if (at >= 0) placed.add(k);
    parts.push(at >= 0 ? `${name}: v[${slots[at]}]` : `${name}: s[${name}]`);
  }
  set.forEach((k, at) => {
    if (!placed.has(k)) parts.push(`${JSON.stringify(k)}: v[${slots[at]}]`);
  });
  // Generated from key names only (quoted by JSON.stringify, unsafe ones excluded above).
  return new Function('s', 'v', `return { ${parts.join(', ')} };`) as Build;
}
