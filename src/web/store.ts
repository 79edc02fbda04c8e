// The cluster as the page holds it: each kind listed once, then followed with a watch
// from the list's resourceVersion (no polling of full lists). Objects are kept as the
// few fields the page draws. Watch events are applied in batches, once per animation
// frame, so a burst (a Deployment scaled to hundreds of pods) costs one render.
import { getJson, watch, type WatchEvent } from './api.ts';

interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
}
interface Obj {
  metadata: Meta;
}
interface List<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

export interface NodeView {
  name: string;
  ip: string;
  ready: boolean;
}
export interface PodView {
  key: string;
  namespace: string;
  name: string;
  node: string;
  ip: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  app: string;
}
export interface PortView {
  name?: string;
  port: number;
  protocol: string;
  targetPort?: string | number;
  nodePort?: number;
}
export interface ServiceView {
  key: string;
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  headless: boolean;
  ports: PortView[];
  externalName?: string;
  lbIPs: string[];
  externalIPs: string[];
}
export interface EndpointView {
  ip: string;
  ready: boolean;
  pod?: string;
  node?: string;
}
export interface SliceView {
  key: string;
  service: string;
  endpoints: EndpointView[];
}
export interface IngressRuleView {
  host: string;
  path: string;
  service: string;
  port: string;
}
export interface IngressView {
  key: string;
  namespace: string;
  name: string;
  rules: IngressRuleView[];
  tls: boolean;
}

const keyOf = (m: Meta): string => `${m.namespace ?? ''}/${m.name}`;

