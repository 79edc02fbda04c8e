// The Cluster: store + virtual clock + the one RNG + allocators + controllers, wired
// like a kubeadm cluster and driven by the caller. Writes (apply, delete, scale,
// setPodReady) settle the controllers at the current instant; `advance` moves time
// forward, firing timers (pod start/readiness, graceful deletion, proxy syncs) in order.
import { DEFAULT_EPOCH_MS } from '../api/wire.ts';
import type { Kind, KubeObject, ObjectOfKind, Pod } from '../api/types.ts';
import { ClusterIPAllocator } from './allocators/cluster-ip.ts';
import { LoadBalancerPool } from './allocators/load-balancer.ts';
import { NodePortAllocator } from './allocators/node-port.ts';
import {
  corednsDeployment,
  kubeDnsService,
  kubeProxyPod,
  kubernetesEndpoints,
  kubernetesService,
  namespaces,
  nodeObject,
  staticPods,
} from './bootstrap.ts';
import type { ClusterConfig, ClusterOptions } from './cluster-config.ts';
import { clusterMinor, resolveConfig, resolveNodes } from './cluster-config.ts';
import { SECOND, VirtualClock } from './clock.ts';
import { DeploymentController } from './controllers/deployment.ts';
import { EndpointSliceMirroringController } from './controllers/endpointslice-mirroring.ts';
import { EndpointSliceController } from './controllers/endpointslice.ts';
import { EndpointsController } from './controllers/endpoints.ts';
import { GarbageCollector } from './controllers/garbage-collector.ts';
import { Kubelet } from './controllers/kubelet.ts';
import { ReplicaSetController } from './controllers/replicaset.ts';
import { Scheduler } from './controllers/scheduler.ts';
import { ServiceLoadBalancerController } from './controllers/service-lb.ts';
import { KubeProxyDaemonSetController } from './controllers/kube-proxy-daemonset.ts';
import { kubeProxyConfigMap } from './kube-proxy-config.ts';
import { ApiError, CLUSTER_SCOPED } from './errors.ts';
import { EventRecorder } from './events.ts';
import { PodIndex, ServiceIndex } from './indexes.ts';
import { cloneForStore } from './objects.ts';
import { PodRegistry } from './pod-registry.ts';
import { ProxyFeed } from './proxy-feed.ts';
import type { ProxyFeedOptions } from './proxy-feed.ts';
import type { Proxier } from '../proxy/proxier.ts';
import { Rng } from './rng.ts';
import { ServiceRegistry } from './service-registry.ts';
import { Store } from './store.ts';
import type { DeleteOptions } from './store.ts';
import type { Controller } from './workqueue.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  kind: Kind;
  namespace?: string;
  name: string;
  action?: ApplyAction;
  object?: KubeObject;
  error?: ApiError;
}

/** kubectl's `<resource>/<name>` prefix: `deployment.apps/myapp-deploy`, `service/myapp`. */
export const KIND_REF: Record<Kind, string> = {
  Namespace: 'namespace',
  Node: 'node',
  Pod: 'pod',
  Deployment: 'deployment.apps',
  ReplicaSet: 'replicaset.apps',
  Service: 'service',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslice.discovery.k8s.io',
  Ingress: 'ingress.networking.k8s.io',
  Secret: 'secret',
  ConfigMap: 'configmap',
  IngressClass: 'ingressclass.networking.k8s.io',
  Event: 'event',
};

/** The line kubectl apply prints for a result. */
export function formatApplyResult(r: ApplyResult): string {
  if (r.error !== undefined) return `Error from server (${r.error.reason}): ${r.error.message}`;
  return `${KIND_REF[r.kind]}/${r.name} ${r.action}`;
}

export interface WriteOptions {
  /** Run the controllers to quiescence afterwards (default true). */
  settle?: boolean;
}

/** Upper bound on settle rounds: a controller that never converges is a bug. */
const MAX_SETTLE_STEPS = 10_000_000;

