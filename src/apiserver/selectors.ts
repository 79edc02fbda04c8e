// Label and field selectors of list and watch requests (`-l app=myapp`,
// `--field-selector spec.nodeName=k8s-node01`), with the fields each kind supports.
import type { LabelSelector, KubeObject } from '../api/types.ts';
import { matchesLabelSelector, parseSelector } from '../api/selector.ts';
import { badRequest } from './status.ts';

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** Fields each stored kind can be selected on (metadata.name/namespace work for all). */
const FIELDS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  Node: ['spec.unschedulable'],
  ReplicaSet: ['status.replicas'],
};

export function parseFieldSelector(text: string, kind: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (text.trim() === '') return out;
  const allowed = FIELDS[kind] ?? [];
  for (const part of text.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (m === null) throw badRequest(`invalid field selector: ${JSON.stringify(part)}`);
    const field = m[1]!;
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !allowed.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    out.push({ field, value: m[3]!, negate: m[2] === '!=' });
  }
  return out;
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') {
    const src = (obj as unknown as { source?: { component?: string } }).source;
    return src?.component ?? '';
  }
  let v: unknown = obj;
  for (const k of field.split('.'))
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (v === undefined || v === null)
    return field === 'spec.hostNetwork' || field === 'spec.unschedulable' ? 'false' : '';
  return String(v);
}

export function matchesFields(obj: KubeObject, reqs: readonly FieldRequirement[]): boolean {
  for (const r of reqs) {
    const v =
      r.field === 'metadata.namespace' ? (obj.metadata.namespace ?? '') : fieldValue(obj, r.field);
    if ((v === r.value) === r.negate) return false;
  }
  return true;
}

export interface Selection {
  labels?: LabelSelector;
  fields: FieldRequirement[];
}

export function parseSelection(query: URLSearchParams, kind: string): Selection {
  const sel: Selection = { fields: parseFieldSelector(query.get('fieldSelector') ?? '', kind) };
  const l = query.get('labelSelector');
  if (l !== null && l.trim() !== '') {
    try {
      sel.labels = parseSelector(l);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }
  return sel;
}

export function selects(sel: Selection, obj: KubeObject): boolean {
  if (sel.labels !== undefined && !matchesLabelSelector(sel.labels, obj.metadata.labels))
    return false;
  return sel.fields.length === 0 || matchesFields(obj, sel.fields);
}
