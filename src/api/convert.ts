// Conversion of older API versions to the stored ones, as the API server does on
// write: extensions/v1beta1 and apps/v1beta1|2 Deployments/ReplicaSets → apps/v1;
// extensions/v1beta1 and networking.k8s.io/v1beta1 Ingresses → networking.k8s.io/v1.
// Each rename is recorded as a path alias so errors still point at what the user wrote.
// Runs before the type check, so it only moves values and never trusts their types.

import { isPlainObject } from './shape.ts';
import type { FieldPath } from './errors.ts';
import type { KindInfo } from './kinds.ts';
import type { PathAlias } from './positions.ts';

type Obj = Record<string, unknown>;

const INT32_MAX = 2147483647;

function child(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  return isPlainObject(v) ? v : undefined;
}

/**
 * The old workload versions' defaulting (extensions/v1beta1 and apps/v1beta1
 * SetDefaults_Deployment): a missing selector, and missing object labels, come
 * from the template labels; the old rollout defaults differ from apps/v1's.
 * apps/v1beta2 already required the selector, so it gets none of this.
 */
function convertOldWorkload(o: Obj, apiVersion: string, aliases: PathAlias[]): void {
  const spec = child(o, 'spec');
  if (spec === undefined) return;
  const templateLabels = child(child(spec, 'template') ?? {}, 'metadata')?.['labels'];
  if (isPlainObject(templateLabels) && apiVersion !== 'apps/v1beta2') {
    if (spec['selector'] === undefined || spec['selector'] === null) {
      spec['selector'] = { matchLabels: { ...templateLabels } };
      aliases.push({ from: ['spec', 'selector'], to: ['spec', 'template', 'metadata', 'labels'] });
    }
    const meta = child(o, 'metadata');
    const own = meta?.['labels'];
    if (meta !== undefined && (!isPlainObject(own) || Object.keys(own).length === 0)) {
      meta['labels'] = { ...templateLabels };
      aliases.push({
        from: ['metadata', 'labels'],
        to: ['spec', 'template', 'metadata', 'labels'],
      });
    }
  }
  if (o['kind'] !== 'Deployment' || apiVersion !== 'extensions/v1beta1') return;
  spec['revisionHistoryLimit'] ??= INT32_MAX;
  spec['progressDeadlineSeconds'] ??= INT32_MAX;
  if (spec['strategy'] === undefined || spec['strategy'] === null) spec['strategy'] = {};
  const st = child(spec, 'strategy');
  if (st === undefined) return;
  st['type'] ??= 'RollingUpdate';
  if (st['type'] !== 'RollingUpdate') return;
  if (st['rollingUpdate'] === undefined || st['rollingUpdate'] === null) st['rollingUpdate'] = {};
  const ru = child(st, 'rollingUpdate');
  if (ru === undefined) return;
  ru['maxUnavailable'] ??= 1;
  ru['maxSurge'] ??= 1;
}

/** v1beta1 IngressBackend {serviceName, servicePort} → v1 {service: {name, port}}. */
function convertBackend(b: unknown, from: FieldPath, to: FieldPath, aliases: PathAlias[]): void {
  if (!isPlainObject(b)) return;
  if (!('serviceName' in b) && !('servicePort' in b)) return;
  const service: Obj = {};
  if ('serviceName' in b) {
    service['name'] = b['serviceName'];
    aliases.push({ from: [...from, 'service', 'name'], to: [...to, 'serviceName'] });
  }
  if ('servicePort' in b) {
    const p = b['servicePort'];
    // intstr.IntOrString: a JSON string is a port name even when it holds digits.
    service['port'] = typeof p === 'string' ? { name: p } : { number: p };
    aliases.push({ from: [...from, 'service', 'port'], to: [...to, 'servicePort'] });
  }
  delete b['serviceName'];
  delete b['servicePort'];
  b['service'] = service;
}

function convertOldIngress(o: Obj, aliases: PathAlias[]): void {
  const spec = child(o, 'spec');
  if (spec === undefined) return;
  if ('backend' in spec && !('defaultBackend' in spec)) {
    spec['defaultBackend'] = spec['backend'];
    delete spec['backend'];
    aliases.push({ from: ['spec', 'defaultBackend'], to: ['spec', 'backend'] });
    convertBackend(
      spec['defaultBackend'],
      ['spec', 'defaultBackend'],
      ['spec', 'backend'],
      aliases,
    );
  }
  const rules = spec['rules'];
  if (!Array.isArray(rules)) return;
  rules.forEach((rule: unknown, i) => {
    const paths = isPlainObject(rule) ? child(rule, 'http')?.['paths'] : undefined;
    if (!Array.isArray(paths)) return;
    paths.forEach((p: unknown, j) => {
      if (!isPlainObject(p)) return;
      // v1beta1 defaulted pathType; v1 requires it.
      if (p['pathType'] === undefined || p['pathType'] === null) {
        p['pathType'] = 'ImplementationSpecific';
      }
      const at = ['spec', 'rules', i, 'http', 'paths', j, 'backend'];
      convertBackend(p['backend'], at, at, aliases);
    });
  });
}

/**
 * Convert `o` (written as `apiVersion`) in place to `info.storedVersion`.
 * Returns the renamed paths (stored path → written path).
 */
export function convertToStored(o: Obj, info: KindInfo, apiVersion: string): PathAlias[] {
  const aliases: PathAlias[] = [];
  if (apiVersion === info.storedVersion) return aliases;
  if (info.kind === 'Deployment' || info.kind === 'ReplicaSet') {
    convertOldWorkload(o, apiVersion, aliases);
  }
  if (info.kind === 'Ingress') convertOldIngress(o, aliases);
  o['apiVersion'] = info.storedVersion;
  return aliases;
}
