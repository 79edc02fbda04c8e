// The scheduler: binds each pending pod to a feasible node (Ready, schedulable, taints
// tolerated, nodeSelector matched) and spreads like the default scheduler's spreading
// scores: fewest pods of the same owner first, then fewest pods overall, ties by node
// order. kubeadm taints the control plane NoSchedule, so by default pods land on the
// workers unless they tolerate the taint (CoreDNS does). Events go through
// events.k8s.io/v1 as kube-scheduler's do: `Scheduled` (action Binding) and
// `FailedScheduling` (action Scheduling), reported by default-scheduler.
import type { Node, Pod, PodCondition, Taint, Toleration } from '../../api/types.ts';
import { type EventRecorder, EventSource } from '../events.ts';
import type { Store, StoreHandle } from '../store.ts';
import { HandleQueue, drainHandles } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { controllerOf } from '../objects.ts';
import { BOUND_STATUS, PENDING_STATUS, SCHEDULED } from '../pod-util.ts';
import { LiteralCopier } from '../shapes.ts';

/** v1helper.TolerationsTolerateTaint for NoSchedule/NoExecute taints. */
export function tolerates(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  for (const t of tolerations ?? []) {
    if (t.effect !== undefined && t.effect !== taint.effect) continue;
    if (t.key === undefined || t.key === '') {
      if (t.operator === 'Exists') return true; // empty key + Exists tolerates everything
      continue;
    }
    if (t.key !== taint.key) continue;
    if (t.operator === 'Exists') return true;
    if ((t.value ?? '') === (taint.value ?? '')) return true;
  }
  return false;
}

export function nodeFeasible(node: Node, pod: Pod): string | undefined {
  if (!node.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
    return 'node(s) were not ready';
  }
  if (node.spec.unschedulable) return 'node(s) were unschedulable';
  for (const taint of node.spec.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerates(pod.spec.tolerations, taint)) {
      return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
    }
  }
  const sel = pod.spec.nodeSelector;
  for (const k in sel) {
    if (node.metadata.labels?.[k] !== sel[k])
      return "node(s) didn't match Pod's node affinity/selector";
  }
  return undefined;
}

const NO_CONDITIONS: readonly PodCondition[] = Object.freeze([]);

/** The scheduler's name, and its events' reporting controller. */
export const SCHEDULER = 'default-scheduler';

/** The binding: `{ ...spec, nodeName }` as one literal (see shapes.ts). */
const WITH_NODE_NAME = new LiteralCopier(['nodeName']);

