// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for
// (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), built by the same printers
// `svclab get` uses. Wide-only columns get priority 1, so kubectl shows them with -o wide.
import type { Kind, KubeObject } from '../api/types.ts';
import { printerOf } from '../api/kubectl/by-kind.ts';
import { formatTime } from '../api/wire.ts';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Column definitions: every column of the wide view, narrow ones at priority 0. */
export function tableColumns(kind: Kind, minor?: number): TableColumn[] {
  const p = printerOf(kind);
  const narrow = new Set(p.headers(false, minor));
  return p.headers(true, minor).map((h) => ({
    name: h,
    type: 'string',
    // kubectl finds the column to prefix with `kind/` by this format.
    format: h === 'NAME' ? 'name' : '',
    description: '',
    priority: narrow.has(h) ? 0 : 1,
  }));
}

export interface TableOptions {
  now: number;
  epochMs: number;
  include: IncludeObject;
  /** The server's minor release (its printers' columns). */
  minor?: number | undefined;
  /** The object as served, for includeObject=Object. */
  served?: (o: KubeObject) => Record<string, unknown>;
}

function partialMetadata(o: KubeObject, epochMs: number): Record<string, unknown> {
  const m = o.metadata;
  const meta: Record<string, unknown> = { name: m.name };
  if (m.namespace !== undefined) meta['namespace'] = m.namespace;
  if (m.uid !== undefined) meta['uid'] = m.uid;
  if (m.resourceVersion !== undefined) meta['resourceVersion'] = m.resourceVersion;
  if (m.creationTimestamp !== undefined)
    meta['creationTimestamp'] = formatTime(m.creationTimestamp, epochMs);
  if (m.deletionTimestamp !== undefined)
    meta['deletionTimestamp'] = formatTime(m.deletionTimestamp, epochMs);
  if (m.labels !== undefined) meta['labels'] = m.labels;
  if (m.annotations !== undefined) meta['annotations'] = m.annotations;
  if (m.ownerReferences !== undefined) meta['ownerReferences'] = m.ownerReferences;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta };
}

/** A Table of `objs` (all of `kind`); `listMeta` is the list's resourceVersion/continue. */
export function toTable(
  kind: Kind,
  objs: readonly KubeObject[],
  opts: TableOptions,
  listMeta: Record<string, unknown> = {},
): Record<string, unknown> {
  const p = printerOf(kind);
  const ctx = { now: opts.now, wide: true, minor: opts.minor };
  const rows = objs.map((o) => {
    const row: Record<string, unknown> = { cells: p.row(o, ctx) };
    if (opts.include === 'Metadata') row['object'] = partialMetadata(o, opts.epochMs);
    else if (opts.include === 'Object' && opts.served !== undefined) row['object'] = opts.served(o);
    return row;
  });
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
  };
  table['columnDefinitions'] = tableColumns(kind, opts.minor);
  table['rows'] = rows;
  return table;
}

/** Does an Accept header ask for a Table? */
export function wantsTable(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const part of accept.split(',')) {
    const params = part.split(';').map((s) => s.trim());
    if (params.includes('as=Table') && params.includes('g=meta.k8s.io')) return true;
    if (params[0] === 'application/json' && params.length === 1) return false;
  }
  return false;
}
