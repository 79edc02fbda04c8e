// Pod predicates shared by controllers (pkg/api/v1/pod).
import type { Pod, PodCondition } from '../api/types.ts';

/**
 * The status of every new pod (the API server drops a posted one) and of every pod just
 * bound with no other condition: frozen and shared, one object instead of one per pod.
 */
export const PENDING_STATUS: Pod['status'] = Object.freeze({ phase: 'Pending' });
/** The conditions of a freshly bound pod, shared (stored objects are frozen anyway). */
export const SCHEDULED: readonly PodCondition[] = Object.freeze([
  Object.freeze({ type: 'PodScheduled', status: 'True' }),
]);
export const BOUND_STATUS: Pod['status'] = Object.freeze({
  phase: 'Pending',
  conditions: SCHEDULED as PodCondition[],
});

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