interface Feasible {
  /** Slot indexes of the feasible nodes, in join order. */
  slots: number[];
  reasons: Map<string, number>;
}

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly queue: HandleQueue<Pod>;
  /** Node slots in join order (a deleted node's slot stays, marked undefined). */
  private readonly nodes: (Node | undefined)[] = [];
  private readonly slotOf = new Map<string, number>();
  /** Pods per node slot, all owners together and per owner uid. */
  private readonly podsOnNode: number[] = [];
  private readonly ownerOnNode = new Map<string, number[]>();
  /** Feasible nodes per (tolerations, nodeSelector) signature; reset when nodes change. */
  private feasibleCache = new Map<string, Feasible>();

  /** Its events.k8s.io/v1 broadcaster. */
  private readonly source: EventSource;

  /**
   * `instance` is its events' reporting instance, `default-scheduler-<host>` (the
   * control-plane node the scheduler runs on).
   */
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    instance: string,
  ) {
    this.source = new EventSource(SCHEDULER, instance);
    this.queue = new HandleQueue(store);
    store.watch('Node', (ev) => {
      const name = ev.object.metadata.name;
      let slot = this.slotOf.get(name);
      if (slot === undefined) {
        slot = this.nodes.length;
        this.slotOf.set(name, slot);
        this.podsOnNode.push(0);
      }
      this.nodes[slot] = ev.type === 'DELETED' ? undefined : ev.object;
      this.feasibleCache = new Map();
      // A node joining or changing may make pending pods schedulable.
      if (ev.type !== 'DELETED') {
        for (const h of store.eachHandle('Pod')) this.enqueueIfPending(h.obj, h);
      }
    });
    store.watch('Pod', (ev) => {
      const old = ev.old;
      const pod = ev.object;
      // Same node and owners (status writes): the -1 and +1 would cancel out.
      const moved =
        old === undefined ||
        old.spec.nodeName !== pod.spec.nodeName ||
        old.metadata.ownerReferences !== pod.metadata.ownerReferences;
      if (ev.type !== 'ADDED' && moved) this.count(old ?? pod, -1);
      if (ev.type !== 'DELETED') {
        if (moved) this.count(pod, +1);
        // A status-only update (its own FailedScheduling condition) is no reason to try
        // again, as in kube-scheduler's queue; node changes are.
        if (old === undefined || old.spec !== pod.spec) this.enqueueIfPending(ev.object, ev.handle);
      }
    });
  }

  drain(): boolean {
    return drainHandles(this.queue, (h) => this.schedule(h));
  }

  private enqueueIfPending(pod: Pod, h: StoreHandle<Pod>): void {
    if (!pod.spec.nodeName && pod.metadata.deletionTimestamp === undefined) {
      this.queue.add(h);
    }
  }

  private count(pod: Pod, delta: number): void {
    const node = pod.spec.nodeName;
    const slot = node ? this.slotOf.get(node) : undefined;
    if (slot === undefined) return;
    this.podsOnNode[slot]! += delta;
    const owner = controllerOf(pod);
    if (owner === undefined) return;
    let counts = this.ownerOnNode.get(owner.uid);
    if (counts === undefined) this.ownerOnNode.set(owner.uid, (counts = []));
    counts[slot] = (counts[slot] ?? 0) + delta;
    if (delta < 0 && counts.every((n) => !n)) this.ownerOnNode.delete(owner.uid);
  }

  private feasible(pod: Pod): Feasible {
    const t = pod.spec.tolerations;
    const sel = pod.spec.nodeSelector;
    const sig = t === undefined && sel === undefined ? '' : JSON.stringify([t, sel]);
    let hit = this.feasibleCache.get(sig);
    if (hit === undefined) {
      hit = { slots: [], reasons: new Map() };
      this.nodes.forEach((node, slot) => {
        if (node === undefined) return;
        const why = nodeFeasible(node, pod);
        if (why === undefined) hit!.slots.push(slot);
        else hit!.reasons.set(why, (hit!.reasons.get(why) ?? 0) + 1);
      });
      this.feasibleCache.set(sig, hit);
    }
    return hit;
  }

  private schedule(h: StoreHandle<Pod>): void {
    // A handle names its object; a dead one's key may belong to a successor by now.
    const pod = h.live ? h.obj : this.store.getByKey('Pod', h.key);
    if (pod === undefined || pod.spec.nodeName || pod.metadata.deletionTimestamp !== undefined) {
      return;
    }
    const owner = controllerOf(pod);
    const mine = owner === undefined ? undefined : this.ownerOnNode.get(owner.uid);
    const { slots, reasons } = this.feasible(pod);
    // Lexicographic (pods of this owner, pods overall), first slot wins ties.
    let best = -1;
    let bestOwn = Infinity;
    let bestAll = Infinity;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const own = mine?.[slot] ?? 0;
      const all = this.podsOnNode[slot]!;
      if (own < bestOwn || (own === bestOwn && all < bestAll)) {
        best = slot;
        bestOwn = own;
        bestAll = all;
      }
    }
    const conditions = pod.status.conditions;
    const others =
      conditions === undefined || conditions.length === 0
        ? NO_CONDITIONS
        : conditions.filter((c) => c.type !== 'PodScheduled');
    if (best < 0) {
      // Stays Pending with the scheduler's FailedScheduling summary (kubectl describe).
      const detail = [...reasons]
        .map(([why, n]) => `${n} ${why}`)
        .sort()
        .join(', ');
      const total = this.nodes.filter((n) => n !== undefined).length;
      const message = `0/${total} nodes are available: ${detail}.`;
      this.events.eventV1(this.source, pod, 'Warning', 'FailedScheduling', 'Scheduling', message);
      this.store.update({
        ...pod,
        status: {
          ...pod.status,
          conditions: [
            ...others,
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message },
          ],
        },
      });
      return;
    }
    // The usual new pod: the shared bound status (the same fields the spread would give).
    const status: Pod['status'] =
      pod.status === PENDING_STATUS
        ? BOUND_STATUS
        : {
            ...pod.status,
            conditions:
              others.length === 0
                ? (SCHEDULED as PodCondition[])
                : [...others, { type: 'PodScheduled', status: 'True' }],
          };
    const node = this.nodes[best]!.metadata.name;
    const spec = WITH_NODE_NAME.copy(pod.spec, [node]);
    this.store.update({ ...pod, spec, status }, h);
    if (!this.events.accepting(this.source)) return;
    const m = pod.metadata;
    this.events.eventV1(
      this.source,
      pod,
      'Normal',
      'Scheduled',
      'Binding',
      `Successfully assigned ${m.namespace ?? ''}/${m.name} to ${node}`,
    );
  }
}
