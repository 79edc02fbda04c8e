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

  /** Query name (as /svclab/v1/web/watch takes it) → the kind's list path and map. */
  private kinds(): Record<string, KindSpec<unknown>> {
    return {
      nodes: { path: '/svclab/v1/web/list/nodes', view: nodeView, map: this.nodes },
      pods: { path: '/svclab/v1/web/list/pods', view: podView, map: this.pods },
      services: { path: '/svclab/v1/web/list/services', view: serviceView, map: this.services },
      endpointslices: {
        path: '/svclab/v1/web/list/endpointslices',
        view: sliceView,
        map: this.slices,
      },
      ingresses: {
        path: '/svclab/v1/web/list/ingresses',
        view: ingressView,
        map: this.ingresses,
      },
    } as Record<string, KindSpec<unknown>>;
  }

  /** List every kind, then follow them all through one watch; resolves after the first lists. */
  async start(): Promise<void> {
    const versions = await this.listAll(true);
    void this.watchLoop(versions);
  }

  stop(): void {
    this.abort.abort();
  }

  /** List each kind (the API's list); returns each list's resourceVersion. */
  private async listAll(now: boolean): Promise<Record<string, string>> {
    const kinds = Object.entries(this.kinds());
    const lists = await Promise.all(kinds.map(([, k]) => getJson<List<Obj>>(k.path)));
    const apply = () => {
      kinds.forEach(([, k], i) => {
        k.map.clear();
        for (const o of lists[i]!.items) k.map.set(keyOf(o.metadata), k.view(o));
      });
    };
    if (now) {
      apply();
      this.bump();
    } else {
      this.enqueue(apply);
    }
    return Object.fromEntries(kinds.map(([name], i) => [name, lists[i]!.metadata.resourceVersion]));
  }

  /**
   * One stream for every kind (a browser keeps six connections to a host: five watches
   * per tab would starve a second tab). When it ends or reports an ERROR (history
   * compacted), list again and reopen it.
   */
  private async watchLoop(first: Record<string, string>): Promise<void> {
    let versions = first;
    const kinds = this.kinds();
    while (!this.abort.signal.aborted) {
      let gone = false;
      try {
        const q = new URLSearchParams(versions).toString();
        await watch<Obj & { kind?: string }>(
          `/svclab/v1/web/watch?${q}`,
          (e: WatchEvent<Obj> & { kind?: string }) => {
            const k = kinds[e.kind ?? ''];
            if (k === undefined) return;
            if (e.type === 'ERROR') {
              gone = true;
              return;
            }
            const rv = e.object.metadata.resourceVersion;
            if (rv !== undefined) versions = { ...versions, [e.kind!]: rv };
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
        gone = true;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (gone || !this.abort.signal.aborted) {
        try {
          versions = await this.listAll(false);
          this.error = '';
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
