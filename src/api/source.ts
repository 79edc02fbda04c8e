// Where each loaded object came from, kept beside the object (a WeakMap, so the
// object itself stays a plain Kubernetes-shaped value that serialises cleanly).

import type { FieldPath } from './errors.ts';
import type { Position } from './positions.ts';

export interface SourceLocation {
  /** The file name as the caller passed it (or as found in a directory walk). */
  file: string;
  /** Line and column (1-based) where the object starts. */
  line: number;
  column: number;
  /** 0-based index of the YAML document in the file. */
  document: number;
  /** 0-based index in a `kind: List`'s items, when the object came from one. */
  item?: number;
  /** apiVersion as written (e.g. `extensions/v1beta1`), before conversion. */
  apiVersion: string;
  /** Line:column of a field of this object (or of its nearest written ancestor). */
  locate(path: FieldPath): Position;
}

const sources = new WeakMap<object, SourceLocation>();

/** The manifest location an object was loaded from; undefined for objects built in code. */
export function sourceOf(obj: object): SourceLocation | undefined {
  return sources.get(obj);
}

export function setSource(obj: object, loc: SourceLocation): void {
  sources.set(obj, loc);
}

/** `svc.yaml:3` — short form for messages. */
export function formatSource(obj: object): string | undefined {
  const s = sources.get(obj);
  return s === undefined ? undefined : `${s.file}:${s.line}`;
}
