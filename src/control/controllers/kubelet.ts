// The kubelets of all nodes, collapsed into one controller. For a pod bound to its node:
// the CNI (host-local IPAM on the node's pod CIDR) gives it an address, containers start
// after `startDelay` (phase Running, podIP published) and it turns Ready after
// `readyDelay` (a readiness probe's initial delay) unless readiness was set by hand.
// A pod marked for deletion keeps running (and serving) until its deletionTimestamp,
// then is removed and its address freed.
// Events, as the kubelet records them against the pod and container: Pulled ("Container
// image ... already present on machine": svclab has no registry; a node configured with
// an image pull time records Pulling, then "Successfully pulled image" once the pull is
// done), Created, Started for each container when it starts, Killing when the pod is
// deleted while running.
import type { Container, Node, Pod, PodCondition } from '../../api/types.ts';
import type { TimerHandle, VirtualClock } from '../clock.ts';
import { type EventRecorder, EventSource } from '../events.ts';
import { HostLocalIpam } from '../ipam.ts';
import type { Store, StoreHandle } from '../store.ts';
import { HandleQueue, drainHandles } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { deepFreeze, objectKey } from '../objects.ts';
import { LiteralCopier } from '../shapes.ts';

export interface KubeletTiming {
  startDelayNs: number;
  readyDelayNs: number;
  /** Per node: the time to pull an image the node does not have (absent: all present). */
  imagePullNs?: ReadonlyMap<string, number>;
  /** The kubelet's minor release (its pull event's wording). Default: current. */
  minor?: number;
}

/** What the kubelet keeps of a pod on its node (on the pod's store handle, see `local`). */
interface PodRecord {
  node: string;
  /** The pod's address ('' until the CNI gave one). */
  ip: string;
  /** The address came from the node's IPAM (not hostNetwork) and goes back there. */
  pooled: boolean;
  timer: TimerHandle | undefined;
  removing: boolean;
}

/** Every field in one literal: added later, a field would go to a separate PropertyArray. */
function podRecord(node: string, ip: string, pooled: boolean, removing: boolean): PodRecord {
  return { node, ip, pooled, timer: undefined, removing };
}

/** kuberuntime image manager: the image is on the node, nothing is pulled. */
const presentMessage = (image: string): string =>
  `Container image ${JSON.stringify(image)} already present on machine`;

const recordOf = (h: StoreHandle<Pod>): PodRecord | undefined => h.local as PodRecord | undefined;

/** A running pod's status: `{ ...status, phase, hostIP, podIP, startTime, conditions }`. */
const RUNNING_STATUS = new LiteralCopier(['phase', 'hostIP', 'podIP', 'startTime', 'conditions']);

interface NodeRecord {
  ip: string;
  ipam?: HostLocalIpam;
  /** Images pulled or being pulled: when each pull started and when it is done (ns). */
  images?: Map<string, { from: number; done: number }>;
  /** When the node's serialized image puller is free again. */
  pullerFree?: number;
}

/** Go's time.Duration.String() for what a pull takes: `8s`, `29.5s`, `750ms`. */
function goDuration(ns: number): string {
  if (ns < 1e9) return `${+(ns / 1e6).toFixed(6)}ms`;
  return `${+(ns / 1e9).toFixed(9)}s`;
}

