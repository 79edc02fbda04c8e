// The kubelets of all nodes, collapsed into one controller. For a pod bound to its node:
// the CNI (host-local IPAM on the node's pod CIDR) gives it an address, containers start
// after `startDelay` (phase Running, podIP published) and it turns Ready after
// `readyDelay` (a readiness probe's initial delay) unless readiness was set by hand.
// A pod marked for deletion keeps running (and serving) until its deletionTimestamp,
// then is removed and its address freed.
import type { Node, Pod, PodCondition } from '../../api/types.ts';
import type { TimerHandle, VirtualClock } from '../clock.ts';
import { HostLocalIpam } from '../ipam.ts';
import type { Store, StoreHandle } from '../store.ts';
import { HandleQueue, drainHandles } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { deepFreeze, objectKey } from '../objects.ts';
import { LiteralCopier } from '../shapes.ts';

export interface KubeletTiming {
  startDelayNs: number;
  readyDelayNs: number;
}

interface PodRecord {
  uid: string;
  node: string;
  /** The pod's address ('' until the CNI gave one). */
  ip: string;
  /** The address came from the node's IPAM (not hostNetwork) and goes back there. */
  pooled: boolean;
  timer: TimerHandle | undefined;
  removing: boolean;
}

/** Every field in one literal: added later, a field would go to a separate PropertyArray. */
function podRecord(
  uid: string,
  node: string,
  ip: string,
  pooled: boolean,
  removing: boolean,
): PodRecord {
  return { uid, node, ip, pooled, timer: undefined, removing };
}

/** A running pod's status: `{ ...status, phase, hostIP, podIP, startTime, conditions }`. */
const RUNNING_STATUS = new LiteralCopier(['phase', 'hostIP', 'podIP', 'startTime', 'conditions']);

interface NodeRecord {
  ip: string;
  ipam?: HostLocalIpam;
}

function makeConditions(ready: boolean): PodCondition[] {
  const r = ready ? 'True' : 'False';
  return deepFreeze([
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: r },
    { type: 'ContainersReady', status: r },
    { type: 'PodScheduled', status: 'True' },
  ]);
}

// Shared, frozen: every running pod points at one of these two arrays.
const READY = makeConditions(true);
const NOT_READY = makeConditions(false);
const conditions = (ready: boolean): PodCondition[] => (ready ? READY : NOT_READY);

