// The Kubernetes API types as @kubernetes/client-node's generated models describe them:
// per class (V1DeploymentSpec, CoreV1Event ...) its fields from `attributeTypeMap` in the
// .js (JSON name, TypeScript type, OpenAPI format), and from the .d.ts the official
// descriptions (doc comments above the class and above each field) and which fields are
// required (declared without `?`). Both files are read as text: the 2,700 modules are
// never imported, and only the classes asked for are read.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { repoPath } from '../../lab/repo.ts';

export interface ModelField {
  /** The JSON field name (attributeTypeMap's baseName). */
  name: string;
  /** client-node's type: 'string', 'number', 'Array<V1Container>', '{ [key: string]: string; }' ... */
  type: string;
  /** 'int32', 'int64', 'date-time', 'int-or-string', 'byte' ... or ''. */
  format: string;
  description?: string;
  required: boolean;
}

export interface Model {
  className: string;
  description?: string;
  fields: ModelField[];
}

const PACKAGE = '@kubernetes/client-node';

let dir: string | undefined;

/**
 * client-node's dist/gen/models: in svclab's node_modules, else wherever Node resolves the
 * package from svclab's folder (a hoisted install).
 */
export function modelsDir(): string {
  if (dir !== undefined) return dir;
  const local = repoPath('node_modules', ...PACKAGE.split('/'));
  const root = existsSync(join(local, 'package.json'))
    ? local
    : dirname(createRequire(repoPath('package.json')).resolve(`${PACKAGE}/package.json`));
  return (dir = join(root, 'dist', 'gen', 'models'));
}

/** `\'` `\"` `\\` as the generator escapes them in doc comments. */
const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

interface Declared {
  classDescription?: string;
  fields: Map<string, { description?: string; required: boolean }>;
}

/** The .d.ts: doc comments (one line of text each) and `'name'?: type` declarations. */
function scanDeclaration(text: string, className: string): Declared {
  const out: Declared = { fields: new Map() };
  let comment: string[] | undefined;
  let pending: string | undefined;
  let inClass = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '/**') {
      comment = [];
      continue;
    }
    if (comment !== undefined) {
      if (t === '*/') {
        pending = comment.join(' ').trim() || undefined;
        comment = undefined;
      } else comment.push(t.replace(/^\*\s?/, ''));
      continue;
    }
    if (!inClass) {
      if (t.startsWith(`export declare class ${className} `)) {
        if (pending !== undefined) out.classDescription = unescape(pending);
        inClass = true;
      }
      pending = undefined;
      continue;
    }
    const m = /^'([^']+)'(\?)?:/.exec(t);
    if (m !== null) {
      out.fields.set(m[1]!, {
        ...(pending !== undefined ? { description: unescape(pending) } : {}),
        required: m[2] === undefined,
      });
    }
    if (t !== '') pending = undefined;
  }
  return out;
}

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

/** `Class.attributeTypeMap = [ ... ];` of the .js, a JSON array literal. */
function attributes(text: string, className: string): Attribute[] {
  const start = text.indexOf(`${className}.attributeTypeMap = [`);
  if (start < 0) throw new Error(`${className}: no attributeTypeMap`);
  const open = text.indexOf('[', start);
  const close = text.indexOf('\n];', open);
  if (close < 0) throw new Error(`${className}: attributeTypeMap not closed`);
  return JSON.parse(text.slice(open, close + 2)) as Attribute[];
}

/** Whether client-node has a model class of this name. */
export function hasModel(className: string): boolean {
  return /^\w+$/.test(className) && existsSync(join(modelsDir(), `${className}.js`));
}

/** One model class, read from its .js and .d.ts. */
export function readModel(className: string): Model {
  if (!/^\w+$/.test(className)) throw new Error(`not a model class name: ${className}`);
  const base = join(modelsDir(), className);
  const attrs = attributes(readFileSync(`${base}.js`, 'utf8'), className);
  const decl = scanDeclaration(readFileSync(`${base}.d.ts`, 'utf8'), className);
  const fields = attrs.map((a): ModelField => {
    const d = decl.fields.get(a.name);
    return {
      name: a.baseName,
      type: a.type,
      format: a.format,
      ...(d?.description !== undefined ? { description: d.description } : {}),
      required: d?.required ?? false,
    };
  });
  return {
    className,
    ...(decl.classDescription !== undefined ? { description: decl.classDescription } : {}),
    fields,
  };
}

/** A client-node type parsed: a primitive, a model class, an array or a string-keyed map. */
export type TypeExpr =
  | { kind: 'primitive'; name: string }
  | { kind: 'class'; name: string }
  | { kind: 'array'; of: TypeExpr }
  | { kind: 'map'; of: TypeExpr };

const PRIMITIVES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'IntOrString', 'object']);

export function parseType(type: string): TypeExpr {
  const t = type.trim();
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr !== null) return { kind: 'array', of: parseType(arr[1]!) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/.exec(t);
  if (map !== null) return { kind: 'map', of: parseType(map[1]!) };
  if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t };
  return { kind: 'class', name: t };
}

/** The model classes a type names ('Array<V1Container>' → V1Container). */
export function classesIn(t: TypeExpr): string[] {
  if (t.kind === 'class') return [t.name];
  if (t.kind === 'array' || t.kind === 'map') return classesIn(t.of);
  return [];
}
