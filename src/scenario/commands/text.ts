// The text filters a reader pipes kubectl into: `grep` and `sed s///`. Both read the pipe
// (no files). Patterns are fixed strings, not regular expressions: a scenario needs no
// more, and a fixed string cannot make a pipeline backtrack for ever.
import { type CommandContext, type ExecResult, fail } from './command.ts';

const MAX_PATTERN = 1024;

/** grep [-i] [-v] [-c] [-F] [-e PATTERN]... [PATTERN]: lines of stdin containing a pattern. */
export function grepCommand(args: string[], ctx: CommandContext): ExecResult {
  const patterns: string[] = [];
  let ignoreCase = false;
  let invert = false;
  let count = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e') patterns.push(args[++i] ?? '');
    else if (/^-[ivcF]+$/.test(a)) {
      ignoreCase ||= a.includes('i');
      invert ||= a.includes('v');
      count ||= a.includes('c');
    } else if (a.startsWith('-') && a !== '-') return fail(`grep: unsupported option '${a}'\n`, 2);
    else if (patterns.length === 0) patterns.push(a);
    else return fail('grep: svclab greps its input only (no files)\n', 2);
  }
  if (patterns.length === 0) return fail('Usage: grep [OPTION]... PATTERNS\n', 2);
  if (patterns.some((p) => p.length > MAX_PATTERN))
    return fail(`grep: pattern longer than ${MAX_PATTERN} characters\n`, 2);
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const pats = patterns.map(norm);
  const text = ctx.stdin ?? '';
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const hits = lines.filter((l) => pats.some((p) => norm(l).includes(p)) !== invert);
  const stdout = count ? `${hits.length}\n` : hits.map((l) => `${l}\n`).join('');
  return { stdout, stderr: '', exitCode: hits.length > 0 ? 0 : 1 };
}

/** sed [-e] 's/FROM/TO/[g]': replace a fixed string on each line of stdin. */
export function sedCommand(args: string[], ctx: CommandContext): ExecResult {
  const scripts = args.filter((a, i) => a !== '-e' || i === args.length - 1);
  const script = scripts.length === 1 ? scripts[0]! : undefined;
  if (script === undefined || script.startsWith('-'))
    return fail('sed: svclab runs one s/FROM/TO/[g] script on its input\n', 1);
  const sep = script[1];
  const parts = sep === undefined ? [] : script.slice(2).split(sep);
  if (script[0] !== 's' || parts.length !== 3 || !/^g?$/.test(parts[2]!))
    return fail(
      `sed: -e expression #1, char ${script.length}: unknown command: \`${script[0] ?? ''}'\n`,
      1,
    );
  const [from, to, flags] = parts as [string, string, string];
  if (from === '')
    return fail('sed: -e expression #1, char 0: no previous regular expression\n', 1);
  const text = ctx.stdin ?? '';
  const out = text
    .split('\n')
    .map((l) => (flags === 'g' ? l.split(from).join(to) : l.replace(from, () => to)))
    .join('\n');
  return { stdout: out, stderr: '', exitCode: 0 };
}