export class Cluster {
  readonly config: ClusterConfig;
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly store: Store;
  readonly clusterIPs: ClusterIPAllocator;
  readonly nodePorts: NodePortAllocator;
  readonly loadBalancers: LoadBalancerPool;
  readonly pods: PodIndex;
  readonly services: ServiceIndex;
  readonly kubelet: Kubelet;
  /** The controllers' event recorder (`recordEvents: false` turns it off). */
  readonly events: EventRecorder;
  /**
   * The wall-clock instant (ms) virtual time zero stands for, where a component prints wall
   * time (kube-proxy's klog lines): the seed's epoch in simulation; a live runtime (serve,
   * the lab) sets it so that they follow the wall clock.
   */
  epochMs = DEFAULT_EPOCH_MS;
  private readonly controllers: Controller[];
  private readonly feeds: ProxyFeed[] = [];

  constructor(opts: ClusterOptions = {}) {
    this.config = resolveConfig(opts);
    const cfg = this.config;
    this.clock = new VirtualClock();
    this.rng = new Rng(cfg.seed);
    this.store = new Store(this.clock, this.rng, { watchHistory: cfg.watchHistory });
    this.clusterIPs = new ClusterIPAllocator(cfg.serviceCIDR, this.rng);
    this.nodePorts = new NodePortAllocator(cfg.nodePortRange, this.rng);
    this.loadBalancers = new LoadBalancerPool(cfg.loadBalancerPool);
    this.store.setStrategy('Service', new ServiceRegistry(this.clusterIPs, this.nodePorts));
    this.store.setStrategy(
      'Pod',
      new PodRegistry(this.clock, cfg.defaultTerminationGracePeriodSeconds),
    );
    this.pods = new PodIndex(this.store);
    this.services = new ServiceIndex(this.store);
    // Its own uid generator: recording events draws nothing from `rng`.
    this.events = new EventRecorder(this.store, this.clock, {
      seed: cfg.seed,
      enabled: cfg.recordEvents,
      maxEvents: cfg.maxEvents,
      ttlNs: cfg.eventTTLNs,
    });
    this.kubelet = new Kubelet(
      this.store,
      this.clock,
      {
        startDelayNs: cfg.podStartDelayNs,
        readyDelayNs: cfg.podReadyDelayNs,
        imagePullNs: new Map(
          cfg.nodes
            .filter((n) => (n.imagePullSeconds ?? 0) > 0)
            .map((n) => [n.name, n.imagePullSeconds! * SECOND]),
        ),
        minor: clusterMinor(cfg),
      },
      this.events,
    );
    // kube-scheduler runs on the (first) control-plane node: its events' reporting instance.
    const schedulerHost = (cfg.nodes.find((n) => n.controlPlane) ?? cfg.nodes[0]!).name;
    // Fixed order: each settle round drains them in this order, deterministically. The
    // event recorder comes last: it writes what the others recorded during the round.
    this.controllers = [
      new DeploymentController(this.store, this.pods, this.events),
      new ReplicaSetController(this.store, this.pods, this.events),
      new GarbageCollector(this.store),
      new Scheduler(this.store, this.events, `default-scheduler-${schedulerHost}`),
      this.kubelet,
      new EndpointSliceController(this.store, this.pods, this.services),
      new EndpointsController(this.store, this.pods, this.services),
      new EndpointSliceMirroringController(this.store),
      new ServiceLoadBalancerController(this.store, this.loadBalancers, this.events),
      new KubeProxyDaemonSetController(this.store, cfg),
      this.events,
    ];
    this.bootstrap();
  }

  /** Virtual time, nanoseconds. */
  now(): number {
    return this.clock.now();
  }

  get<K extends Kind>(
    kind: K,
    namespace: string | undefined,
    name: string,
  ): ObjectOfKind<K> | undefined {
    return this.store.get(kind, namespace, name);
  }

  list<K extends Kind>(kind: K, namespace?: string): ObjectOfKind<K>[] {
    return this.store.list(kind, namespace);
  }

