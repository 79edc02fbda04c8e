// The control socket's requests, checked before the daemon acts on them: one JSON object
// per line, at most CONTROL_MAX_BYTES, every field of the type it must have. Anything
// else gets a one-line error reply, never an exception.
import type { Kind } from '../api/types.ts';
import { checkObjectName } from './names.ts';
import type { ShowRequest } from './views.ts';

/** The longest request line the daemon reads (64 KiB; SVCLAB_MAX_CONTROL_BYTES overrides). */
export const CONTROL_MAX_BYTES = envLimit('SVCLAB_MAX_CONTROL_BYTES', 64 << 10);
/** Files one apply or delete request may name. */
export const CONTROL_MAX_FILES = 256;
/** Connections the socket serves at once; more are closed at once. */
export const CONTROL_MAX_CONNECTIONS = 32;
/** A connection idle this long is closed. */
export const CONTROL_IDLE_MS = 30_000;

/** A positive integer from the environment, or the default. */
export function envLimit(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : dflt;
}

export const DELETABLE_KINDS = ['Pod', 'Service', 'Deployment'] as const;

export type LabRequest =
  | { cmd: 'status' }
  | ({ cmd: 'show' } & ShowRequest)
  | { cmd: 'apply'; files: string[] }
  | { cmd: 'delete'; files: string[] }
  | {
      cmd: 'delete-object';
      kind: Kind;
      namespace: string;
      name: string;
      gracePeriodSeconds?: number;
    }
  | { cmd: 'down' };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, k: string, optional: boolean, max = 256): string {
  const v = o[k];
  if (v === undefined && optional) return '';
  if (typeof v !== 'string') throw new TypeError(`${k} must be a string`);
  if (v.length > max) throw new TypeError(`${k} is longer than ${max} characters`);
  return v;
}

/** The request a line holds, or a one-line reason it is refused. */
export function parseRequest(line: string): LabRequest | string {
  if (Buffer.byteLength(line) > CONTROL_MAX_BYTES)
    return `request larger than ${CONTROL_MAX_BYTES} bytes (SVCLAB_MAX_CONTROL_BYTES)`;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return `bad request: not JSON (${(e as Error).message})`;
  }
  if (!isObj(v)) return 'bad request: expected a JSON object with "cmd"';
  try {
    switch (v.cmd) {
      case 'status':
      case 'down':
        return { cmd: v.cmd };
      case 'show': {
        const r: LabRequest = { cmd: 'show', what: str(v, 'what', false, 64) };
        if (v.node !== undefined) r.node = str(v, 'node', false, 253);
        if (v.namespace !== undefined) r.namespace = str(v, 'namespace', false, 63);
        if (v.output !== undefined) r.output = str(v, 'output', false, 4096);
        if (v.allNamespaces !== undefined) {
          if (typeof v.allNamespaces !== 'boolean')
            throw new TypeError('allNamespaces must be a boolean');
          r.allNamespaces = v.allNamespaces;
        }
        return r;
      }
      case 'apply':
      case 'delete': {
        const files = v.files;
        if (!Array.isArray(files) || files.length === 0)
          throw new TypeError('files must be a non-empty list');
        if (files.length > CONTROL_MAX_FILES)
          throw new TypeError(`at most ${CONTROL_MAX_FILES} files`);
        for (const f of files)
          if (typeof f !== 'string' || !f.startsWith('/') || f.length > 4096 || f.includes('\0'))
            throw new TypeError('files must be absolute paths');
        return { cmd: v.cmd, files: files as string[] };
      }
      case 'delete-object': {
        const kind = str(v, 'kind', false, 32);
        if (!(DELETABLE_KINDS as readonly string[]).includes(kind))
          throw new TypeError(`kind must be one of ${DELETABLE_KINDS.join(', ')}`);
        const namespace = str(v, 'namespace', false, 63);
        const name = str(v, 'name', false, 253);
        checkObjectName(namespace, name);
        const r: LabRequest = { cmd: 'delete-object', kind: kind as Kind, namespace, name };
        const g = v.gracePeriodSeconds;
        if (g !== undefined) {
          if (!Number.isSafeInteger(g) || (g as number) < 0)
            throw new TypeError('gracePeriodSeconds must be a non-negative integer');
          r.gracePeriodSeconds = g as number;
        }
        return r;
      }
      default:
        return `bad request: unknown cmd ${JSON.stringify(v.cmd)?.slice(0, 64) ?? 'undefined'}`;
    }
  } catch (e) {
    return `bad request: ${(e as Error).message}`;
  }
}
