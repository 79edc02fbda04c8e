// Loading manifests as `kubectl apply -f` reads them: files, directories
// (*.yaml, *.yml, *.json, sorted; recursive only when asked, like -R), `-` for
// stdin, multi-document YAML, JSON, and `kind: List`. Every object is converted,
// defaulted and validated; every problem is reported with file:line:column.
//
// All or nothing: if any object in the set is invalid (or any file unreadable),
// the result is `{ ok: false, errors }` with every error found and no objects,
// so a caller never applies half a set.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Node } from 'yaml';
import { decodeObject } from './decode.ts';
import { ManifestError, formatPath } from './errors.ts';
import type { FieldError } from './errors.ts';
import { clusterLimits } from './options.ts';
import type { ClusterLimits, LoadOptions } from './options.ts';
import { NodeLocator, nodeAt } from './positions.ts';
import { isPlainObject } from './shape.ts';
import { setSource } from './source.ts';
import type { KubeObject } from './types.ts';
import { validateWithLimits } from './validate.ts';

export type LoadResult =
  { ok: true; objects: KubeObject[] } | { ok: false; errors: ManifestError[] };

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

interface FileResult {
  objects: KubeObject[];
  errors: ManifestError[];
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'a list' : typeof v === 'string' ? 'a string' : `a ${typeof v}`;
}

/** The yaml package's message without its "at line L, column C:" code excerpt. */
function yamlMessage(msg: string): string {
  const cut = msg.indexOf(' at line ');
  return (cut >= 0 ? msg.slice(0, cut) : msg.split('\n')[0]) ?? msg;
}

interface ObjectSite {
  file: string;
  document: number;
  item?: number;
  root: Node | null;
  lines: LineCounter;
}

function processObject(
  raw: Record<string, unknown>,
  site: ObjectSite,
  opts: LoadOptions,
  limits: ClusterLimits,
  out: FileResult,
): void {
  const locator = new NodeLocator(site.root, site.lines);
  const report = (errs: FieldError[]): void => {
    for (const e of errs) {
      const pos = locator.locate(e.at ?? e.path);
      out.errors.push(
        new ManifestError(site.file, pos.line, pos.column, formatPath(e.path), e.message),
      );
    }
  };
  const decoded = decodeObject(raw, opts);
  for (const a of decoded.aliases) locator.addAlias(a);
  if (!decoded.ok) {
    report(decoded.errors);
    return;
  }
  const errs = validateWithLimits(decoded.object, limits, decoded.writtenApiVersion);
  if (errs.length > 0) {
    report(errs);
    return;
  }
  const start = locator.locate([]);
  setSource(decoded.object, {
    file: site.file,
    line: start.line,
    column: start.column,
    document: site.document,
    ...(site.item === undefined ? {} : { item: site.item }),
    apiVersion: decoded.writtenApiVersion,
    locate: (path) => locator.locate(path),
  });
  out.objects.push(decoded.object);
}

function parseText(
  text: string,
  file: string,
  opts: LoadOptions,
  limits: ClusterLimits,
): FileResult {
  const out: FileResult = { objects: [], errors: [] };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true });
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, document) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = e.linePos?.[0] ?? { line: 0, col: 0 };
        out.errors.push(new ManifestError(file, p.line, p.col, '', yamlMessage(e.message)));
      }
      return;
    }
    const root = doc.contents as Node | null;
    const at = (node: Node | null): { line: number; col: number } =>
      node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      const p = at(root);
      out.errors.push(new ManifestError(file, p.line, p.col, '', (err as Error).message));
      return;
    }
    if (value === null || value === undefined) return; // empty document, as kubectl skips it
    if (!isPlainObject(value)) {
      const p = at(root);
      const msg = `expected a Kubernetes object (a mapping with apiVersion and kind), got ${typeName(value)}`;
      out.errors.push(new ManifestError(file, p.line, p.col, '', msg));
      return;
    }
    const kind = value['kind'];
    // kind: List (or any *List) carries objects in `items`, as kubectl flattens them.
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value['items'])) {
      value['items'].forEach((item: unknown, i) => {
        const node = nodeAt(root, ['items', i]);
        if (!isPlainObject(item)) {
          const p = at(node);
          const msg = `expected a Kubernetes object (a mapping with apiVersion and kind), got ${typeName(item)}`;
          out.errors.push(new ManifestError(file, p.line, p.col, `items[${i}]`, msg));
          return;
        }
        processObject(item, { file, document, item: i, root: node, lines }, opts, limits, out);
      });
      return;
    }
    processObject(value, { file, document, root, lines }, opts, limits, out);
  });
  return out;
}

function finish(results: FileResult[]): LoadResult {
  const errors = results.flatMap((r) => r.errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, objects: results.flatMap((r) => r.objects) };
}

/** Parse one file's text (`fileName` is only used in errors and source locations). */
export function parseManifestText(
  text: string,
  fileName: string,
  opts: LoadOptions = {},
): LoadResult {
  return finish([parseText(text, fileName, opts, clusterLimits(opts))]);
}

/**
 * The manifest files a path stands for: the file itself, or a directory's
 * *.yaml/*.yml/*.json files in name order (descending into subdirectories, in
 * the same order, only when `recursive`).
 */
export function listManifestFiles(path: string, recursive = false): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const full = join(path, name);
    const st = statSync(full, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) {
      if (recursive) out.push(...listManifestFiles(full, true));
    } else if (MANIFEST_EXTENSIONS.has(extname(name).toLowerCase())) {
      out.push(full);
    }
  }
  return out;
}

/** Load every manifest under `paths` (files, directories, or `-` for stdin) as one set. */
export function loadManifests(paths: readonly string[], opts: LoadOptions = {}): LoadResult {
  const limits = clusterLimits(opts);
  const results: FileResult[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files = path === '-' ? ['-'] : listManifestFiles(path, opts.recursive ?? false);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const msg =
        code === 'ENOENT'
          ? `the path ${JSON.stringify(path)} does not exist`
          : (err as Error).message;
      results.push({ objects: [], errors: [new ManifestError(path, 0, 0, '', msg)] });
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (err) {
        results.push({
          objects: [],
          errors: [new ManifestError(file, 0, 0, '', (err as Error).message)],
        });
        continue;
      }
      results.push(parseText(text, file, opts, limits));
    }
  }
  return finish(results);
}
