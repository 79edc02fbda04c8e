// Deployment controller: one ReplicaSet per pod template, named
// `<deployment>-<pod-template-hash>`, carrying the hash in its labels, selector and pod
// template. A template change creates (or, on rollback, reuses) the matching
// ReplicaSet at full size and scales the old ones down as new pods become available:
// a rolling update with maxSurge 100% / maxUnavailable 0 (simpler than 25%/25%, and
// never drops below the desired number of available pods). strategy Recreate scales the
// old ones to zero and starts new pods once the old pods are gone.
// Every size change is a ScalingReplicaSet event on the Deployment, worded as current
// Kubernetes words it: "Scaled up replica set <rs> from 0 to 3".
import type { Deployment, ReplicaSet } from '../../api/types.ts';
import { type EventRecorder, EventSource } from '../events.ts';
import type { PodIndex } from '../indexes.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { controllerOf, nsNameKey } from '../objects.ts';
import { POD_TEMPLATE_HASH, podTemplateHash } from '../template-hash.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

const SOURCE_COMPONENT = 'deployment-controller';

/** The ScalingReplicaSet message (sync.go, from→to order since Kubernetes 1.31). */
export function scalingMessage(rs: string, from: number, to: number): string {
  return `Scaled ${from < to ? 'up' : 'down'} replica set ${rs} from ${from} to ${to}`;
}

const revision = (rs: ReplicaSet): number =>
  Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '0') || 0;

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  /** This controller's event broadcaster. */
  private readonly source = new EventSource(SOURCE_COMPONENT);
  private readonly queue = new WorkQueue();
  /** Deployment uid -> names of the ReplicaSets it controls. */
  private readonly owned = new Map<string, Set<string>>();

  constructor(
    private readonly store: Store,
    private readonly pods: PodIndex,
    private readonly events: EventRecorder,
  ) {
    store.watch('Deployment', (ev) => {
      // Our own status writes keep the spec object: nothing to reconcile.
      if (ev.type === 'MODIFIED' && ev.old?.spec === ev.object.spec) return;
      this.queue.add(ev.key);
    });
    // Recreate waits for old pods to be gone: their removal re-checks the Deployment.
    store.watch('Pod', (ev) => {
      const rsRef = ev.type === 'DELETED' ? controllerOf(ev.object) : undefined;
      if (rsRef?.kind !== 'ReplicaSet') return;
      const rs = store.get('ReplicaSet', ev.object.metadata.namespace, rsRef.name);
      const owner = rs === undefined ? undefined : controllerOf(rs);
      if (owner?.kind === 'Deployment') {
        this.queue.add(nsNameKey(ev.object.metadata.namespace, owner.name));
      }
    });
    store.watch('ReplicaSet', (ev) => {
      const owner = controllerOf(ev.object);
      if (owner?.kind !== 'Deployment') return;
      let set = this.owned.get(owner.uid);
      if (set === undefined) this.owned.set(owner.uid, (set = new Set()));
      if (ev.type === 'DELETED') set.delete(ev.object.metadata.name);
      else set.add(ev.object.metadata.name);
      this.queue.add(nsNameKey(ev.object.metadata.namespace, owner.name));
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const d = this.store.get('Deployment', ns, name);
    if (d === undefined || d.metadata.deletionTimestamp !== undefined) return;
    const all = [...(this.owned.get(d.metadata.uid!) ?? [])]
      .map((n) => this.store.get('ReplicaSet', ns, n))
      .filter((rs): rs is ReplicaSet => rs !== undefined)
      .sort(
        (a, b) =>
          a.metadata.creationTimestamp! - b.metadata.creationTimestamp! ||
          (a.metadata.name < b.metadata.name ? -1 : 1),
      );
    const hash = podTemplateHash(d.spec.template);
    const maxRevision = all.reduce((m, rs) => Math.max(m, revision(rs)), 0);
    let current = all.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH] === hash);
    const old = all.filter((rs) => rs !== current);
    // Recreate: the new ReplicaSet grows only once the old ones have no active pods.
    const recreate = d.spec.strategy?.type === 'Recreate';
    let oldPods = 0;
    if (recreate) for (const rs of old) oldPods += this.pods.ownedBy(rs.metadata.uid!).size;
    const desired = recreate && oldPods > 0 ? 0 : d.spec.replicas;
    if (current === undefined) {
      current = this.store.create(this.newReplicaSet(d, hash, maxRevision + 1, desired));
      if (desired > 0) this.scaled(d, current.metadata.name, 0, desired);
    } else {
      const rev = revision(current) < maxRevision ? maxRevision + 1 : revision(current);
      if (current.spec.replicas !== desired || revision(current) !== rev) {
        const from = current.spec.replicas;
        current = this.store.update({
          ...current,
          metadata: {
            ...current.metadata,
            annotations: { ...current.metadata.annotations, [REVISION_ANNOTATION]: String(rev) },
          },
          spec: { ...current.spec, replicas: desired },
        });
        if (from !== desired) this.scaled(d, current.metadata.name, from, desired);
      }
    }
    // Old ReplicaSets keep only what the new one cannot serve yet (newest first).
    let budget = recreate ? 0 : Math.max(0, desired - (current.status?.availableReplicas ?? 0));
    for (const rs of [...old].reverse()) {
      const want = Math.min(rs.spec.replicas, budget);
      budget -= want;
      if (want !== rs.spec.replicas) {
        this.store.update({ ...rs, spec: { ...rs.spec, replicas: want } });
        this.scaled(d, rs.metadata.name, rs.spec.replicas, want);
      }
    }
    this.updateStatus(d, current, all);
  }

  private scaled(d: Deployment, rs: string, from: number, to: number): void {
    this.events.event(this.source, d, 'Normal', 'ScalingReplicaSet', scalingMessage(rs, from, to));
  }

  private newReplicaSet(d: Deployment, hash: string, rev: number, replicas: number): ReplicaSet {
    const labels = { ...d.spec.template.metadata.labels, [POD_TEMPLATE_HASH]: hash };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace!,
        labels,
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas),
          'deployment.kubernetes.io/max-replicas': String(d.spec.replicas * 2),
          [REVISION_ANNOTATION]: String(rev),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid!,
            controller: true,
          },
        ],
      },
      spec: {
        replicas,
        selector: {
          ...d.spec.selector,
          matchLabels: { ...d.spec.selector.matchLabels, [POD_TEMPLATE_HASH]: hash },
        },
        template: {
          ...d.spec.template,
          metadata: { ...d.spec.template.metadata, labels },
        },
      },
    };
  }

  private updateStatus(d: Deployment, current: ReplicaSet, all: ReplicaSet[]): void {
    const sets = all.includes(current) ? all : [...all, current];
    let replicas = 0;
    let ready = 0;
    let available = 0;
    for (const rs of sets) {
      replicas += rs.status?.replicas ?? 0;
      ready += rs.status?.readyReplicas ?? 0;
      available += rs.status?.availableReplicas ?? 0;
    }
    const status: NonNullable<Deployment['status']> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: current.status?.replicas ?? 0,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, d.spec.replicas - available),
    };
    const rev = current.metadata.annotations?.[REVISION_ANNOTATION];
    const annotations =
      rev === undefined || d.metadata.annotations?.[REVISION_ANNOTATION] === rev
        ? d.metadata.annotations
        : { ...d.metadata.annotations, [REVISION_ANNOTATION]: rev };
    const metadata = annotations === undefined ? d.metadata : { ...d.metadata, annotations };
    this.store.update({ ...d, metadata, status });
  }
}
