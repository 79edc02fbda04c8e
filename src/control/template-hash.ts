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

/** The pod-template-hash of a Deployment's template (without its own hash label). */
export function podTemplateHash(template: PodTemplateSpec, collisionCount = 0): string {
  const labels = { ...template.metadata.labels };
  delete labels[POD_TEMPLATE_HASH];
  const canonical = canonicalJson({ ...template, metadata: { ...template.metadata, labels } });
  const salt = collisionCount > 0 ? String(collisionCount) : '';
  return safeEncodeString(String(fnv32a(canonical + salt)));
}
