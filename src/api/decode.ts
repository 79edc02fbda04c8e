// One raw manifest object → a stored, defaulted KubeObject: resolve kind and
// version, convert old versions, type-check, decode Secret data, default.
// (The API server's decode + conversion + defaulting, before validation.)

import { formatPath, invalid, required } from './errors.ts';
import type { FieldError } from './errors.ts';
import { convertToStored } from './convert.ts';
import { applyDefaults } from './defaults.ts';
import type { DefaultOptions } from './defaults.ts';
import { KINDS, kubeMinor, lookupKind, noMatchMessage, servedRange } from './kinds.ts';
import type { PathAlias } from './positions.ts';
import { decodeSecretData } from './secret-data.ts';
import { checkShape, isPlainObject, shapeOf } from './shape.ts';
import type { KubeObject } from './types.ts';

export type DecodeResult =
  | { ok: true; object: KubeObject; aliases: PathAlias[]; writtenApiVersion: string }
  | { ok: false; errors: FieldError[]; aliases: PathAlias[] };

/** Server-set metadata that means nothing in a manifest (kubectl get -o yaml leaves it in). */
const SYSTEM_META = ['creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * Decode `raw` in place (callers pass a fresh copy). On failure nothing is
 * defaulted; errors are the type errors the API server's decoder would raise.
 */
export function decodeObject(
  raw: Record<string, unknown>,
  opts: DefaultOptions & { kubernetesVersion?: string } = {},
): DecodeResult {
  const apiVersion = raw['apiVersion'];
  const kind = raw['kind'];
  const errors: FieldError[] = [];
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    errors.push(required(['apiVersion']));
  } else if (typeof apiVersion !== 'string') {
    errors.push(invalid(['apiVersion'], apiVersion, 'must be a string'));
  }
  if (kind === undefined || kind === null || kind === '') errors.push(required(['kind']));
  else if (typeof kind !== 'string') errors.push(invalid(['kind'], kind, 'must be a string'));
  if (errors.length > 0 || typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return { ok: false, errors, aliases: [] };
  }
  const info = lookupKind(apiVersion, kind, kubeMinor(opts.kubernetesVersion));
  if (info === undefined) {
    // Point at the version when the kind exists in some other version; say which
    // releases serve it when this one is merely too old or too new.
    const at = KINDS.has(kind) ? 'apiVersion' : 'kind';
    const range =
      lookupKind(apiVersion, kind) === undefined ? undefined : servedRange(kind, apiVersion);
    const hint =
      range === undefined ? '' : ` (${range}; this cluster runs ${opts.kubernetesVersion})`;
    return {
      ok: false,
      errors: [{ path: [at], message: noMatchMessage(apiVersion, kind) + hint }],
      aliases: [],
    };
  }
  const aliases = convertToStored(raw, info, apiVersion);
  checkShape(raw, shapeOf(info.kind), [], errors);
  const meta = raw['metadata'];
  if (isPlainObject(meta)) for (const k of SYSTEM_META) delete meta[k];
  if (info.kind === 'Secret' && errors.length === 0) {
    const decoded = decodeSecretData(raw);
    errors.push(...decoded.errors);
    aliases.push(...decoded.aliases);
  }
  if (errors.length > 0) return { ok: false, errors, aliases };
  aliases.push(...applyDefaults(raw, info.kind, opts));
  return { ok: true, object: raw as unknown as KubeObject, aliases, writtenApiVersion: apiVersion };
}

/**
 * Convert, type-check and default a manifest object (any served apiVersion),
 * returning a new stored object. Throws with the API server's messages if the
 * object cannot be decoded. For code and tests that build objects by hand.
 */
export function defaultObject(raw: object, opts: DefaultOptions = {}): KubeObject {
  const copy = structuredClone(raw) as Record<string, unknown>;
  const r = decodeObject(copy, opts);
  if (!r.ok) {
    const lines = r.errors.map(
      (e) => `${e.path.length > 0 ? `${formatPath(e.path)}: ` : ''}${e.message}`,
    );
    throw new Error(`cannot decode object: ${lines.join('; ')}`);
  }
  return r.object;
}