  /**
   * kubectl apply: create what is missing, update what exists (status, scheduler and
   * allocator decisions are kept), report created/configured/unchanged per object.
   * Errors are reported per object; the others are still applied.
   */
  apply(objects: readonly KubeObject[], opts: WriteOptions = {}): ApplyResult[] {
    const results: ApplyResult[] = new Array<ApplyResult>(objects.length);
    // The last frozen copy of each kind: the next object of that kind may share its spec
    // and labels (a Service between two pods of one template does not break the chain).
    const last = new Map<string, KubeObject>();
    for (let i = 0; i < objects.length; i++) {
      const o = objects[i]!;
      const copy = cloneForStore(o, last.get(o.kind));
      results[i] = this.applyOne(o, copy);
      last.set(o.kind, copy);
    }
    if (opts.settle !== false) this.settle();
    return results;
  }

  /** kubectl delete (pods terminate gracefully; dependents are garbage-collected). */
  delete(
    kind: Kind,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions & WriteOptions = {},
  ): void {
    const { settle, ...del } = opts;
    this.store.delete(kind, namespace, name, del);
    if (settle !== false) this.settle();
  }

  /** kubectl scale deployment. */
  scale(namespace: string, deployment: string, replicas: number, opts: WriteOptions = {}): void {
    const d = this.store.get('Deployment', namespace, deployment);
    if (d === undefined)
      throw new ApiError('NotFound', `deployments.apps "${deployment}" not found`);
    this.store.update({ ...d, spec: { ...d.spec, replicas } });
    if (opts.settle !== false) this.settle();
  }

  /** Flip a pod's readiness, as a readiness probe starting to pass or fail would. */
  setPodReady(namespace: string, name: string, ready: boolean, opts: WriteOptions = {}): Pod {
    const pod = this.kubelet.setReady(namespace, name, ready);
    if (opts.settle !== false) this.settle();
    return pod;
  }

  /** Feed a proxy mode like kube-proxy does on one node; returns the feed (counters). */
  attachProxier(proxier: Proxier, opts: ProxyFeedOptions = {}): ProxyFeed {
    const feed = new ProxyFeed(this.store, this.clock, proxier, opts);
    this.feeds.push(feed);
    feed.start();
    this.settle();
    return feed;
  }

  /** Run controllers and timers due now until nothing is left to do at this instant. */
  settle(): void {
    for (let step = 0; step < MAX_SETTLE_STEPS; step++) {
      let worked = false;
      for (const c of this.controllers) if (c.drain()) worked = true;
      if (worked) continue;
      if (this.clock.fireNext(this.clock.now()) === 0) return;
    }
    throw new Error('controllers did not settle');
  }

  /** Move virtual time forward by `ns`, firing every timer due on the way. */
  advance(ns: number): void {
    if (ns < 0) throw new RangeError('cannot advance by a negative time');
    const target = this.clock.now() + ns;
    this.settle();
    for (;;) {
      const t = this.clock.nextTime();
      if (t === undefined || t > target) break;
      this.clock.setNow(Math.max(t, this.clock.now()));
      this.settle();
    }
    this.clock.setNow(target);
    this.settle();
  }

  /** Every stored object, kinds in a fixed order (for snapshots and determinism checks). */
  dump(): KubeObject[] {
    const kinds: Kind[] = [
      'Namespace',
      'Node',
      'Deployment',
      'ReplicaSet',
      'Pod',
      'Service',
      'Endpoints',
      'EndpointSlice',
      'Ingress',
      'IngressClass',
      'Secret',
      'ConfigMap',
      'Event',
    ];
    return kinds.flatMap((k) => this.store.list(k));
  }

