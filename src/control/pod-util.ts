// Pod predicates shared by controllers (pkg/api/v1/pod).
import type { Pod } from '../api/types.ts';

export function isPodReady(pod: Pod): boolean {
  const c = pod.status.conditions;
  if (c === undefined) return false;
  // Indexed loops over stored (frozen) arrays: for-of allocates an iterator result per step there.
  for (let i = 0; i < c.length; i++) if (c[i]!.type === 'Ready') return c[i]!.status === 'True';
  return false;
}

/** Counted towards replicas: not being deleted and not finished. */
export function isPodActive(pod: Pod): boolean {
  return (
    pod.metadata.deletionTimestamp === undefined &&
    pod.status.phase !== 'Succeeded' &&
    pod.status.phase !== 'Failed'
  );
}
