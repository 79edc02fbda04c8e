// The regexes of scenario expectations (`matches:`). They run on RE2 (re2js), whose
// matching takes time linear in the text whatever the pattern, so `^(a+)+$` cannot stall
// a run. RE2 has no lookaround or backreferences: a pattern that needs them runs on
// JavaScript's engine only when it cannot backtrack without bound — no quantified group
// that holds a quantifier or an alternation (star height 1) — and is refused otherwise,
// with a one-line reason, when the scenario is read.
import { RE2JS } from 're2js';

/** The longest pattern accepted. */
export const REGEX_MAX_LENGTH = 1000;

export interface ExpectRegex {
  /** Non-overlapping matches in `text`, as String.match with /g counts them. */
  count(text: string): number;
}

/**
 * Does `pattern` put a quantifier on a group holding a quantifier or an alternation
 * (the shapes that backtrack exponentially: `(a+)+`, `(a|a)*`, `(?:a*b?)*`)?
 */
export function nestedQuantifier(pattern: string): boolean {
  // Per open group: whether it holds a quantifier or `|` (directly or in a subgroup).
  const stack: boolean[] = [];
  let risky = false; // the group just closed was risky
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const closedRisky = risky;
    risky = false;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push(false);
    else if (c === ')') risky = stack.pop() ?? false;
    else if (c === '|') {
      if (stack.length > 0) stack[stack.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      // `(?` opens a group's flags, not a quantifier.
      if (c === '?' && pattern[i - 1] === '(') continue;
      if (closedRisky && c !== '?') return true;
      if (stack.length > 0) stack[stack.length - 1] = true;
    }
    if (c === ')' && stack.length > 0 && risky) stack[stack.length - 1] = true;
  }
  return false;
}

/** A compiled expectation pattern, multi-line (`^`/`$` at line ends) as scenarios mean. */
export function compileExpectRegex(pattern: string): ExpectRegex {
  if (pattern.length > REGEX_MAX_LENGTH)
    throw new Error(`a pattern longer than ${REGEX_MAX_LENGTH} characters`);
  let re2: RE2JS | undefined;
  let re2Error = '';
  try {
    re2 = RE2JS.compile(pattern, RE2JS.MULTILINE);
  } catch (e) {
    re2Error = (e as Error).message.split('\n')[0]!;
  }
  if (re2 !== undefined) {
    const r = re2;
    return {
      count(text) {
        const m = r.matcher(text);
        let n = 0;
        while (m.find()) n++;
        return n;
      },
    };
  }
  let js: RegExp;
  try {
    js = new RegExp(pattern, 'gm');
  } catch (e) {
    throw new Error((e as Error).message.split('\n')[0]);
  }
  if (nestedQuantifier(pattern))
    throw new Error(
      `${re2Error}; and with a quantified group holding a quantifier or '|' it could backtrack without bound: refused`,
    );
  return { count: (text) => text.match(js)?.length ?? 0 };
}
