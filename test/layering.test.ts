// The layering rules of docs/architecture.md, checked on every import under src/.
//
// The ranks come from the Layers table in docs/architecture.md (the one source: edit the
// table and this test follows). The rules:
//   - an import points to a folder of the same rank or a lower one, never a higher one;
//     type-only and dynamic imports included;
//   - folders that share a rank do not import each other, except along the edges the doc
//     lists under the table as "- `src/A/` → `src/B/`";
//   - no runtime import cycle between files: a cycle of imports that load the module
//     (`import { x }`, `import './a.ts'`, `export … from`) changes evaluation order, and
//     a module can see another's exports before they are set. Cycles that close only
//     through `import type` or a dynamic `import()` are harmless at run time (type
//     imports are erased under verbatimModuleSyntax; a dynamic import runs after both
//     modules are loaded) and, across folders, the rank rules already forbid them. The
//     ones left are a class and a helper file in one folder that name each other's types:
//     they are listed in the test's log (`npx ava --verbose test/layering.test.ts`), not
//     failed.
// Every .ts file under src/ must be in a folder of the table (ambient .d.ts files aside).
// Imports are read with the TypeScript parser, so comments and strings that look like
// imports are not mistaken for them.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// --- the doc --------------------------------------------------------------------------

export interface Layers {
  /** Folder (`src/packet/`) → rank. */
  rank: Map<string, number>;
  /** Same-rank edges the doc allows, as `src/api/ → src/packet/`. */
  allowed: Set<string>;
}

/** The Layers section of architecture.md: its table's ranks and its allowed same-rank edges. */
export function parseLayers(markdown: string): Layers {
  const start = markdown.indexOf('\n## Layers');
  if (start < 0) throw new Error('architecture.md has no "## Layers" section');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rank = new Map<string, number>();
  const allowed = new Set<string>();
  for (const line of section.split('\n')) {
    const row = /^\|\s*(\d+)\s*\|([^|]*)\|/.exec(line);
    if (row !== null) {
      for (const m of row[2]!.matchAll(/`(src\/[^`]*\/)`/g)) rank.set(m[1]!, Number(row[1]));
      continue;
    }
    const edge = /^\s*-\s*`(src\/[^`]*\/)`\s*→\s*`(src\/[^`]*\/)`/.exec(line);
    if (edge !== null) allowed.add(`${edge[1]} → ${edge[2]}`);
  }
  if (rank.size === 0) throw new Error('the Layers table lists no folders');
  return { rank, allowed };
}

// --- imports ---------------------------------------------------------------------------

export type EdgeKind = 'runtime' | 'type' | 'dynamic';

export interface Import {
  specifier: string;
  kind: EdgeKind;
  line: number;
}

/**
 * Every module a file names: `import … from`, `import '…'`, `export … from`,
 * `import x = require('…')`, `import('…')`, `typeof import('…')`. `import { type A }`
 * counts as a runtime import: under verbatimModuleSyntax it still loads the module.
 */
export function importsOf(fileName: string, text: string): Import[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: ts.Node, kind: EdgeKind) => {
    if (!ts.isStringLiteralLike(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1;
    out.push({ specifier: spec.text, kind, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly === true ? 'type' : 'runtime');
    } else if (ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier !== undefined)
        add(node.moduleSpecifier, node.isTypeOnly ? 'type' : 'runtime');
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node.moduleReference.expression, node.isTypeOnly ? 'type' : 'runtime');
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal, 'type');
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined
    ) {
      add(node.arguments[0], 'dynamic');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

// --- the check -------------------------------------------------------------------------

/** Reads a repository file by its path relative to the root (`src/cli/main.ts`). */
export type Reader = (path: string) => string | undefined;

interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  line: number;
}

/** A relative specifier resolved to a repository path, or undefined for a package. */
function resolve(from: string, specifier: string, read: Reader): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const tries = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
  return tries.find((p) => p.endsWith('.ts') && read(p) !== undefined) ?? base;
}

function folderOf(path: string, layers: Layers): string | undefined {
  let best: string | undefined;
  for (const folder of layers.rank.keys()) {
    if (path.startsWith(folder) && (best === undefined || folder.length > best.length))
      best = folder;
  }
  return best;
}

export interface Report {
  /** Violations, one readable line each: the layering holds when there are none. */
  problems: string[];
  /** Cycles that close only through type-only or dynamic imports (allowed, listed). */
  typeCycles: string[];
}

/**
 * The layering of `roots` and every file they import (followed out of src/ too, for
 * cycles).
 */
export function checkLayering(roots: string[], read: Reader, layers: Layers): Report {
  const problems: string[] = [];
  const edges = new Map<string, Edge[]>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (edges.has(file)) continue;
    const text = read(file);
    if (text === undefined) continue;
    const out: Edge[] = [];
    edges.set(file, out);
    if (file.endsWith('.d.ts') || !file.endsWith('.ts')) continue;
    for (const imp of importsOf(file, text)) {
      const to = resolve(file, imp.specifier, read);
      if (to === undefined) continue;
      if (read(to) === undefined) {
        problems.push(`${file}:${imp.line}: imports '${imp.specifier}', which does not exist`);
        continue;
      }
      out.push({ from: file, to, kind: imp.kind, line: imp.line });
      queue.push(to);
    }
  }

  // Ranks: every edge between two src/ files.
  for (const [file, out] of edges) {
    if (!file.startsWith('src/') || file.endsWith('.d.ts')) continue;
    const from = folderOf(file, layers);
    if (from === undefined) {
      problems.push(`${file}: not in a folder of docs/architecture.md's Layers table`);
      continue;
    }
    for (const e of out) {
      const to = folderOf(e.to, layers);
      if (to === undefined || to === from) continue;
      const rf = layers.rank.get(from)!;
      const rt = layers.rank.get(to)!;
      const where = `${file}:${e.line}: ${e.kind === 'runtime' ? '' : `${e.kind} `}import of ${e.to}`;
      if (rt > rf) problems.push(`${where} points up: ${from} (rank ${rf}) → ${to} (rank ${rt})`);
      else if (rt === rf && !layers.allowed.has(`${from} → ${to}`))
        problems.push(
          `${where}: ${from} and ${to} share rank ${rf} and must not import each other`,
        );
    }
  }

  const typeCycles: string[] = [];
  for (const c of findCycles(edges)) (c.runtime ? problems : typeCycles).push(c.text);
  return { problems, typeCycles };
}

