// Garbage collector (background cascading deletion): when an owner goes, the objects
// whose ownerReferences point at its uid are deleted too (Deployment -> ReplicaSets ->
// Pods, Service -> EndpointSlices). Deleting a Namespace deletes what lives in it.
import type { Kind, KubeObject } from '../../api/types.ts';
import { CLUSTER_SCOPED } from '../errors.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';

const DEPENDENT_KINDS: readonly Kind[] = ['ReplicaSet', 'Pod', 'EndpointSlice', 'Endpoints'];
const OWNER_KINDS: readonly Kind[] = ['Deployment', 'ReplicaSet', 'Service', 'Endpoints', 'Node'];
const NAMESPACED_KINDS: readonly Kind[] = [
  'Deployment',
  'ReplicaSet',
  'Pod',
  'Service',
  'Endpoints',
  'EndpointSlice',
  'Ingress',
  'Secret',
  'ConfigMap',
  'Event',
];

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue = new WorkQueue();
  /** owner uid -> `Kind/ns/name` of its dependents. */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(private readonly store: Store) {
    for (const kind of DEPENDENT_KINDS) {
      store.watch(kind, (ev) => {
        const refs = ev.object.metadata.ownerReferences;
        if (ev.old?.metadata.ownerReferences === refs) return;
        // Owned by nothing, now and before: nothing to link (most pods of a bare apply).
        if (refs === undefined && ev.old?.metadata.ownerReferences === undefined) return;
        const ref = `${kind}/${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name}`;
        if (ev.old !== undefined) this.unlink(ev.old, ref);
        if (ev.type === 'DELETED') this.unlink(ev.object, ref);
        else this.link(ev.object, ref);
      });
    }
    for (const kind of OWNER_KINDS) {
      store.watch(kind, (ev) => {
        if (ev.type === 'DELETED') this.queue.add(`owner:${ev.object.metadata.uid!}`);
      });
    }
    store.watch('Namespace', (ev) => {
      if (ev.type === 'DELETED') this.queue.add(`ns:${ev.object.metadata.name}`);
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => {
      if (key.startsWith('ns:')) this.purgeNamespace(key.slice(3));
      else this.collect(key.slice(6));
    });
  }

  private link(obj: KubeObject, ref: string): void {
    for (const o of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(o.uid);
      if (set === undefined) this.dependents.set(o.uid, (set = new Set()));
      set.add(ref);
    }
  }

  private unlink(obj: KubeObject, ref: string): void {
    for (const o of obj.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(o.uid);
      set?.delete(ref);
      if (set?.size === 0) this.dependents.delete(o.uid);
    }
  }

  private collect(uid: string): void {
    const refs = [...(this.dependents.get(uid) ?? [])];
    for (const ref of refs) {
      const [kind, ns, name] = ref.split('/') as [Kind, string, string];
      const obj = this.store.get(kind, ns, name);
      // Only when no other owner remains (the GC keeps objects with a live owner).
      const live = (obj?.metadata.ownerReferences ?? []).some(
        (o) => o.uid !== uid && this.ownerExists(o.kind as Kind, ns, o.name, o.uid),
      );
      if (obj !== undefined && !live && obj.metadata.deletionTimestamp === undefined) {
        this.store.delete(kind, ns, name);
      }
    }
  }

  private ownerExists(kind: Kind, ns: string, name: string, uid: string): boolean {
    const owner = CLUSTER_SCOPED.has(kind)
      ? this.store.get(kind, undefined, name)
      : this.store.get(kind, ns, name);
    return owner?.metadata.uid === uid;
  }

  private purgeNamespace(ns: string): void {
    for (const kind of NAMESPACED_KINDS) {
      for (const obj of this.store.list(kind, ns)) {
        if (this.store.get(kind, ns, obj.metadata.name) !== undefined) {
          this.store.delete(kind, ns, obj.metadata.name, { gracePeriodSeconds: 0 });
        }
      }
    }
  }
}
