// Manifest errors. Messages follow the API server's field.Error wording
// (k8s.io/apimachinery/pkg/util/validation/field/errors.go): "Required value",
// "Invalid value: <v>: <detail>", "Unsupported value: ...", "Duplicate value: ...",
// "Forbidden: ...", so svclab's output reads like `kubectl apply`'s.

/** One step of a field path: a field name, a list index, or a map key (`labels[app]`). */
export type PathSeg = string | number | { key: string };
export type FieldPath = readonly PathSeg[];

/** A problem found in one object, before it is given a file position. */
export interface FieldError {
  /** Path shown in the message (the API server's path, e.g. `spec.ports[0].port`). */
  path: FieldPath;
  /** Body after the path: `Invalid value: 0: must be between 1 and 65535, inclusive`. */
  message: string;
  /** Where to point in the source when it is not `path` (e.g. one label key). */
  at?: FieldPath;
}

/** Format a field path the way field.Path.String() does: `spec.ports[0].name`, `data[tls.crt]`. */
export function formatPath(path: FieldPath): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (typeof seg === 'object') s += `[${seg.key}]`;
    else s += s === '' ? seg : `.${seg}`;
  }
  return s;
}

/** An error tied to a place in a manifest file. `line`/`column` are 1-based; 0 when unknown. */
export class ManifestError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Field path as text (`spec.ports[0].port`), '' for file- or document-level errors. */
  readonly path: string;
  readonly message: string;

  constructor(file: string, line: number, column: number, path: string, message: string) {
    this.file = file;
    this.line = line;
    this.column = column;
    this.path = path;
    this.message = message;
  }

  /** `svc.yaml:14:7 spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive` */
  format(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.column}` : this.file;
    return this.path === ''
      ? `${where}: ${this.message}`
      : `${where} ${this.path}: ${this.message}`;
  }

  toString(): string {
    return this.format();
  }
}

// ---- value rendering: Go's %v / %q / %#v as field.Error prints bad values ----------------

/** Render a bad value as the API server does: numbers bare, strings quoted, maps as Go literals. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
    }
    return JSON.stringify(v);
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === 'string')) {
      // Go prints map keys sorted.
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`)
        .join(', ');
      return `map[string]string{${body}}`;
    }
    return JSON.stringify(v);
  }
  return String(v);
}

// ---- field.Error constructors ------------------------------------------------------------

export function required(path: FieldPath, detail = ''): FieldError {
  return { path, message: detail === '' ? 'Required value' : `Required value: ${detail}` };
}

export function invalid(path: FieldPath, value: unknown, detail: string): FieldError {
  return { path, message: `Invalid value: ${goValue(value)}: ${detail}` };
}

/** Like `invalid`, but with the value already rendered (Go struct literals and the like). */
export function invalidRaw(path: FieldPath, rendered: string, detail: string): FieldError {
  return { path, message: `Invalid value: ${rendered}: ${detail}` };
}

export function notSupported(
  path: FieldPath,
  value: unknown,
  supported: readonly string[],
): FieldError {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return { path, message: `Unsupported value: ${goValue(value)}: supported values: ${list}` };
}

export function duplicate(path: FieldPath, value: unknown): FieldError {
  return { path, message: `Duplicate value: ${goValue(value)}` };
}

export function forbidden(path: FieldPath, detail: string): FieldError {
  return { path, message: `Forbidden: ${detail}` };
}

/** Point an error at a more precise source node than its displayed path. */
export function pointAt(err: FieldError, at: FieldPath): FieldError {
  return { ...err, at };
}
