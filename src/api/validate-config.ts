// Namespaces, Nodes, Secrets and ConfigMaps (pkg/apis/core/validation).

import { invalid, required } from './errors.ts';
import type { FieldError } from './errors.ts';
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isValidCIDR } from './names.ts';
import { validateObjectMeta } from './validate-meta.ts';
import type { ConfigMap, Namespace, Node, Secret } from './types.ts';

/** core.MaxSecretSize: etcd's object limit, shared by ConfigMaps. */
const MAX_SIZE = 1024 * 1024;
const tooLong = `Too long: may not be more than ${MAX_SIZE} bytes`;

export function validateNamespace(ns: Namespace): FieldError[] {
  return validateObjectMeta(ns.metadata, isDNS1123Label, false);
}

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, isDNS1123Subdomain, false);
  const cidrs = node.spec.podCIDRs ?? [];
  cidrs.forEach((c, i) => {
    for (const m of isValidCIDR(c)) errs.push(invalid(['spec', 'podCIDRs', i], c, m));
  });
  if (node.spec.podCIDR !== undefined && node.spec.podCIDR !== '') {
    for (const m of isValidCIDR(node.spec.podCIDR)) {
      errs.push(invalid(['spec', 'podCIDR'], node.spec.podCIDR, m));
    }
  }
  return errs;
}

export function validateSecret(s: Secret): FieldError[] {
  const errs = validateObjectMeta(s.metadata, isDNS1123Subdomain, true);
  let size = 0;
  for (const [k, v] of Object.entries(s.data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(['data', { key: k }], k, m));
    size += v.length;
  }
  if (size > MAX_SIZE) errs.push({ path: ['data'], message: tooLong });
  if (s.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (!(key in s.data)) errs.push(required(['data', { key }]));
    }
  }
  if (s.type === 'kubernetes.io/basic-auth' && !('username' in s.data) && !('password' in s.data)) {
    errs.push(required(['data', { key: 'username' }]));
    errs.push(required(['data', { key: 'password' }]));
  }
  return errs;
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, isDNS1123Subdomain, true);
  const binary = cm.binaryData ?? {};
  let size = 0;
  for (const [k, v] of Object.entries(cm.data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(['data', { key: k }], k, m));
    if (k in binary)
      errs.push(invalid(['data', { key: k }], k, 'duplicate of key present in binaryData'));
    size += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(['binaryData', { key: k }], k, m));
    size += Math.floor((v.length * 3) / 4);
  }
  if (size > MAX_SIZE) errs.push({ path: [], message: tooLong });
  return errs;
}
