// Loading manifests as `kubectl apply -f` reads them: files, directories
// (*.yaml, *.yml, *.json, sorted; recursive only when asked, like -R), `-` for
// stdin, multi-document YAML, JSON, and `kind: List`. Every object is converted,
// defaulted and validated; every problem is reported with file:line:column.
//
// Bounded: a file must be a regular file (or `-`, read up to the limit), at most
// MANIFEST_MAX_BYTES (8 MiB; SVCLAB_MAX_MANIFEST_BYTES or `maxBytes` override), a walk
// takes at most MANIFEST_MAX_FILES files, and nesting deeper than MANIFEST_MAX_DEPTH is
// refused before the parser recurses into it. Each limit's error names it.
//
// All or nothing: if any object in the set is invalid (or any file unreadable),
// the result is `{ ok: false, errors }` with every error found and no objects,
// so a caller never applies half a set.

import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  statSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { extname, join } from 'node:path';
import { LineCounter, isAlias, isCollection, parseAllDocuments } from 'yaml';
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

/** The largest manifest file read: 8 MiB, or SVCLAB_MAX_MANIFEST_BYTES. */
export function manifestMaxBytes(): number {
  const n = Number(process.env.SVCLAB_MAX_MANIFEST_BYTES);
  return Number.isSafeInteger(n) && n > 0 ? n : 8 << 20;
}
/** Files one load reads at most (a directory walk included). */
export const MANIFEST_MAX_FILES = 10_000;
/** Collections nested deeper than this are refused (Kubernetes objects nest ~15 deep). */
export const MANIFEST_MAX_DEPTH = 200;

export interface LoadLimits {
  /** Bytes per file (default manifestMaxBytes()). */
  maxBytes?: number;
}

/** A file that is not read: what it is instead of a regular file. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

export class InputError extends Error {}

/**
 * A file's bytes, read only when it is a regular file of at most `max` bytes (`-`: stdin,
 * whatever it is, read up to `max`). Throws InputError with the reason otherwise.
 */
export function readBoundedBytes(file: string, max: number, what = 'manifest'): Buffer {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (fstat then refuses it); a
  // regular file reads the same either way.
  const fd = file === '-' ? 0 : openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (file !== '-' && !st.isFile())
      throw new InputError(`not a regular file (${fileKind(st)}): refused`);
    if (st.isFile() && st.size > max)
      throw new InputError(
        `${st.size} bytes is larger than the ${what} limit of ${max} bytes (SVCLAB_MAX_MANIFEST_BYTES)`,
      );
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(64 << 10);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > max)
        throw new InputError(
          `larger than the ${what} limit of ${max} bytes (SVCLAB_MAX_MANIFEST_BYTES)`,
        );
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** readBoundedBytes as UTF-8 text. */
export function readBounded(file: string, max: number, what = 'manifest'): string {
  return readBoundedBytes(file, max, what).toString('utf8');
}

/**
 * How deep `[` and `{` nest in `text` outside quotes and comments, stopping once past
 * `limit`: flow collections are where a small file nests deepest (JSON always is one).
 */
