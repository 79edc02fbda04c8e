// EndpointSlice controller (pkg/controller/endpointslice): for every Service with a
// selector, the selected pods become endpoints grouped by their resolved port set, at
// most 100 per slice, in slices named `<service>-<5 random>` labelled
// kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io. Terminating
// pods stay in as ready=false/terminating=true; a Service selecting nothing keeps one
// empty placeholder slice. Existing slices are updated in place so names stay stable.
import type { Endpoint, EndpointPort, EndpointSlice, Pod, Service } from '../../api/types.ts';
import { hasServiceSelector } from '../../api/selector.ts';
import type { PodIndex, ServiceIndex } from '../indexes.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { deepEqual, nsNameKey } from '../objects.ts';
import { tryIpToU32 } from '../../packet/addr.ts';
import {
  endpointPorts,
  orderByKey,
  podEndpointsChanged,
  podToEndpoint,
  sameEndpointPorts,
  shouldPodBeInEndpoints,
} from '../endpoint-util.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

interface Group {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

interface Plan {
  create: Group[];
  update: (Group & { slice: EndpointSlice })[];
  remove: EndpointSlice[];
}

/** Endpoints ordered by address (numerically), for stable, readable slices. */
function sortByIp(endpoints: Endpoint[]): Endpoint[] {
  const n = endpoints.length;
  if (n < 2) return endpoints;
  const ips: number[] = new Array<number>(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    ips[i] = tryIpToU32(endpoints[i]!.addresses[0]!) ?? 0;
    if (i > 0 && ips[i]! < ips[i - 1]!) sorted = false;
  }
  if (sorted) return endpoints;
  // Stable, like Array.prototype.sort on the (endpoint, address) pairs it replaces.
  const order = orderByKey(ips);
  return order.map((i) => endpoints[i]!);
}

const portsKey = (ports: readonly EndpointPort[]): string =>
  ports.map((p) => `${p.name ?? ''}/${p.port}/${p.protocol}/${p.appProtocol ?? ''}`).join(',');

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  private readonly queue = new WorkQueue();
  /** service key -> names of the slices this controller manages for it. */
  private readonly managed = new Map<string, Set<string>>();
  /** Set while this controller writes: its own slice events need no resync. */
  private writing = false;
  /** node name -> topology.kubernetes.io/zone. */
  private readonly zones = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly pods: PodIndex,
    private readonly services: ServiceIndex,
    private readonly maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
  ) {
    store.watch('Service', (ev) => this.queue.add(ev.key));
    store.watch('Pod', (ev) => {
      const pod = ev.object;
      // A new pod has no address yet: it joins endpoints when it gets one (a MODIFIED).
      if (ev.old === undefined ? !pod.status.podIP : !podEndpointsChanged(ev.old, pod)) return;
      const ns = pod.metadata.namespace!;
      for (const key of this.services.selecting(ns, pod.metadata.labels)) this.queue.add(key);
      if (ev.old !== undefined && ev.old.metadata.labels !== pod.metadata.labels) {
        for (const key of this.services.selecting(ns, ev.old.metadata.labels)) this.queue.add(key);
      }
    });
    store.watch('EndpointSlice', (ev) => this.onSlice(ev.type, ev.object));
    store.watch('Node', (ev) => {
      const zone = ev.object.metadata.labels?.['topology.kubernetes.io/zone'];
      if (ev.type === 'DELETED' || zone === undefined) this.zones.delete(ev.object.metadata.name);
      else this.zones.set(ev.object.metadata.name, zone);
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => {
      this.writing = true;
      try {
        this.sync(key);
      } finally {
        this.writing = false;
      }
    });
  }

  private onSlice(type: string, slice: EndpointSlice): void {
    const labels = slice.metadata.labels;
    const svc = labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined || labels?.[MANAGED_BY_LABEL] !== CONTROLLER_NAME) return;
    const svcKey = nsNameKey(slice.metadata.namespace, svc);
    let set = this.managed.get(svcKey);
    if (set === undefined) this.managed.set(svcKey, (set = new Set()));
    if (type === 'DELETED') {
      set.delete(slice.metadata.name);
      if (set.size === 0) this.managed.delete(svcKey);
    } else {
      set.add(slice.metadata.name);
    }
    // Someone else changed or deleted our slice: put it back the way the Service says.
    if (!this.writing) this.queue.add(svcKey);
  }

  private sync(key: string): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const svc = this.store.getByKey('Service', key);
    const existing = [...(this.managed.get(key) ?? [])]
      .sort()
      .map((n) => this.store.get('EndpointSlice', ns, n))
      .filter((s): s is EndpointSlice => s !== undefined);
    // ExternalName services and services without a selector get no managed slices.
    if (
      svc === undefined ||
      svc.spec.type === 'ExternalName' ||
      !hasServiceSelector(svc.spec.selector)
    ) {
      for (const s of existing) this.remove(s);
      return;
    }
    const plan: Plan = { create: [], update: [], remove: [] };
    const groups = this.desired(svc);
    const byGroup = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const k = portsKey(s.ports);
      let list = byGroup.get(k);
      if (list === undefined) byGroup.set(k, (list = []));
      list.push(s);
    }
    for (const [k, group] of groups) {
      this.reconcileGroup(group, byGroup.get(k) ?? [], plan);
      byGroup.delete(k);
    }
    for (const slices of byGroup.values()) plan.remove.push(...slices);
    // A Service selecting nothing keeps one empty placeholder slice.
    if (plan.create.length === 0 && plan.remove.length === existing.length) {
      const placeholder = plan.remove.find((s) => s.endpoints.length === 0 && s.ports.length === 0);
      if (placeholder !== undefined && plan.remove.length === 1) {
        plan.remove = [];
        plan.update.push({ slice: placeholder, ports: [], endpoints: [] });
      } else {
        plan.create.push({ ports: [], endpoints: [] });
      }
    }
    // finalize(): turn create+delete pairs into updates, so slice names stay stable.
    while (plan.create.length > 0 && plan.remove.length > 0) {
      plan.update.push({ slice: plan.remove.shift()!, ...plan.create.pop()! });
    }
    for (const u of plan.update) this.write(svc, u.slice, u.ports, u.endpoints);
    for (const c of plan.create) this.write(svc, undefined, c.ports, c.endpoints);
    for (const r of plan.remove) this.remove(r);
  }

  private desired(svc: Service): Map<string, Group> {
    const groups = new Map<string, Group>();
    const ns = svc.metadata.namespace!;
    const pods: Pod[] = this.pods.selectedBy(ns, svc.spec.selector);
    // Pods of one Service nearly always resolve the same ports: reuse the last group.
    let last: Group | undefined;
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i]!;
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      let g = last !== undefined && sameEndpointPorts(svc, pod, last.ports) ? last : undefined;
      if (g === undefined) {
        const ports = endpointPorts(svc, pod);
        const k = portsKey(ports);
        g = groups.get(k);
        if (g === undefined) groups.set(k, (g = { ports, endpoints: [] }));
        last = g;
      }
      g.endpoints.push(podToEndpoint(pod, svc, this.zoneOf(pod)));
    }
    return groups;
  }

  private zoneOf(pod: Pod): string | undefined {
    return pod.spec.nodeName ? this.zones.get(pod.spec.nodeName) : undefined;
  }

  /** Keep endpoints in the slice that holds them; new ones fill free room, then new slices. */
  private reconcileGroup(group: Group, slices: EndpointSlice[], plan: Plan): void {
    const home = new Map<string, number>();
    slices.forEach((s, i) => {
      const eps = s.endpoints;
      for (let j = 0; j < eps.length; j++) home.set(eps[j]!.addresses[0]!, i);
    });
    const fill: Endpoint[][] = slices.map(() => []);
    let homeless: Endpoint[] = [];
    for (const e of group.endpoints) {
      const i = home.get(e.addresses[0]!);
      if (i !== undefined && fill[i]!.length < this.maxPerSlice) fill[i]!.push(e);
      else homeless.push(e);
    }
    homeless = sortByIp(homeless);
    let next = 0;
    for (const list of fill) {
      while (next < homeless.length && list.length < this.maxPerSlice) list.push(homeless[next++]!);
    }
    fill.forEach((endpoints, i) => {
      const slice = slices[i]!;
      if (endpoints.length === 0) plan.remove.push(slice);
      else plan.update.push({ slice, ports: group.ports, endpoints: sortByIp(endpoints) });
    });
    for (; next < homeless.length; next += this.maxPerSlice) {
      plan.create.push({
        ports: group.ports,
        endpoints: homeless.slice(next, next + this.maxPerSlice),
      });
    }
  }

  private labels(svc: Service): Record<string, string> {
    const labels: Record<string, string> = { ...svc.metadata.labels };
    labels[SERVICE_NAME_LABEL] = svc.metadata.name;
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
    if (svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    return labels;
  }

  private write(
    svc: Service,
    slice: EndpointSlice | undefined,
    ports: EndpointPort[],
    endpoints: Endpoint[],
  ): void {
    const labels = this.labels(svc);
    if (slice === undefined) {
      this.store.create<EndpointSlice>({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: '',
          generateName: `${svc.metadata.name}-`,
          namespace: svc.metadata.namespace!,
          labels,
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: svc.metadata.name,
              uid: svc.metadata.uid!,
              controller: true,
            },
          ],
        },
        addressType: 'IPv4',
        endpoints,
        ports,
      });
      return;
    }
    if (
      deepEqual(slice.endpoints, endpoints) &&
      deepEqual(slice.ports, ports) &&
      deepEqual(slice.metadata.labels, labels)
    ) {
      return;
    }
    this.store.update({ ...slice, metadata: { ...slice.metadata, labels }, endpoints, ports });
  }

  private remove(slice: EndpointSlice): void {
    this.store.delete('EndpointSlice', slice.metadata.namespace, slice.metadata.name);
  }
}