  /** Apply one object; `obj` is its copy for the store (cloneForStore). */
  private applyOne(input: KubeObject, obj: KubeObject): ApplyResult {
    const kind = input.kind;
    const name = input.metadata.name;
    const namespace = CLUSTER_SCOPED.has(kind) ? undefined : input.metadata.namespace || 'default';
    const result: ApplyResult = { kind, name };
    if (namespace !== undefined) result.namespace = namespace;
    try {
      if (namespace !== undefined) obj.metadata.namespace = namespace;
      const created = this.store.createIfAbsent(obj);
      if (created !== undefined) {
        result.object = created;
        result.action = 'created';
        return result;
      }
      const existing = this.store.get(kind, namespace, name)!;
      const merged = mergeForApply(existing, obj);
      result.object = this.store.update(merged);
      result.action = result.object === existing ? 'unchanged' : 'configured';
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result.error = e;
    }
    return result;
  }

  private bootstrap(): void {
    const cfg = this.config;
    for (const ns of namespaces()) this.store.create(ns);
    const nodes = resolveNodes(cfg);
    if (!nodes.some((n) => n.controlPlane)) nodes[0]!.controlPlane = true;
    if (cfg.systemPods) {
      // kubeadm's kube-proxy configuration: blank mode (iptables), the pod network as clusterCIDR.
      const apiServer = nodes.find((n) => n.controlPlane)!.ip;
      // Its uid from a stream of its own: adding it shifted no pod name, IP or port.
      this.store.setUidSource('ConfigMap', new Rng((cfg.seed ^ 0x6b707278) >>> 0));
      this.store.create(
        kubeProxyConfigMap({ clusterCIDR: cfg.podCIDR }, `${apiServer}:${cfg.apiServerPort}`),
      );
      this.store.setUidSource('ConfigMap', undefined);
    }
    const kubeProxyUid = this.rng.uuid();
    const join = (n: (typeof nodes)[number]): void => {
      const node = this.store.create(nodeObject(n, cfg));
      if (cfg.systemPods) {
        if (n.controlPlane) for (const p of staticPods(node, cfg)) this.store.create(p);
        this.store.create(kubeProxyPod(n.name, kubeProxyUid, cfg));
      }
    };
    // kubeadm init: the control plane comes up first and CoreDNS lands there
    // (it tolerates the taint); the workers join afterwards.
    for (const n of nodes.filter((x) => x.controlPlane)) join(n);
    const apiServers = nodes.filter((n) => n.controlPlane).map((n) => n.ip);
    this.store.create(kubernetesService(cfg));
    for (const o of kubernetesEndpoints(cfg, apiServers)) this.store.create(o);
    if (cfg.coreDNS) {
      this.store.create(kubeDnsService(cfg));
      this.store.create(corednsDeployment(cfg));
    }
    this.settle();
    for (const n of nodes.filter((x) => !x.controlPlane)) join(n);
    this.settle();
    // Let the system pods start and turn ready, so the cluster is up when handed over.
    for (let i = 0; i < 1000; i++) {
      const t = this.clock.nextTime();
      if (t === undefined) break;
      this.advance(t - this.clock.now());
    }
  }
}

/** The outcome of `kubectl apply` over an existing object (status and server-set fields kept). */
function mergeForApply<T extends KubeObject>(existing: T, input: T): T {
  const { resourceVersion: _rv, ...meta } = input.metadata;
  if (existing.metadata.annotations !== undefined || meta.annotations !== undefined) {
    meta.annotations = { ...existing.metadata.annotations, ...meta.annotations };
  }
  if (meta.ownerReferences === undefined && existing.metadata.ownerReferences !== undefined) {
    meta.ownerReferences = existing.metadata.ownerReferences;
  }
  const merged = { ...input, metadata: meta } as T & { status?: unknown };
  const oldStatus = (existing as { status?: unknown }).status;
  if (oldStatus !== undefined) merged.status = oldStatus;
  if (existing.kind === 'Pod') {
    // The scheduler's binding is not part of the manifest.
    const pod = merged as unknown as Pod;
    const nodeName = (existing as Pod).spec.nodeName;
    if (!pod.spec.nodeName && nodeName) pod.spec = { ...pod.spec, nodeName };
  }
  return merged;
}