/** The strongly connected components of more than one file (or a self-import). */
function findCycles(edges: Map<string, Edge[]>): { runtime: boolean; text: string }[] {
  // Tarjan's algorithm, iterative.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const root of [...edges.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const out = edges.get(top.node) ?? [];
      if (top.i < out.length) {
        const to = out[top.i++]!.to;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined)
        low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const comp: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          comp.push(n);
        } while (n !== top.node);
        const selfLoop = (edges.get(top.node) ?? []).some((e) => e.to === top.node);
        if (comp.length > 1 || selfLoop) components.push(comp.sort());
      }
    }
  }
  return components.map((comp) => {
    const members = new Set(comp);
    const inner = (kinds: EdgeKind[]) =>
      comp.flatMap((f) =>
        (edges.get(f) ?? []).filter((e) => members.has(e.to) && kinds.includes(e.kind)),
      );
    // Runtime if the static runtime edges alone still close a loop inside the component:
    // then name that loop; otherwise a loop through any edges.
    const runtimeEdges = inner(['runtime']);
    const runtime = hasCycle(comp, runtimeEdges);
    const loopEdges = runtime ? runtimeEdges : inner(['runtime', 'type', 'dynamic']);
    const start = comp.find((f) => hasPath(f, f, loopEdges)) ?? comp[0]!;
    const path = shortestCycle(start, loopEdges);
    const kind = runtime ? 'runtime' : 'type-only or dynamic';
    const among =
      comp.length > path.length - 1 ? ` (one of ${comp.length} files: ${comp.join(', ')})` : '';
    return { runtime, text: `import cycle (${kind}): ${path.join(' → ')}${among}` };
  });
}

