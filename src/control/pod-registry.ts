// The Pod REST strategy's graceful deletion: deleting a running pod sets
// metadata.deletionTimestamp to now + grace period (the pod shows Terminating and
// leaves endpoints' ready set) and the kubelet removes it once its containers are gone.
// Unscheduled pods and grace period 0 are removed at once, as the API server does.
import type { Pod } from '../api/types.ts';
import type { VirtualClock } from './clock.ts';
import { SECOND } from './clock.ts';
import { PENDING_STATUS } from './pod-util.ts';
import type { DeleteOptions, Strategy } from './store.ts';

export class PodRegistry implements Strategy<Pod> {
  constructor(
    private readonly clock: VirtualClock,
    private readonly defaultGraceSeconds: number,
  ) {}

  /** The API server ignores a posted status: a new pod starts Pending (PrepareForCreate). */
  prepareCreate(pod: Pod): Pod {
    return { ...pod, status: PENDING_STATUS };
  }

  prepareDelete(pod: Pod, opts: DeleteOptions): Pod | undefined {
    const terminal = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
    const grace =
      opts.gracePeriodSeconds ??
      pod.metadata.deletionGracePeriodSeconds ??
      pod.spec.terminationGracePeriodSeconds ??
      this.defaultGraceSeconds;
    if (!pod.spec.nodeName || terminal || grace <= 0) return undefined;
    const at = this.clock.now() + grace * SECOND;
    const current = pod.metadata.deletionTimestamp;
    // A second delete may only shorten the grace period.
    if (current !== undefined && current <= at) return pod;
    return {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: at, deletionGracePeriodSeconds: grace },
    };
  }
}
