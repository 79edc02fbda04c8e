// kube-proxy's front half: informers on Services and EndpointSlices feed two change
// trackers, and a BoundedFrequencyRunner delivers the coalesced changes to the Proxier
// (onService*/onEndpointSlice* in first-changed order, the *Synced calls once after the
// initial list) followed by one sync(). Informer filters follow kube-proxy: objects
// labelled service.kubernetes.io/service-proxy-name belong to another proxy, slices of
// headless Services carry service.kubernetes.io/headless and are not watched.
import type { EndpointSlice, Service } from '../api/types.ts';
import type { Proxier } from '../proxy/proxier.ts';
import { BoundedFrequencyRunner } from './bounded-frequency-runner.ts';
import type { RunnerStats } from './bounded-frequency-runner.ts';
import { ChangeTracker } from './change-tracker.ts';
import type { ChangeTrackerStats } from './change-tracker.ts';
import { SECOND } from './clock.ts';
import type { VirtualClock } from './clock.ts';
import { HEADLESS_LABEL, SERVICE_NAME_LABEL } from './controllers/endpointslice.ts';
import type { Store } from './store.ts';

export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';

export interface ProxyFeedOptions {
  /** --iptables-min-sync-period (default 1s). */
  minSyncPeriodNs?: number;
  /** --iptables-sync-period: periodic resync (default 30s). */
  syncPeriodNs?: number;
  /** Runs allowed back to back before the min period applies (kube-proxy: 2). */
  burstSyncs?: number;
  /** Called after every sync (kube-proxy's housekeeping: stale UDP conntrack entries). */
  afterSync?: () => void;
}

export interface ProxyFeedStats {
  /** proxier.sync() calls. */
  syncs: number;
  /** Syncs caused by the periodic resync, not by changes. */
  periodicSyncs: number;
  /** Service / slice changes delivered to the Proxier. */
  serviceChanges: number;
  sliceChanges: number;
  /** Updates folded into a pending change of the same object. */
  changesCoalesced: number;
  /** Pending changes dropped as no-ops. */
  noOpsDropped: number;
  /** Sync requests folded into an already pending one. */
  runsCoalesced: number;
  /** Sync attempts postponed by the min sync period. */
  runsDeferred: number;
}

