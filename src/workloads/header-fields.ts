// Header field names: HTTP compares them case-insensitively. Shared by the workloads'
// handlers and the simulated HTTP stack (src/sim/http), which read them per message, so
// the comparisons build no lowered copies of ASCII names.

/** Header fields in wire order, names as sent. */
export type HeaderList = Array<[name: string, value: string]>;

/**
 * `name.toLowerCase() === lower` for a lowercase ASCII `lower`, without building the
 * lowered string when `name` is ASCII (header names almost always are; anything else takes
 * toLowerCase() itself, whose Unicode mappings can change a string's length).
 */
export function nameIs(name: string, lower: string): boolean {
  const n = name.length;
  const m = lower.length;
  const k = n < m ? n : m;
  for (let i = 0; i < k; i++) {
    let c = name.charCodeAt(i);
    if (c > 0x7f) return name.toLowerCase() === lower;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  if (n === m) return true;
  for (let i = k; i < n; i++) if (name.charCodeAt(i) > 0x7f) return name.toLowerCase() === lower;
  return false;
}

/**
 * `s.toLowerCase()` / `s.toUpperCase()`, but `s` itself when it is ASCII already in that
 * case (the literal names, tokens and methods callers pass): V8 allocates the result before
 * finding nothing to change.
 */
export function lowered(s: string): string {
  return hasCaseToChange(s, 0x41) ? s.toLowerCase() : s;
}
export function raised(s: string): string {
  return hasCaseToChange(s, 0x61) ? s.toUpperCase() : s;
}

/** A non-ASCII character, or a letter from `a` (A or a) to the 26th after it. */
function hasCaseToChange(s: string, a: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || (c >= a && c < a + 26)) return true;
  }
  return false;
}

/** First value of a header (names compare case-insensitively). */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const n = lowered(name);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (nameIs(h[0], n)) return h[1];
  }
  return undefined;
}
