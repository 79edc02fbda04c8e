// Just enough of a POSIX shell for the commands a walkthrough reader types: words split
// on blanks, single and double quotes, backslash escapes, and $(...) command
// substitution (run through the session, like `curl $(kubectl get svc ... -o jsonpath=...)`),
// and pipelines (`kubectl logs … | grep Proxier`).

export type Substitute = (command: string) => Promise<string>;

/** Find the `)` closing a `$(` that starts at `start` (index of `$`). */
function closingParen(line: string, start: number): number {
  let depth = 0;
  let quote = '';
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Split a command line at its top-level `|` (not in quotes or $(...)); one stage when none. */
export function splitPipeline(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '$' && line[i + 1] === '(') {
      depth++;
      i++;
    } else if (c === ')' && depth > 0) depth--;
    else if (c === '|' && depth === 0 && line[i + 1] !== '|') {
      out.push(line.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(line.slice(start).trim());
  return out;
}

/** Split a command line into words, running $(...) substitutions first. */
export async function splitWords(line: string, substitute: Substitute): Promise<string[]> {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '$' && line[i + 1] === '(') {
      const end = closingParen(line, i);
      if (end < 0) throw new Error(`unterminated $( in: ${line}`);
      // Unquoted substitution output is split into words, trailing newlines dropped.
      const out = (await substitute(line.slice(i + 2, end))).replace(/\n+$/, '');
      const parts = out.split(/\s+/).filter((p) => p !== '');
      parts.forEach((p, k) => {
        if (k > 0) {
          words.push(cur);
          cur = '';
        }
        cur += p;
        inWord = true;
      });
      i = end + 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        cur += line[j];
        j++;
      }
      if (j >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
      i = j + 1;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
