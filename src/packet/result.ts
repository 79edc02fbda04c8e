// Outcome of a Repr parse: the value, or the typed reason it was refused. Never thrown.
export type Parsed<T, R extends number> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: R };