function hasCycle(nodes: string[], edges: Edge[]): boolean {
  const out = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) out.get(e.from)!.push(e.to);
  const state = new Map<string, 1 | 2>();
  const dfs = (n: string): boolean => {
    state.set(n, 1);
    for (const m of out.get(n)!) {
      const s = state.get(m);
      if (s === 1 || (s === undefined && dfs(m))) return true;
    }
    state.set(n, 2);
    return false;
  };
  return nodes.some((n) => state.get(n) === undefined && dfs(n));
}

function hasPath(from: string, to: string, edges: Edge[]): boolean {
  return shortestCycle(from, edges, to).length > 0;
}

/**
 * The shortest path from `start` to `end` (by default back to itself), as a list of files
 * (breadth first); empty when there is none.
 */
function shortestCycle(start: string, edges: Edge[], end = start): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const e of edges) {
      if (e.from !== n) continue;
      if (e.to === end) {
        const path = [start];
        for (let p = n; p !== start; p = prev.get(p)!) path.splice(1, 0, p);
        return [...path, end];
      }
      if (!prev.has(e.to)) {
        prev.set(e.to, n);
        queue.push(e.to);
      }
    }
  }
  return [];
}

// --- the repository -------------------------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = posix.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const diskReader: Reader = (path) => {
  if (relative(ROOT, join(ROOT, path)).startsWith('..')) return undefined;
  try {
    return readFileSync(join(ROOT, path), 'utf8');
  } catch {
    return undefined;
  }
};

const LAYERS = parseLayers(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));

test('the Layers table of docs/architecture.md reads as ranks', (t) => {
  t.is(LAYERS.rank.get('src/packet/'), 0);
  t.is(LAYERS.rank.get('src/sim/'), LAYERS.rank.get('src/lab/'));
  t.true(LAYERS.rank.get('src/apiserver/')! < LAYERS.rank.get('src/cli/')!);
  // Every folder under src/ with TypeScript in it has a rank.
  const folders = new Set(
    sourceFiles('src')
      .filter((f) => !f.endsWith('.d.ts'))
      .map((f) => `${f.split('/').slice(0, 2).join('/')}/`),
  );
  t.deepEqual(
    [...folders].filter((f) => !LAYERS.rank.has(f)),
    [],
    'folders missing from the table',
  );
});

/**
 * Violations known today in files this test's author does not own, each with who fixes
 * it and how. The test fails on any other violation, and on an entry here that no longer
 * occurs (delete it then): the list only shrinks.
 */
const KNOWN: { problem: string; fix: string }[] = [];

test('src/ imports point down the ranks of docs/architecture.md, with no runtime cycle', (t) => {
  const { problems, typeCycles } = checkLayering(sourceFiles('src'), diskReader, LAYERS);
  // Compared without line numbers, so an edit above the import does not break the match.
  const bare = (p: string) => p.replace(/^([^:]+):\d+:/, '$1:');
  const known = new Set(KNOWN.map((k) => bare(k.problem)));
  const found = new Set(problems.map(bare));
  const fresh = problems.filter((p) => !known.has(bare(p)));
  const fixed = KNOWN.filter((k) => !found.has(bare(k.problem))).map((k) => k.problem);
  t.deepEqual(fresh, [], `layering violations:\n${fresh.join('\n')}`);
  t.deepEqual(fixed, [], 'fixed: delete these from KNOWN in test/layering.test.ts');
  for (const k of KNOWN) t.log(`known, to fix: ${k.problem} (${k.fix})`);
  for (const c of typeCycles) t.log(c);
});

// --- the checker can fail ---------------------------------------------------------------

const memory =
  (files: Record<string, string>): Reader =>
  (path) =>
    files[path];

