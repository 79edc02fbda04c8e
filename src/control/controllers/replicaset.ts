// ReplicaSet controller: keeps spec.replicas active pods. A pod being deleted
// (deletionTimestamp set) no longer counts, so killing a pod immediately brings a
// replacement with a new random name `<rs>-<5 chars>` (and, from the kubelet, a new IP):
// the reason Services exist. Scale-down picks victims like controller.ActivePods.
// Events as the pod control records them: SuccessfulCreate "Created pod: <name>",
// SuccessfulDelete "Deleted pod: <name>".
import type { Pod, ReplicaSet } from '../../api/types.ts';
import { type EventRecorder, EventSource } from '../events.ts';
import type { PodIndex } from '../indexes.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { controllerOf, nsNameKey } from '../objects.ts';
import { isPodActive, isPodReady } from '../pod-util.ts';

const SOURCE_COMPONENT = 'replicaset-controller';

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** controller.ActivePods ordering: the pods to delete first sort first. */
export function compareForDeletion(a: Pod, b: Pod): number {
  const assigned = (p: Pod): number => (p.spec.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const pa = PHASE_RANK[a.status.phase] ?? 3;
  const pb = PHASE_RANK[b.status.phase] ?? 3;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ca = a.metadata.creationTimestamp ?? 0;
  const cb = b.metadata.creationTimestamp ?? 0;
  if (ca !== cb) return cb - ca; // newer first
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  /** This controller's event broadcaster. */
  private readonly source = new EventSource(SOURCE_COMPONENT);
  private readonly queue = new WorkQueue();

  constructor(
    private readonly store: Store,
    private readonly pods: PodIndex,
    private readonly events: EventRecorder,
  ) {
    store.watch('ReplicaSet', (ev) => {
      if (ev.type === 'MODIFIED' && ev.old?.spec === ev.object.spec) return;
      this.queue.add(ev.key);
    });
    store.watch('Pod', (ev) => {
      const owner = controllerOf(ev.object);
      if (owner?.kind !== 'ReplicaSet') return;
      const old = ev.old;
      if (
        old !== undefined &&
        isPodActive(old) === isPodActive(ev.object) &&
        isPodReady(old) === isPodReady(ev.object)
      ) {
        return; // nothing the replica count or status depends on
      }
      this.queue.add(nsNameKey(ev.object.metadata.namespace, owner.name));
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private sync(key: string): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const rs = this.store.getByKey('ReplicaSet', key);
    if (rs === undefined) return;
    const active: Pod[] = [];
    for (const podKey of this.pods.ownedBy(rs.metadata.uid!)) {
      const pod = this.pods.get(podKey);
      if (pod !== undefined && isPodActive(pod)) active.push(pod);
    }
    const diff = active.length - rs.spec.replicas;
    let count = active.length;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) {
        const pod = this.store.create(this.newPod(rs));
        this.events.event(
          this.source,
          rs,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${pod.metadata.name}`,
        );
      }
      count -= diff;
    } else if (diff > 0) {
      active.sort(compareForDeletion);
      for (const victim of active.splice(0, diff)) {
        this.store.delete('Pod', ns, victim.metadata.name);
        this.events.event(
          this.source,
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${victim.metadata.name}`,
        );
      }
      count -= diff;
    }
    const ready = active.filter(isPodReady).length;
    const status: NonNullable<ReplicaSet['status']> = {
      replicas: count,
      fullyLabeledReplicas: count,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    this.store.update({ ...rs, status });
  }

  private newPod(rs: ReplicaSet): Pod {
    const t = rs.spec.template;
    const metadata: Pod['metadata'] = {
      name: '',
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace!,
      labels: { ...t.metadata.labels },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.metadata.name,
          uid: rs.metadata.uid!,
          controller: true,
        },
      ],
    };
    if (t.metadata.annotations !== undefined) metadata.annotations = { ...t.metadata.annotations };
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec: t.spec, status: { phase: 'Pending' } };
  }
}
