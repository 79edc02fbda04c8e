// Field path → line:column in the YAML source, using the `yaml` package's node
// ranges and a LineCounter. Errors point at the offending value when it is a
// scalar, at its key when it is a mapping or list, and — for a field that is
// missing or was filled in by defaulting/conversion — at the nearest ancestor
// that the user actually wrote.

import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { LineCounter, Node } from 'yaml';
import type { FieldPath, PathSeg } from './errors.ts';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units of the line. */
  column: number;
}

/** `from` (a path in the converted/defaulted object) is written as `to` in the source. */
export interface PathAlias {
  from: FieldPath;
  to: FieldPath;
}

function segName(seg: PathSeg): string | number {
  return typeof seg === 'object' ? seg.key : seg;
}

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((s, i) => segName(s) === segName(path[i]!));
}

interface Step {
  /** The node the path step lands on (a value, or a list item); null for `key:` with no value. */
  value: Node | null;
  /** The key node when the step went through a mapping. */
  key: Node | null;
}

function stepInto(node: Node | null, seg: PathSeg): Step | undefined {
  if (node === null) return undefined;
  const name = segName(seg);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key as Node | null;
      const kv = isScalar(k) ? k.value : k;
      if (kv !== null && String(kv) === String(name)) {
        return { value: (pair.value as Node | null) ?? null, key: k };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof name === 'number') {
    const item = node.items[name] as Node | undefined;
    return item === undefined ? undefined : { value: item, key: null };
  }
  return undefined;
}

/** The node at `path` under `root` (e.g. `items[2]` of a List), or null. */
export function nodeAt(root: Node | null, path: FieldPath): Node | null {
  let node = root;
  for (const seg of path) {
    const step = stepInto(node, seg);
    if (step === undefined) return null;
    node = step.value;
  }
  return node;
}

/** Finds source positions for field paths of one object (a document, or one `List` item). */
export class NodeLocator {
  private readonly root: Node | null;
  private readonly lines: LineCounter;
  private readonly aliases: PathAlias[] = [];

  constructor(root: Node | null, lines: LineCounter) {
    this.root = root;
    this.lines = lines;
  }

  /** Register that `from` was written as `to` (old API versions, clusterIP → clusterIPs ...). */
  addAlias(alias: PathAlias): void {
    this.aliases.push(alias);
    // Longest prefix first, so the most specific rewrite wins.
    this.aliases.sort((a, b) => b.from.length - a.from.length);
  }

  private pos(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  /** Where a step should point: a scalar value itself, else the key that introduces it. */
  private stepPos(step: Step): Position | undefined {
    const target =
      step.value !== null && (isScalar(step.value) || isAlias(step.value)) ? step.value : null;
    const node = target ?? step.key ?? step.value;
    const range = node?.range;
    return range ? this.pos(range[0]) : undefined;
  }

  /** Walk `path`; returns the position of the deepest node reached and whether all of it was found. */
  private walk(path: FieldPath): { at: Position | undefined; complete: boolean } {
    let node = this.root;
    let at = node?.range ? this.pos(node.range[0]) : undefined;
    for (const seg of path) {
      const step = stepInto(node, seg);
      if (step === undefined) return { at, complete: false };
      at = this.stepPos(step) ?? at;
      node = step.value;
    }
    return { at, complete: true };
  }

  /** Position of `path`, or of its nearest ancestor present in the source. */
  locate(path: FieldPath): Position {
    const direct = this.walk(path);
    if (!direct.complete) {
      const alias = this.aliases.find((a) => startsWith(path, a.from));
      if (alias !== undefined) {
        const rewritten = [...alias.to, ...path.slice(alias.from.length)];
        const viaAlias = this.walk(rewritten);
        if (viaAlias.at !== undefined) return viaAlias.at;
      }
    }
    return direct.at ?? { line: 1, column: 1 };
  }
}
