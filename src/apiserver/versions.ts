// Stored objects as a served group version returns them, and request bodies back to
// stored objects. Writes go through the manifest decoder (src/api: conversion from old
// versions, defaulting, validation), so a body and a `-f` file are checked alike.
import { decodeObject } from '../api/decode.ts';
import { formatPath } from '../api/errors.ts';
import type { FieldError } from '../api/errors.ts';
import type { ClusterLimits } from '../api/options.ts';
import type { KubeObject } from '../api/types.ts';
import { validateWithLimits } from '../api/validate.ts';
import { toApiObject } from '../api/wire.ts';
import { toExtensionsIngress } from '../api/old-shapes.ts';
import { HttpStatusError } from './status.ts';
import { type ServedResource, groupVersion } from './resources.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** core/v1 Event → events.k8s.io/v1 Event (the field renames of the newer API). */
function toNewEvent(o: Obj): Obj {
  const out: Obj = { apiVersion: o['apiVersion'], kind: 'Event', metadata: o['metadata'] };
  const rename: [string, string][] = [
    ['involvedObject', 'regarding'],
    ['message', 'note'],
    ['count', 'deprecatedCount'],
    ['firstTimestamp', 'deprecatedFirstTimestamp'],
    ['lastTimestamp', 'deprecatedLastTimestamp'],
    ['source', 'deprecatedSource'],
  ];
  for (const [from, to] of rename) if (o[from] !== undefined) out[to] = o[from];
  for (const k of [
    'reason',
    'type',
    'action',
    'related',
    'reportingController',
    'reportingInstance',
    'eventTime',
    'series',
  ]) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  if (o['reportingComponent'] !== undefined) out['reportingController'] = o['reportingComponent'];
  out['eventTime'] ??= null;
  return out;
}

/** The object as `res`'s group version serves it (times RFC 3339, Secret data base64). */
export function toServed(obj: KubeObject, res: ServedResource, epochMs: number): Obj {
  let o = toApiObject(obj, epochMs);
  o['apiVersion'] = groupVersion(res.group, res.version);
  o['kind'] = res.kind;
  if (res.group === 'extensions' && res.stored === 'Ingress') toExtensionsIngress(o);
  if (res.group === 'events.k8s.io') o = toNewEvent(o);
  return o;
}

function describeErrors(errors: FieldError[]): string[] {
  return errors.map((e) => (e.path.length > 0 ? `${formatPath(e.path)}: ${e.message}` : e.message));
}

/** The qualified kind in Invalid messages: `Service`, `Deployment.apps`, `Ingress.extensions`. */
export function qualifiedKind(res: ServedResource): string {
  return res.group === '' ? res.kind : `${res.kind}.${res.group}`;
}

/**
 * A request body (already JSON-parsed) for `res` → a stored object, or an HttpStatusError:
 * BadRequest for a body of the wrong kind or type errors, Invalid (422) with field
 * causes for validation failures, as the API server answers.
 */
export function decodeBody(body: unknown, res: ServedResource, limits: ClusterLimits): KubeObject {
  if (!isObj(body))
    throw new HttpStatusError(400, 'BadRequest', 'the body of the request was not a JSON object');
  const gv = groupVersion(res.group, res.version);
  const raw = structuredClone(body);
  raw['apiVersion'] ??= gv;
  raw['kind'] ??= res.kind;
  if (raw['kind'] !== res.kind || raw['apiVersion'] !== gv) {
    throw new HttpStatusError(
      400,
      'BadRequest',
      `the API version in the data (${String(raw['apiVersion'])}) does not match the expected API version (${gv})`,
    );
  }
  const decoded = decodeObject(raw);
  const name = isObj(raw['metadata']) ? String(raw['metadata']['name'] ?? '') : '';
  if (!decoded.ok) {
    const lines = describeErrors(decoded.errors);
    throw new HttpStatusError(
      400,
      'BadRequest',
      `${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: ${lines.join(', ')}`,
    );
  }
  const errs = validateWithLimits(decoded.object, limits, decoded.writtenApiVersion);
  if (errs.length > 0) throw invalidError(res, name, errs);
  return decoded.object;
}

/** `Service "x" is invalid: spec.ports[0].port: ...` (one) or `[a, b]` (several), with causes. */
export function invalidError(
  res: ServedResource,
  name: string,
  errs: FieldError[],
): HttpStatusError {
  const lines = describeErrors(errs);
  const body = lines.length === 1 ? lines[0]! : `[${lines.join(', ')}]`;
  const causes = errs.map((e) => {
    const type = /^([A-Z][A-Za-z ]+?)(?::|$)/.exec(e.message)?.[1] ?? 'FieldValueInvalid';
    return {
      reason: `FieldValue${type.replace(/ value$/, '').replace(/ /g, '')}`,
      message: e.message,
      field: formatPath(e.path),
    };
  });
  return new HttpStatusError(
    422,
    'Invalid',
    `${qualifiedKind(res)} "${name}" is invalid: ${body}`,
    {
      name,
      group: res.group,
      kind: res.kind,
      causes,
    },
  );
}
