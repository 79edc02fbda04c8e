// The scheduler: binds each pending pod to a feasible node (Ready, schedulable, taints
// tolerated, nodeSelector matched) and spreads like the default scheduler's spreading
// scores: fewest pods of the same owner first, then fewest pods overall, ties by node
// order. kubeadm taints the control plane NoSchedule, so by default pods land on the
// workers unless they tolerate the taint (CoreDNS does).
import type { Node, Pod, Taint, Toleration } from '../../api/types.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { controllerOf, objectKey } from '../objects.ts';

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

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly queue = new WorkQueue();
  /** Nodes in the order they joined (current objects, kept from the watch). */
  private readonly nodes: Node[] = [];
  private readonly podsOnNode = new Map<string, number>();
  /** owner uid -> node -> pods. */
  private readonly ownerOnNode = new Map<string, Map<string, number>>();
  /** Feasible nodes per (tolerations, nodeSelector) signature; reset when nodes change. */
  private feasibleCache = new Map<string, { nodes: Node[]; reasons: Map<string, number> }>();

  constructor(private readonly store: Store) {
    store.watch('Node', (ev) => {
      const name = ev.object.metadata.name;
      const i = this.nodes.findIndex((n) => n.metadata.name === name);
      if (ev.type === 'DELETED') this.nodes.splice(i, 1);
      else if (i < 0) this.nodes.push(ev.object);
      else this.nodes[i] = ev.object;
      this.feasibleCache = new Map();
      // A node joining or changing may make pending pods schedulable.
      if (ev.type !== 'DELETED') for (const pod of store.each('Pod')) this.enqueueIfPending(pod);
    });
    store.watch('Pod', (ev) => {
      if (ev.type !== 'ADDED') this.count(ev.old ?? ev.object, -1);
      if (ev.type !== 'DELETED') {
        this.count(ev.object, +1);
        this.enqueueIfPending(ev.object);
      }
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.schedule(key));
  }

  private enqueueIfPending(pod: Pod): void {
    if (!pod.spec.nodeName && pod.metadata.deletionTimestamp === undefined) {
      this.queue.add(objectKey(pod));
    }
  }

  private count(pod: Pod, delta: number): void {
    const node = pod.spec.nodeName;
    if (!node) return;
    this.podsOnNode.set(node, (this.podsOnNode.get(node) ?? 0) + delta);
    const owner = controllerOf(pod);
    if (owner === undefined) return;
    let m = this.ownerOnNode.get(owner.uid);
    if (m === undefined) this.ownerOnNode.set(owner.uid, (m = new Map()));
    const n = (m.get(node) ?? 0) + delta;
    if (n === 0) m.delete(node);
    else m.set(node, n);
    if (m.size === 0) this.ownerOnNode.delete(owner.uid);
  }

  private feasible(pod: Pod): { nodes: Node[]; reasons: Map<string, number> } {
    const t = pod.spec.tolerations;
    const sel = pod.spec.nodeSelector;
    const sig = t === undefined && sel === undefined ? '' : JSON.stringify([t, sel]);
    let hit = this.feasibleCache.get(sig);
    if (hit === undefined) {
      hit = { nodes: [], reasons: new Map() };
      for (const node of this.nodes) {
        const why = nodeFeasible(node, pod);
        if (why === undefined) hit.nodes.push(node);
        else hit.reasons.set(why, (hit.reasons.get(why) ?? 0) + 1);
      }
      this.feasibleCache.set(sig, hit);
    }
    return hit;
  }

  private schedule(key: string): void {
    const slash = key.indexOf('/');
    const pod = this.store.get('Pod', key.slice(0, slash), key.slice(slash + 1));
    if (pod === undefined || pod.spec.nodeName || pod.metadata.deletionTimestamp !== undefined) {
      return;
    }
    const owner = controllerOf(pod);
    const mine = owner === undefined ? undefined : this.ownerOnNode.get(owner.uid);
    let best: string | undefined;
    let bestScore: [number, number] = [Infinity, Infinity];
    const { nodes, reasons } = this.feasible(pod);
    for (const node of nodes) {
      const name = node.metadata.name;
      const score: [number, number] = [mine?.get(name) ?? 0, this.podsOnNode.get(name) ?? 0];
      if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
        best = name;
        bestScore = score;
      }
    }
    const others = (pod.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    if (best === undefined) {
      // Stays Pending with the scheduler's FailedScheduling summary (kubectl describe).
      const detail = [...reasons]
        .map(([why, n]) => `${n} ${why}`)
        .sort()
        .join(', ');
      const message = `0/${this.nodes.length} nodes are available: ${detail}.`;
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
    this.store.update({
      ...pod,
      spec: { ...pod.spec, nodeName: best },
      status: { ...pod.status, conditions: [...others, { type: 'PodScheduled', status: 'True' }] },
    });
  }
}