/* eslint-disable @typescript-eslint/no-explicit-any */
function nodeView(o: any): NodeView {
  const addr = (o.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP');
  const ready = (o.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
  return { name: o.metadata.name, ip: addr?.address ?? '', ready };
}
function podView(o: any): PodView {
  const ready = (o.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
  const labels = o.metadata.labels ?? {};
  return {
    key: keyOf(o.metadata),
    namespace: o.metadata.namespace ?? 'default',
    name: o.metadata.name,
    node: o.spec?.nodeName ?? '',
    ip: o.status?.podIP ?? '',
    phase: o.status?.phase ?? 'Pending',
    ready,
    terminating: o.metadata.deletionTimestamp !== undefined,
    app: labels.app ?? labels['app.kubernetes.io/name'] ?? '',
  };
}
function serviceView(o: any): ServiceView {
  const s = o.spec ?? {};
  return {
    key: keyOf(o.metadata),
    namespace: o.metadata.namespace ?? 'default',
    name: o.metadata.name,
    type: s.type ?? 'ClusterIP',
    clusterIP: s.clusterIP ?? '',
    headless: s.clusterIP === 'None',
    ports: (s.ports ?? []).map((p: any) => ({
      name: p.name,
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort,
      nodePort: p.nodePort,
    })),
    externalName: s.externalName,
    lbIPs: (o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname),
    externalIPs: s.externalIPs ?? [],
  };
}
function sliceView(o: any): SliceView {
  const ns = o.metadata.namespace ?? 'default';
  return {
    key: keyOf(o.metadata),
    service: `${ns}/${o.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`,
    endpoints: (o.endpoints ?? []).flatMap((e: any) =>
      (e.addresses ?? []).map((ip: string) => ({
        ip,
        ready: e.conditions?.ready !== false,
        pod:
          e.targetRef?.kind === 'Pod'
            ? `${e.targetRef.namespace ?? ns}/${e.targetRef.name}`
            : undefined,
        node: e.nodeName,
      })),
    ),
  };
}
function ingressView(o: any): IngressView {
  const ns = o.metadata.namespace ?? 'default';
  const rules: IngressRuleView[] = [];
  const backend = (b: any): [string, string] => {
    if (b?.service)
      return [
        `${ns}/${b.service.name}`,
        String(b.service.port?.number ?? b.service.port?.name ?? ''),
      ];
    if (b?.serviceName) return [`${ns}/${b.serviceName}`, String(b.servicePort ?? '')];
    return ['', ''];
  };
  const def = o.spec?.defaultBackend ?? o.spec?.backend;
  if (def) {
    const [service, port] = backend(def);
    rules.push({ host: '*', path: '(default)', service, port });
  }
  for (const r of o.spec?.rules ?? []) {
    for (const p of r.http?.paths ?? []) {
      const [service, port] = backend(p.backend);
      rules.push({ host: r.host ?? '*', path: p.path ?? '/', service, port });
    }
  }
  return {
    key: keyOf(o.metadata),
    namespace: ns,
    name: o.metadata.name,
    rules,
    tls: (o.spec?.tls ?? []).length > 0,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

interface KindSpec<V> {
  path: string;
  view: (o: unknown) => V;
  map: Map<string, V>;
}

export class ClusterStore {
  readonly nodes = new Map<string, NodeView>();
  readonly pods = new Map<string, PodView>();
  readonly services = new Map<string, ServiceView>();
  readonly slices = new Map<string, SliceView>();
  readonly ingresses = new Map<string, IngressView>();
  /** Bumped after each applied batch. */
  version = 0;
  /** Wall time of the last applied batch (performance.now()). */
  lastApplied = 0;
  error = '';
  private listeners = new Set<() => void>();
  private pending: (() => void)[] = [];
  private scheduled = false;
  private readonly abort = new AbortController();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): Promise<void> {
    const kinds: KindSpec<unknown>[] = [
      { path: '/api/v1/nodes', view: nodeView, map: this.nodes },
      { path: '/api/v1/pods', view: podView, map: this.pods },
      { path: '/api/v1/services', view: serviceView, map: this.services },
      { path: '/apis/discovery.k8s.io/v1/endpointslices', view: sliceView, map: this.slices },
      { path: '/apis/networking.k8s.io/v1/ingresses', view: ingressView, map: this.ingresses },
    ] as KindSpec<unknown>[];
    return Promise.all(kinds.map((k) => this.follow(k))).then(() => undefined);
  }

  stop(): void {
    this.abort.abort();
  }

  /** List, then watch from the list's version; relist when the watch ends or is too old. */
  private async follow<V>(k: KindSpec<V>): Promise<void> {
    const list = await getJson<List<Obj>>(k.path);
    k.map.clear();
    for (const o of list.items) k.map.set(keyOf(o.metadata), k.view(o));
    this.bump();
    void this.watchLoop(k, list.metadata.resourceVersion);
  }

  private async watchLoop<V>(k: KindSpec<V>, rv: string): Promise<void> {
    let version = rv;
    while (!this.abort.signal.aborted) {
      let gone = false;
      try {
        await watch<Obj>(
          `${k.path}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(version)}`,
          (e: WatchEvent<Obj>) => {
            if (e.type === 'ERROR') {
              gone = true;
              return;
            }
            const rvNow = e.object.metadata.resourceVersion;
            if (rvNow !== undefined) version = rvNow;
            if (e.type === 'BOOKMARK') return;
            this.enqueue(() => {
              const key = keyOf(e.object.metadata);
              if (e.type === 'DELETED') k.map.delete(key);
              else k.map.set(key, k.view(e.object));
            });
          },
          this.abort.signal,
        );
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.error = (err as Error).message;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (gone) {
        try {
          const list = await getJson<List<Obj>>(k.path);
          this.enqueue(() => {
            k.map.clear();
            for (const o of list.items) k.map.set(keyOf(o.metadata), k.view(o));
          });
          version = list.metadata.resourceVersion;
        } catch (err) {
          this.error = (err as Error).message;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  }

  private enqueue(fn: () => void): void {
    this.pending.push(fn);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const batch = this.pending;
      this.pending = [];
      for (const f of batch) f();
      this.bump();
    });
  }

  private bump(): void {
    this.version++;
    this.lastApplied = performance.now();
    for (const l of this.listeners) l();
  }

  /** Endpoints of a Service (`ns/name`), from all its slices. */
  endpointsOf(service: string): EndpointView[] {
    const out: EndpointView[] = [];
    for (const s of this.slices.values()) if (s.service === service) out.push(...s.endpoints);
    return out;
  }

  /** Service key → its endpoints, for every Service (one pass over the slices). */
  endpointIndex(): Map<string, EndpointView[]> {
    const m = new Map<string, EndpointView[]>();
    for (const s of this.slices.values()) {
      const a = m.get(s.service);
      if (a === undefined) m.set(s.service, [...s.endpoints]);
      else a.push(...s.endpoints);
    }
    return m;
  }
}