test('the checker finds a planted upward import and a planted same-rank import', (t) => {
  const files = {
    'src/cli/main.ts': "import { x } from '../packet/x.ts';\nexport const main = x;\n",
    'src/packet/x.ts':
      "// import { main } from '../cli/main.ts' in a comment is not an import\n" +
      'export const x = 1;\n' +
      "export const late = () => import('../cli/main.ts');\n",
    'src/sim/a.ts': "import type { B } from '../lab/b.ts';\nexport type A = B;\n",
    'src/lab/b.ts': 'export type B = number;\n',
    'src/api/v.ts': "import { x } from '../packet/x.ts';\nexport const v = x;\n",
  };
  const { problems, typeCycles } = checkLayering(Object.keys(files), memory(files), LAYERS);
  t.deepEqual(problems, [
    'src/packet/x.ts:3: dynamic import of src/cli/main.ts points up: src/packet/ (rank 0) → src/cli/ (rank 8)',
    'src/sim/a.ts:1: type import of src/lab/b.ts: src/sim/ and src/lab/ share rank 6 and must not import each other',
  ]);
  // api → packet is an allowed same-rank edge; the comment on line 1 is not an import.
  // main → x → main through the dynamic import is a cycle, but not a runtime one.
  t.deepEqual(typeCycles, [
    'import cycle (type-only or dynamic): src/cli/main.ts → src/packet/x.ts → src/cli/main.ts',
  ]);
});

test('the checker finds a runtime cycle, a missing file and a file outside the table', (t) => {
  const files = {
    'src/scenario/commands/index.ts':
      "import { kubectl } from './kubectl.ts';\nexport const COMMANDS = { kubectl };\nexport const ok = 1;\n",
    'src/scenario/commands/kubectl.ts':
      "import { ok } from './index.ts';\nexport const kubectl = () => ok;\n",
    'src/scenario/session.ts':
      "import type { ok } from './commands/index.ts';\nexport type S = typeof ok;\n",
    'src/control/a.ts': "import type { B } from './b.ts';\nexport interface A { b?: B }\n",
    'src/control/b.ts': "import type { A } from './a.ts';\nexport interface B { a?: A }\n",
    'src/stray/c.ts': "export * from '../control/a.ts';\n",
    'src/control/d.ts': "import { gone } from './missing.ts';\nexport const d = gone;\n",
  };
  const { problems, typeCycles } = checkLayering(Object.keys(files), memory(files), LAYERS);
  t.deepEqual(problems.sort(), [
    'import cycle (runtime): src/scenario/commands/index.ts → src/scenario/commands/kubectl.ts → src/scenario/commands/index.ts',
    "src/control/d.ts:1: imports './missing.ts', which does not exist",
    "src/stray/c.ts: not in a folder of docs/architecture.md's Layers table",
  ]);
  t.deepEqual(typeCycles, [
    'import cycle (type-only or dynamic): src/control/a.ts → src/control/b.ts → src/control/a.ts',
  ]);
});

test('a cycle through a type import is still a runtime cycle when runtime imports close it', (t) => {
  const files = {
    'src/scenario/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
    'src/scenario/b.ts': "import { c } from './c.ts';\nexport const b = c;\n",
    'src/scenario/c.ts':
      "import { a } from './a.ts';\nimport type { T } from './b.ts';\nexport const c = 1; export const d = () => a; export type U = T;\n",
  };
  const { problems } = checkLayering(Object.keys(files), memory(files), LAYERS);
  t.deepEqual(problems, [
    'import cycle (runtime): src/scenario/a.ts → src/scenario/b.ts → src/scenario/c.ts → src/scenario/a.ts',
  ]);
});

test('importsOf reads every form of import', (t) => {
  const text = [
    "import a from './a.ts';",
    "import type { B } from './b.ts';",
    "import { type C } from './c.ts';",
    "import './d.ts';",
    "export * from './e.ts';",
    "export type { F } from './f.ts';",
    "const g = await import('./g.ts');",
    "let h: typeof import('./h.ts');",
    'const s = "import x from \'./not.ts\'";',
  ].join('\n');
  t.deepEqual(
    importsOf('x.ts', text).map((i) => `${i.line} ${i.kind} ${i.specifier}`),
    [
      '1 runtime ./a.ts',
      '2 type ./b.ts',
      '3 runtime ./c.ts',
      '4 runtime ./d.ts',
      '5 runtime ./e.ts',
      '6 type ./f.ts',
      '7 dynamic ./g.ts',
      '8 type ./h.ts',
    ],
  );
});