/** Services kube-proxy skips: another proxy's, headless, ExternalName, no ClusterIP. */
export function serviceIgnored(svc: Service): boolean {
  const s = svc.spec;
  if (svc.metadata.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return true;
  return s.type === 'ExternalName' || !s.clusterIP || s.clusterIP === 'None';
}

/**
 * The fields of a Service kube-proxy builds ServicePorts from (BaseServicePortInfo);
 * null when it skips the Service (headless, ExternalName, no ClusterIP, other proxy).
 * targetPort is absent: kube-proxy takes ports from the endpoints.
 */
export function serviceProjection(svc: Service): string | null {
  if (serviceIgnored(svc)) return null;
  const s = svc.spec;
  return JSON.stringify([
    svc.metadata.namespace,
    svc.metadata.name,
    s.type,
    s.clusterIPs ?? [s.clusterIP],
    s.ports.map((p) => [p.name ?? '', p.protocol, p.port, p.nodePort ?? 0]),
    s.sessionAffinity,
    s.sessionAffinity === 'ClientIP'
      ? (s.sessionAffinityConfig?.clientIP.timeoutSeconds ?? 10800)
      : 0,
    s.externalIPs ?? [],
    s.loadBalancerSourceRanges ?? [],
    (svc.status?.loadBalancer.ingress ?? []).map((i) => i.ip ?? ''),
    s.externalTrafficPolicy ?? 'Cluster',
    s.internalTrafficPolicy ?? 'Cluster',
    s.healthCheckNodePort ?? 0,
  ]);
}

/** Slices kube-proxy does not watch: unlabelled, headless, another proxy's, not IPv4. */
export function sliceIgnored(slice: EndpointSlice): boolean {
  const labels = slice.metadata.labels;
  if (labels?.[SERVICE_NAME_LABEL] === undefined || labels[HEADLESS_LABEL] !== undefined) {
    return true;
  }
  return labels[SERVICE_PROXY_NAME_LABEL] !== undefined || slice.addressType !== 'IPv4';
}

/**
 * What the endpoint slice cache keeps of a slice: ports and, per endpoint, the address,
 * ready (nil = true), serving (nil = ready), terminating, node and zone.
 */
export function sliceProjection(slice: EndpointSlice): string | null {
  if (sliceIgnored(slice)) return null;
  return JSON.stringify([
    slice.metadata.namespace,
    slice.metadata.name,
    slice.metadata.labels![SERVICE_NAME_LABEL],
    slice.ports.map((p) => [p.name ?? '', p.port, p.protocol]),
    slice.endpoints.map((e) => {
      const ready = e.conditions.ready ?? true;
      return [
        e.addresses[0] ?? '',
        ready,
        e.conditions.serving ?? ready,
        e.conditions.terminating ?? false,
        e.nodeName ?? '',
        e.zone ?? '',
      ];
    }),
  ]);
}

export class ProxyFeed {
  readonly services = new ChangeTracker<Service>(serviceProjection, serviceIgnored);
  readonly slices = new ChangeTracker<EndpointSlice>(sliceProjection, sliceIgnored);
  readonly runner: BoundedFrequencyRunner;
  private syncs = 0;
  private serviceChanges = 0;
  private sliceChanges = 0;
  private announced = false;
  private readonly stops: (() => void)[] = [];
  private readonly afterSync: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    clock: VirtualClock,
    private readonly proxier: Proxier,
    opts: ProxyFeedOptions = {},
  ) {
    this.afterSync = opts.afterSync;
    const min = opts.minSyncPeriodNs ?? 1 * SECOND;
    this.runner = new BoundedFrequencyRunner(clock, () => this.flush(), {
      minIntervalNs: min,
      maxIntervalNs: Math.max(opts.syncPeriodNs ?? 30 * SECOND, min, 1),
      burstRuns: opts.burstSyncs ?? 2,
    });
  }

  /** List + watch both kinds and request the first sync. */
  start(): void {
    this.stops.push(
      this.store.watch('Service', (ev) => {
        const prev = ev.type === 'ADDED' ? undefined : (ev.old ?? ev.object);
        const cur = ev.type === 'DELETED' ? undefined : ev.object;
        if (this.services.update(prev, cur, ev.key)) this.runner.run();
      }),
      this.store.watch('EndpointSlice', (ev) => {
        const prev = ev.type === 'ADDED' ? undefined : (ev.old ?? ev.object);
        const cur = ev.type === 'DELETED' ? undefined : ev.object;
        if (this.slices.update(prev, cur, ev.key)) this.runner.run();
      }),
    );
    this.runner.start();
    this.runner.run();
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    this.runner.stop();
  }

  get stats(): ProxyFeedStats {
    const t: ChangeTrackerStats[] = [this.services.stats, this.slices.stats];
    const r: RunnerStats = this.runner.stats;
    return {
      syncs: this.syncs,
      periodicSyncs: r.periodic,
      serviceChanges: this.serviceChanges,
      sliceChanges: this.sliceChanges,
      changesCoalesced: t[0]!.coalesced + t[1]!.coalesced,
      noOpsDropped: t[0]!.noOps + t[1]!.noOps,
      runsCoalesced: r.coalesced,
      runsDeferred: r.deferred,
    };
  }

  private flush(): void {
    const p = this.proxier;
    const svcChanges = this.services.drain();
    const sliceChanges = this.slices.drain();
    for (const c of svcChanges) {
      if (c.previous === undefined && c.current !== undefined) p.onServiceAdd(c.current);
      else if (c.previous !== undefined && c.current !== undefined)
        p.onServiceUpdate(c.previous, c.current);
      else if (c.previous !== undefined) p.onServiceDelete(c.previous);
    }
    for (const c of sliceChanges) {
      if (c.previous === undefined && c.current !== undefined) p.onEndpointSliceAdd(c.current);
      else if (c.previous !== undefined && c.current !== undefined)
        p.onEndpointSliceUpdate(c.previous, c.current);
      else if (c.previous !== undefined) p.onEndpointSliceDelete(c.previous);
    }
    if (!this.announced) {
      this.announced = true;
      p.onServiceSynced();
      p.onEndpointSlicesSynced();
    }
    this.serviceChanges += svcChanges.length;
    this.sliceChanges += sliceChanges.length;
    this.syncs++;
    p.sync();
    this.afterSync?.();
  }
}