export class Kubelet implements Controller {
  readonly name = 'kubelet';
  private readonly queue: HandleQueue<Pod>;
  private readonly pods = new Map<string, PodRecord>();
  private readonly nodes = new Map<string, NodeRecord>();
  /** Readiness forced by setPodReady (a probe result), by pod key. */
  private readonly forced = new Map<string, boolean>();
  /** The pod this kubelet is writing (its own event needs no resync). */
  private writing: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: VirtualClock,
    private readonly timing: KubeletTiming,
  ) {
    this.queue = new HandleQueue(store);
    store.watch('Node', (ev) => this.onNode(ev.type, ev.object));
    store.watch('Pod', (ev) => {
      const key = ev.key;
      if (ev.type === 'DELETED') this.forget(key, ev.object.metadata.uid!);
      else if (!ev.object.spec.nodeName || key === this.writing) return;
      // Just bound: no record of this pod can exist yet (needsSync would say so).
      else if (ev.old?.spec.nodeName === undefined || ev.old.spec.nodeName === '') {
        this.queue.add(ev.handle);
      } else if (this.needsSync(key, ev.object)) this.queue.add(ev.handle);
    });
  }

  drain(): boolean {
    return drainHandles(this.queue, (h) => this.sync(h));
  }

  /** Force a pod's readiness (true/false), like a readiness probe starting to pass/fail. */
  setReady(namespace: string, name: string, ready: boolean): Pod {
    const pod = this.store.get('Pod', namespace, name);
    if (pod === undefined) throw new Error(`pod ${namespace}/${name} not found`);
    this.forced.set(objectKey(pod), ready);
    if (pod.status.phase !== 'Running') return pod;
    return this.store.update({ ...pod, status: { ...pod.status, conditions: conditions(ready) } });
  }

  /** The address a pod was given (also before it is published in status). */
  addressOf(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.ip || undefined;
  }

  /** Only new pods on a node and newly deleted pods need the kubelet's attention. */
  private needsSync(key: string, pod: Pod): boolean {
    const rec = this.pods.get(key);
    if (rec === undefined || rec.uid !== pod.metadata.uid) return true;
    return pod.metadata.deletionTimestamp !== undefined && !rec.removing;
  }

  private onNode(type: string, node: Node): void {
    const name = node.metadata.name;
    if (type === 'DELETED') {
      this.nodes.delete(name);
      return;
    }
    if (this.nodes.has(name)) return;
    const ip = node.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
    const rec: NodeRecord = { ip };
    if (node.spec.podCIDR !== undefined) rec.ipam = new HostLocalIpam(node.spec.podCIDR);
    this.nodes.set(name, rec);
  }

  private sync(h: StoreHandle<Pod>): void {
    const key = h.key;
    const pod = h.live ? h.obj : this.store.getByKey('Pod', key);
    if (pod === undefined || !pod.spec.nodeName) return;
    let rec = this.pods.get(key);
    if (rec !== undefined && rec.uid !== pod.metadata.uid) {
      this.forget(key, rec.uid);
      rec = undefined;
    }
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (rec?.removing) return;
      if (rec === undefined) {
        this.pods.set(
          key,
          (rec = podRecord(pod.metadata.uid!, pod.spec.nodeName, '', false, true)),
        );
      }
      rec.removing = true;
      this.clock.cancel(rec.timer);
      const uid = pod.metadata.uid!;
      rec.timer = this.clock.schedule(pod.metadata.deletionTimestamp, () => this.remove(key, uid));
      return;
    }
    if (rec !== undefined || pod.status.phase !== 'Pending') return;
    const node = this.nodes.get(pod.spec.nodeName);
    if (node === undefined) return;
    const pooled = pod.spec.hostNetwork !== true;
    const ip = pooled ? node.ipam?.allocate() : node.ip;
    // No address left: the sandbox cannot be created and the pod stays ContainerCreating.
    if (ip === undefined) return;
    rec = podRecord(pod.metadata.uid!, pod.spec.nodeName, ip, pooled, false);
    this.pods.set(key, rec);
    const uid = rec.uid;
    // No start delay: start within this reconcile (same instant, one write fewer to react to).
    if (this.timing.startDelayNs <= 0) this.run(key, rec, pod, h);
    else rec.timer = this.clock.after(this.timing.startDelayNs, () => this.start(key, uid));
  }

  private start(key: string, uid: string): void {
    const rec = this.pods.get(key);
    const pod = this.current(key, uid);
    if (rec === undefined || pod === undefined || pod.metadata.deletionTimestamp !== undefined) {
      return;
    }
    this.run(key, rec, pod);
  }

  /** Containers up: Running with its IP (and Ready unless a readiness delay applies). */
  private run(key: string, rec: PodRecord, pod: Pod, h?: StoreHandle<Pod>): void {
    const uid = rec.uid;
    const node = this.nodes.get(rec.node);
    const forced = this.forced.size === 0 ? undefined : this.forced.get(key);
    const ready = forced ?? this.timing.readyDelayNs <= 0;
    const status: Pod['status'] = RUNNING_STATUS.copy(pod.status, [
      'Running',
      node?.ip ?? '',
      rec.ip,
      this.clock.now(),
      conditions(ready),
    ]);
    this.writing = key;
    try {
      this.store.update({ ...pod, status }, h);
    } finally {
      this.writing = undefined;
    }
    if (forced === undefined && !ready) {
      rec.timer = this.clock.after(this.timing.readyDelayNs, () => this.becomeReady(key, uid));
    } else {
      rec.timer = undefined;
    }
  }

  private becomeReady(key: string, uid: string): void {
    const pod = this.current(key, uid);
    if (pod === undefined || this.forced.has(key) || pod.metadata.deletionTimestamp !== undefined) {
      return;
    }
    this.store.update({ ...pod, status: { ...pod.status, conditions: conditions(true) } });
  }

  private remove(key: string, uid: string): void {
    const pod = this.current(key, uid);
    if (pod !== undefined)
      this.store.delete('Pod', pod.metadata.namespace, pod.metadata.name, {
        gracePeriodSeconds: 0,
      });
  }

  private current(key: string, uid: string): Pod | undefined {
    const pod = this.store.getByKey('Pod', key);
    return pod?.metadata.uid === uid ? pod : undefined;
  }

  private forget(key: string, uid: string): void {
    const rec = this.pods.get(key);
    if (rec === undefined || rec.uid !== uid) return;
    this.clock.cancel(rec.timer);
    if (rec.pooled && rec.ip !== '') this.nodes.get(rec.node)?.ipam?.release(rec.ip);
    this.pods.delete(key);
    this.forced.delete(key);
  }
}
