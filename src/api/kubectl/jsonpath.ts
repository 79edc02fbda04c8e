// kubectl's -o jsonpath, the subset walkthroughs use: `{.a.b[0].c}`, `{.items[*].x}`,
// several `{...}` with literal text between, and `{"\n"}`-style literals.

function walk(values: unknown[], path: string): unknown[] {
  const steps = path.match(/\.[^.[]+|\[[^\]]*\]/g) ?? [];
  let cur = values;
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      if (s.startsWith('.')) {
        const val = (v as Record<string, unknown>)[s.slice(1)];
        if (val !== undefined) next.push(val);
      } else {
        const inner = s.slice(1, -1);
        const arr = Array.isArray(v) ? v : [];
        if (inner === '*') next.push(...arr);
        else {
          const n = Number(inner);
          const item = arr[n < 0 ? arr.length + n : n];
          if (item !== undefined) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

const show = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : JSON.stringify(v);

/** Evaluate a jsonpath template against a JSON object. */
export function jsonpath(template: string, root: unknown): string {
  return template.replace(/\{([^}]*)\}/g, (_, expr: string) => {
    const e = expr.trim();
    if (/^".*"$/.test(e)) return JSON.parse(e) as string;
    const path = e === '.' || e === '@' ? '' : e.replace(/^[@$]/, '');
    return walk([root], path).map(show).join(' ');
  });
}
