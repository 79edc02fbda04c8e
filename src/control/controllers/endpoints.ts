// Endpoints controller (pkg/controller/endpoint): the legacy core/v1 Endpoints object
// named after each Service with a selector, as `kubectl get endpoints` reads it. Ready
// pods go to addresses, unready ones to notReadyAddresses (publishNotReadyAddresses
// puts everything in addresses); terminating pods are left out unless published.
// Subsets are repacked so addresses with the same ports share one subset.
import type { EndpointAddress, EndpointPort, Endpoints, Service } from '../../api/types.ts';
import { hasServiceSelector } from '../../api/selector.ts';
import { tryIpToU32 } from '../../packet/addr.ts';
import type { PodIndex, ServiceIndex } from '../indexes.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { deepEqual } from '../objects.ts';
import {
  endpointPorts,
  hostnameFor,
  orderByKey,
  podEndpointsChanged,
  podRef,
  sameEndpointPorts,
  shouldPodBeInEndpoints,
} from '../endpoint-util.ts';
import { isPodReady } from '../pod-util.ts';
import { HEADLESS_LABEL } from './endpointslice.ts';

/** Endpoints objects are capped; the rest is dropped and annotated (over-capacity). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

type Subset = Endpoints['subsets'][number];

const portKey = (p: EndpointPort): string => `${p.name ?? ''}/${p.port}/${p.protocol}`;

/** Field-by-field equal port lists (same order). */
function samePortList(a: readonly EndpointPort[], b: readonly EndpointPort[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.port !== y.port ||
      x.protocol !== y.protocol ||
      x.name !== y.name ||
      x.appProtocol !== y.appProtocol
    ) {
      return false;
    }
  }
  return true;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly queue = new WorkQueue();

  constructor(
    private readonly store: Store,
    private readonly pods: PodIndex,
    private readonly services: ServiceIndex,
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
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private sync(key: string): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.store.getByKey('Service', key);
    const current = this.store.getByKey('Endpoints', key);
    if (svc === undefined) {
      if (current !== undefined) this.store.delete('Endpoints', ns, name);
      return;
    }
    // Without a selector the user owns the Endpoints object.
    if (svc.spec.type === 'ExternalName' || !hasServiceSelector(svc.spec.selector)) return;
    const { subsets, truncated } = this.subsets(svc);
    const labels: Record<string, string> = { ...svc.metadata.labels };
    if (svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    const annotations: Record<string, string> = {};
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    const metadata: Endpoints['metadata'] = { name, namespace: ns, labels };
    if (truncated) metadata.annotations = annotations;
    if (current === undefined) {
      this.store.create<Endpoints>({ apiVersion: 'v1', kind: 'Endpoints', metadata, subsets });
      return;
    }
    if (
      deepEqual(current.subsets, subsets) &&
      deepEqual(current.metadata.labels, labels) &&
      deepEqual(current.metadata.annotations, metadata.annotations)
    ) {
      return;
    }
    this.store.update({ ...current, metadata: { ...current.metadata, ...metadata }, subsets });
  }

  private subsets(svc: Service): { subsets: Subset[]; truncated: boolean } {
    const publish = svc.spec.publishNotReadyAddresses === true;
    const headlessNoPorts = svc.spec.clusterIP === 'None' && svc.spec.ports.length === 0;
    // One entry per pod with an address; pods sharing an IP (hostNetwork) are merged below.
    const entries: { addr: EndpointAddress; ready: boolean; ports: EndpointPort[] }[] = [];
    // Pods of one Service mostly resolve the same ports: share the last list.
    let last: EndpointPort[] | undefined;
    for (const pod of this.pods.selectedBy(svc.metadata.namespace!, svc.spec.selector)) {
      if (!shouldPodBeInEndpoints(pod, publish)) continue;
      let ports: EndpointPort[];
      if (headlessNoPorts) ports = [];
      else if (last !== undefined && sameEndpointPorts(svc, pod, last)) ports = last;
      else ports = last = endpointPorts(svc, pod);
      if (ports.length === 0 && !headlessNoPorts) continue;
      const ip = pod.status.podIP!;
      const hostname = hostnameFor(pod, svc);
      const nodeName = pod.spec.nodeName;
      let addr: EndpointAddress;
      // The usual address as one literal (fields added one by one spill into a PropertyArray).
      if (hostname === undefined && nodeName) {
        addr = { ip, nodeName, targetRef: podRef(pod) };
      } else {
        addr = { ip };
        if (hostname !== undefined) addr.hostname = hostname;
        if (nodeName) addr.nodeName = nodeName;
        addr.targetRef = podRef(pod);
      }
      entries.push({ addr, ready: publish || isPodReady(pod), ports });
    }
    // RepackSubsets: one subset per distinct port set.
    const bySet = new Map<
      string,
      Subset & { addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[] }
    >();
    let total = 0;
    let unique = 0;
    const n: number[] = new Array<number>(entries.length);
    for (let i = 0; i < entries.length; i++) n[i] = tryIpToU32(entries[i]!.addr.ip) ?? 0;
    // Stable by address; of pods sharing an address the last one listed stands for it.
    const order = orderByKey(n);
    // Addresses of one Service nearly always have the same ports: sort and key them once.
    let lastRaw: EndpointPort[] | undefined;
    let lastSorted: EndpointPort[] = [];
    let lastKey = '';
    for (let o = 0; o < order.length; o++) {
      const e = entries[order[o]!]!;
      if (o + 1 < order.length && entries[order[o + 1]!]!.addr.ip === e.addr.ip) continue;
      unique++;
      if (total >= MAX_ENDPOINTS_ADDRESSES) continue;
      total++;
      if (lastRaw === undefined || !samePortList(lastRaw, e.ports)) {
        lastRaw = e.ports;
        lastSorted = [...e.ports].sort((a, b) => (portKey(a) < portKey(b) ? -1 : 1));
        lastKey = lastSorted.map(portKey).join(',');
      }
      const ports = lastSorted;
      const k = lastKey;
      let s = bySet.get(k);
      if (s === undefined) {
        bySet.set(k, (s = { addresses: [], notReadyAddresses: [], ports: [...ports] }));
      }
      (e.ready ? s.addresses : s.notReadyAddresses).push(e.addr);
    }
    const subsets: Subset[] = [];
    for (const k of [...bySet.keys()].sort()) {
      const s = bySet.get(k)!;
      const out: Subset = {};
      if (s.addresses.length > 0) out.addresses = s.addresses;
      if (s.notReadyAddresses.length > 0) out.notReadyAddresses = s.notReadyAddresses;
      if (s.ports!.length > 0) out.ports = s.ports!;
      subsets.push(out);
    }
    return { subsets, truncated: unique > MAX_ENDPOINTS_ADDRESSES };
  }
}
