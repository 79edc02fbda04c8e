// pod-template-hash (pkg/controller/controller_utils.go ComputeHash): fnv32a over the
// pod template, then rand.SafeEncodeString of the decimal hash, mapping each digit to
// the safe alphabet. Hence real hashes only use the characters 4-9, b, c, d, f
// (e.g. `5cbd8d8cc4` is 1768484770). Kubernetes hashes Go's spew dump of the template;
// svclab hashes its canonical JSON, so values are deterministic but not Kubernetes' own.
import type { PodTemplateSpec } from '../api/types.ts';
import { SAFE_ALPHABET } from './rng.ts';
import { canonicalJson, fnv32a } from './objects.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** rand.SafeEncodeString: each byte b becomes alphanums[b % len(alphanums)]. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/**
 * The template as Go's hash sees it: a null, an empty object and an empty list are the
 * zero value, the same as an absent field. (kubectl rollout undo sends the old template
 * through Go structs, so it carries `creationTimestamp: null` and `resources: {}`; the
 * hash must still name the old ReplicaSet.)
 */
function zeroless(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(zeroless);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const z = zeroless(x);
    if (z === null || z === undefined) continue;
    if (Array.isArray(z) && z.length === 0) continue;
    if (typeof z === 'object' && !Array.isArray(z) && Object.keys(z).length === 0) continue;
    out[k] = z;
  }
  return out;
}

/** The pod-template-hash of a Deployment's template (without its own hash label). */
export function podTemplateHash(template: PodTemplateSpec, collisionCount = 0): string {
  const labels = { ...template.metadata.labels };
  delete labels[POD_TEMPLATE_HASH];
  const canonical = canonicalJson(
    zeroless({ ...template, metadata: { ...template.metadata, labels } }),
  );
  const salt = collisionCount > 0 ? String(collisionCount) : '';
  return safeEncodeString(String(fnv32a(canonical + salt)));
}