export function flowDepth(text: string, limit: number): { depth: number; at: number } {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote starts a string only where YAML allows one (after space or an indicator).
      const prev = i === 0 ? ' ' : text[i - 1]!;
      if (/[\s[{,:]/.test(prev)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (c === '[' || c === '{') {
      if (++depth > max) {
        max = depth;
        if (max > limit) return { depth: max, at: i };
      }
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return { depth: max, at: -1 };
}

/**
 * How deep a parsed node tree nests (iteratively: no recursion to overflow), and the
 * first mapping key that is itself a collection (`? [a]: b`), which no Kubernetes object
 * has and JSON cannot hold.
 */
function nodeShape(root: unknown, limit: number): { depth: number; collectionKey?: Node } {
  const stack: Array<[unknown, number]> = [[root, 0]];
  let max = 0;
  while (stack.length > 0) {
    const [n, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return { depth: max };
    const items = (n as { items?: unknown[] } | null)?.items;
    if (!Array.isArray(items)) continue;
    for (const it of items) {
      const pair = it as { key?: unknown; value?: unknown };
      if (pair !== null && typeof pair === 'object' && ('value' in pair || 'key' in pair)) {
        stack.push([pair.value, d + 1]);
        // A collection as a key, or an alias (which may stand for one): JSON has neither.
        const key = pair.key;
        if (isCollection(key) || isAlias(key)) return { depth: max, collectionKey: key as Node };
      } else stack.push([it, d + 1]);
    }
  }
  return { depth: max };
}

const tooDeep = (): string =>
  `nesting deeper than ${MANIFEST_MAX_DEPTH} levels: refused (Kubernetes objects nest far less)`;

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
  const flow = flowDepth(text, MANIFEST_MAX_DEPTH);
  if (flow.depth > MANIFEST_MAX_DEPTH) {
    const before = text.slice(0, flow.at);
    const line = before.split('\n').length;
    const col = flow.at - before.lastIndexOf('\n');
    out.errors.push(new ManifestError(file, line, col, '', tooDeep()));
    return out;
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { lineCounter: lines, merge: true });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    out.errors.push(new ManifestError(file, 1, 1, '', tooDeep()));
    return out;
  }
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, document) => {
    if (doc.errors.some((e) => /call stack/.test(e.message))) {
      out.errors.push(new ManifestError(file, 1, 1, '', tooDeep()));
      return;
    }
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = e.linePos?.[0] ?? { line: 0, col: 0 };
        out.errors.push(new ManifestError(file, p.line, p.col, '', yamlMessage(e.message)));
      }
      return;
    }
    const root = doc.contents as Node | null;
    const shape = nodeShape(root, MANIFEST_MAX_DEPTH);
    if (shape.depth > MANIFEST_MAX_DEPTH) {
      out.errors.push(new ManifestError(file, 1, 1, '', tooDeep()));
      return;
    }
    const at = (node: Node | null): { line: number; col: number } =>
      node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    if (shape.collectionKey !== undefined) {
      const p = at(shape.collectionKey);
      out.errors.push(
        new ManifestError(
          file,
          p.line,
          p.col,
          '',
          'a mapping key must be a plain string, not a collection or an alias',
        ),
      );
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      const p = at(root);
      const msg = err instanceof RangeError ? tooDeep() : (err as Error).message.split('\n')[0]!;
      out.errors.push(new ManifestError(file, p.line, p.col, '', msg));
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
  const walk = (dir: string, depth: number): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (st.isDirectory()) {
        if (recursive && depth < 64) walk(full, depth + 1);
      } else if (st.isFile() && MANIFEST_EXTENSIONS.has(extname(name).toLowerCase())) {
        // Only regular files: a FIFO or device named x.yaml in a directory is skipped.
        out.push(full);
        if (out.length > MANIFEST_MAX_FILES)
          throw new InputError(`more than ${MANIFEST_MAX_FILES} manifest files: refused`);
      }
    }
  };
  walk(path, 0);
  return out;
}

/** Load every manifest under `paths` (files, directories, or `-` for stdin) as one set. */
export function loadManifests(
  paths: readonly string[],
  opts: LoadOptions & LoadLimits = {},
): LoadResult {
  const limits = clusterLimits(opts);
  const maxBytes = opts.maxBytes ?? manifestMaxBytes();
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
          : (err as Error).message.split('\n')[0]!;
      results.push({ objects: [], errors: [new ManifestError(path, 0, 0, '', msg)] });
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = readBounded(file, maxBytes);
      } catch (err) {
        results.push({
          objects: [],
          errors: [new ManifestError(file, 0, 0, '', (err as Error).message.split('\n')[0]!)],
        });
        continue;
      }
      results.push(parseText(text, file, opts, limits));
    }
  }
  return finish(results);
}