/** The kubelet's Pulled event for an image it pulled: wording by release. */
function pulledAfterPull(image: string, tookNs: number, waitedNs: number, minor: number): string {
  const base = `Successfully pulled image ${JSON.stringify(image)}`;
  if (minor < 20) return base;
  if (minor < 28) return `${base} in ${goDuration(tookNs)}`;
  return `${base} in ${goDuration(tookNs)} (${goDuration(waitedNs)} including waiting)`;
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
  private readonly nodes = new Map<string, NodeRecord>();
  /** Readiness forced by setPodReady (a probe result), by pod key. */
  private readonly forced = new Map<string, boolean>();
  /** The pod this kubelet is writing (its own event needs no resync). */
  private writing: string | undefined;

  /** Pods that waited for an image pull, by key: how long each waited (ns). */
  private readonly pulled = new Map<string, number>();

  /** Each node's kubelet has its own event broadcaster (component kubelet, host the node). */
  private readonly sources = new Map<string, EventSource>();

  constructor(
    private readonly store: Store,
    private readonly clock: VirtualClock,
    private readonly timing: KubeletTiming,
    private readonly events: EventRecorder,
  ) {
    this.queue = new HandleQueue(store);
    store.watch('Node', (ev) => this.onNode(ev.type, ev.object));
    store.watch('Pod', (ev) => {
      const key = ev.key;
      if (ev.type === 'DELETED') {
        // Deleted at once (grace period 0): its containers are stopped now.
        const rec = recordOf(ev.handle);
        if (rec !== undefined && !rec.removing) this.killing(ev.object, rec.node);
        this.forget(ev.handle);
      } else if (!ev.object.spec.nodeName || key === this.writing) return;
      // Just bound: no record of this pod can exist yet (needsSync would say so).
      else if (ev.old?.spec.nodeName === undefined || ev.old.spec.nodeName === '') {
        this.queue.add(ev.handle);
      } else if (this.needsSync(ev.handle)) this.queue.add(ev.handle);
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
    const h = this.store.handle('Pod', `${namespace}/${name}`);
    return (h === undefined ? undefined : recordOf(h)?.ip) || undefined;
  }

  /** Only new pods on a node and newly deleted pods need the kubelet's attention. */
  private needsSync(h: StoreHandle<Pod>): boolean {
    const rec = recordOf(h);
    if (rec === undefined) return true;
    return h.obj.metadata.deletionTimestamp !== undefined && !rec.removing;
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

  private sync(queued: StoreHandle<Pod>): void {
    // A handle names its object; a dead one's key may belong to a successor by now.
    const h = queued.live ? queued : this.store.handle('Pod', queued.key);
    if (h === undefined) return;
    const key = h.key;
    const pod = h.obj;
    if (!pod.spec.nodeName) return;
    let rec = recordOf(h);
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (rec?.removing) return;
      if (rec === undefined) h.local = rec = podRecord(pod.spec.nodeName, '', false, true);
      else this.killing(pod, rec.node);
      rec.removing = true;
      this.clock.cancel(rec.timer);
      rec.timer = this.clock.schedule(pod.metadata.deletionTimestamp, () => this.remove(h));
      return;
    }
    if (rec !== undefined || pod.status.phase !== 'Pending') return;
    const node = this.nodes.get(pod.spec.nodeName);
    if (node === undefined) return;
    const pooled = pod.spec.hostNetwork !== true;
    const ip = pooled ? node.ipam?.allocate() : node.ip;
    // No address left: the sandbox cannot be created and the pod stays ContainerCreating.
    if (ip === undefined) return;
    h.local = rec = podRecord(pod.spec.nodeName, ip, pooled, false);
    const wait = this.pullWait(pod, pod.spec.nodeName, node);
    if (wait > 0) this.pulled.set(key, wait);
    const delay = this.timing.startDelayNs + wait;
    // No start delay: start within this reconcile (same instant, one write fewer to react to).
    if (delay <= 0) this.run(key, rec, h);
    else rec.timer = this.clock.after(delay, () => this.start(h));
  }

  /**
   * How long the pod's images keep it ContainerCreating on this node: nothing where the
   * node has them (or pulls nothing), else until the node's one-at-a-time puller has
   * fetched each missing image. Records Pulling as each pull is asked for.
   */
  private pullWait(pod: Pod, nodeName: string, node: NodeRecord): number {
    const pullNs = this.timing.imagePullNs?.get(nodeName) ?? 0;
    if (pullNs <= 0 || pod.spec.hostNetwork === true) return 0;
    const now = this.clock.now();
    node.images ??= new Map();
    let ready = now;
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      let pull = node.images.get(c.image);
      if (pull === undefined) {
        const from = Math.max(now, node.pullerFree ?? 0);
        pull = { from: now, done: from + pullNs };
        node.images.set(c.image, pull);
        node.pullerFree = pull.done;
      }
      if (pull.done > now && this.events.enabled && this.events.accepting(this.source(nodeName)))
        this.events.event(
          this.source(nodeName),
          pod,
          'Normal',
          'Pulling',
          `Pulling image ${JSON.stringify(c.image)}`,
          `spec.containers{${c.name}}`,
        );
      ready = Math.max(ready, pull.done);
    }
    return ready - now;
  }

  /** The Pulled event's message for a container of pod `key` starting now. */
  private pulledMessage(key: string, node: string, image: string): string {
    const waited = this.pulled.get(key);
    if (waited === undefined) return presentMessage(image);
    const pullNs = this.timing.imagePullNs?.get(node) ?? 0;
    return pulledAfterPull(image, Math.min(pullNs, waited), waited, this.timing.minor ?? 1000);
  }

  private start(h: StoreHandle<Pod>): void {
    const rec = recordOf(h);
    if (!h.live || rec === undefined || h.obj.metadata.deletionTimestamp !== undefined) return;
    this.run(h.key, rec, h);
  }

  /** Containers up: Running with its IP (and Ready unless a readiness delay applies). */
  private run(key: string, rec: PodRecord, h: StoreHandle<Pod>): void {
    const pod = h.obj;
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
    this.started(pod, rec.node);
    this.pulled.delete(key);
    this.writing = key;
    try {
      this.store.update({ ...pod, status }, h);
    } finally {
      this.writing = undefined;
    }
    if (forced === undefined && !ready) {
      rec.timer = this.clock.after(this.timing.readyDelayNs, () => this.becomeReady(h));
    } else {
      rec.timer = undefined;
    }
  }

  private source(node: string): EventSource {
    let s = this.sources.get(node);
    if (s === undefined) this.sources.set(node, (s = new EventSource('kubelet', node)));
    return s;
  }

  /** The events of starting each container: image present, created, started. */
  private started(pod: Pod, node: string): void {
    if (!this.events.enabled) return;
    const src = this.source(node);
    const init = pod.spec.initContainers;
    if (init !== undefined) {
      for (const c of init) if (!this.containerStarted(src, pod, c, 'spec.initContainers')) return;
    }
    for (const c of pod.spec.containers) {
      if (!this.containerStarted(src, pod, c, 'spec.containers')) return;
    }
  }

  /** False when the kubelet's event queue is full (the rest is dropped too). */
  private containerStarted(src: EventSource, pod: Pod, c: Container, field: string): boolean {
    const ev = this.events;
    if (!ev.accepting(src)) return false;
    const path = `${field}{${c.name}}`;
    const pulled = this.pulledMessage(objectKey(pod), pod.spec.nodeName ?? '', c.image);
    ev.event(src, pod, 'Normal', 'Pulled', pulled, path);
    ev.event(src, pod, 'Normal', 'Created', `Created container ${c.name}`, path);
    ev.event(src, pod, 'Normal', 'Started', `Started container ${c.name}`, path);
    return true;
  }

  /** Stopping a running pod's containers (only once it has started them). */
  private killing(pod: Pod, node: string): void {
    if (pod.status.phase !== 'Running' || !this.events.enabled) return;
    const src = this.source(node);
    for (const c of pod.spec.containers) {
      if (!this.events.accepting(src)) return;
      const path = `spec.containers{${c.name}}`;
      this.events.event(src, pod, 'Normal', 'Killing', `Stopping container ${c.name}`, path);
    }
  }

  private becomeReady(h: StoreHandle<Pod>): void {
    const pod = h.obj;
    if (!h.live || this.forced.has(h.key) || pod.metadata.deletionTimestamp !== undefined) return;
    this.store.update({ ...pod, status: { ...pod.status, conditions: conditions(true) } }, h);
  }

  private remove(h: StoreHandle<Pod>): void {
    if (!h.live) return;
    const pod = h.obj;
    this.store.delete('Pod', pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
  }

  private forget(h: StoreHandle<Pod>): void {
    const rec = recordOf(h);
    if (rec === undefined) return;
    h.local = undefined;
    this.clock.cancel(rec.timer);
    if (rec.pooled && rec.ip !== '') this.nodes.get(rec.node)?.ipam?.release(rec.ip);
    this.forced.delete(h.key);
    this.pulled.delete(h.key);
  }
}
