// EndpointSlice mirroring (pkg/controller/endpointslicemirroring): for a Service without
// a selector whose Endpoints are written by hand, the Endpoints are mirrored into
// EndpointSlices managed by endpointslicemirroring-controller.k8s.io, because kube-proxy
// reads only slices. Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true
// (the API server's own default/kubernetes) are left alone.
import type { Endpoint, EndpointSlice, Endpoints } from '../../api/types.ts';
import { hasServiceSelector } from '../../api/selector.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';
import { deepEqual, nsNameKey } from '../objects.ts';
import { MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL } from './endpointslice.ts';

export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';

interface Desired {
  ports: EndpointSlice['ports'];
  endpoints: Endpoint[];
}

export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslice-mirroring';
  private readonly queue = new WorkQueue();
  private readonly managed = new Map<string, Set<string>>();

  constructor(private readonly store: Store) {
    store.watch('Endpoints', (ev) => this.queue.add(ev.key));
    store.watch('Service', (ev) => this.queue.add(ev.key));
    store.watch('EndpointSlice', (ev) => {
      const l = ev.object.metadata.labels;
      const svc = l?.[SERVICE_NAME_LABEL];
      if (svc === undefined || l?.[MANAGED_BY_LABEL] !== MIRRORING_CONTROLLER_NAME) return;
      const key = nsNameKey(ev.object.metadata.namespace, svc);
      let set = this.managed.get(key);
      if (set === undefined) this.managed.set(key, (set = new Set()));
      if (ev.type === 'DELETED') set.delete(ev.object.metadata.name);
      else set.add(ev.object.metadata.name);
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private sync(key: string): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.store.get('Service', ns, name);
    const ep = this.store.get('Endpoints', ns, name);
    const existing = [...(this.managed.get(key) ?? [])].sort();
    const mirror =
      svc !== undefined &&
      ep !== undefined &&
      !hasServiceSelector(svc.spec.selector) &&
      ep.metadata.labels?.[SKIP_MIRROR_LABEL] !== 'true';
    const desired = mirror ? this.desired(ep) : [];
    desired.forEach((d, i) => {
      const current =
        existing[i] === undefined ? undefined : this.store.get('EndpointSlice', ns, existing[i]);
      const labels = {
        ...svc!.metadata.labels,
        [SERVICE_NAME_LABEL]: name,
        [MANAGED_BY_LABEL]: MIRRORING_CONTROLLER_NAME,
      };
      if (current === undefined) {
        this.store.create<EndpointSlice>({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name: '',
            generateName: `${name}-`,
            namespace: ns,
            labels,
            ownerReferences: [
              {
                apiVersion: 'v1',
                kind: 'Endpoints',
                name,
                uid: ep!.metadata.uid!,
                controller: true,
              },
            ],
          },
          addressType: 'IPv4',
          endpoints: d.endpoints,
          ports: d.ports,
        });
      } else if (
        !deepEqual(current.endpoints, d.endpoints) ||
        !deepEqual(current.ports, d.ports) ||
        !deepEqual(current.metadata.labels, labels)
      ) {
        this.store.update({
          ...current,
          metadata: { ...current.metadata, labels },
          endpoints: d.endpoints,
          ports: d.ports,
        });
      }
    });
    for (const n of existing.slice(desired.length)) {
      if (this.store.get('EndpointSlice', ns, n) !== undefined)
        this.store.delete('EndpointSlice', ns, n);
    }
  }

  private desired(ep: Endpoints): Desired[] {
    const out: Desired[] = [];
    for (const ss of ep.subsets) {
      const ports = (ss.ports ?? []).map((p) => ({ ...p, name: p.name ?? '' }));
      const endpoints: Endpoint[] = [];
      const add = (ready: boolean) => (a: NonNullable<typeof ss.addresses>[number]) => {
        const e: Endpoint = { addresses: [a.ip], conditions: { ready } };
        if (a.hostname !== undefined) e.hostname = a.hostname;
        if (a.nodeName !== undefined) e.nodeName = a.nodeName;
        if (a.targetRef !== undefined) e.targetRef = a.targetRef;
        endpoints.push(e);
      };
      (ss.addresses ?? []).forEach(add(true));
      (ss.notReadyAddresses ?? []).forEach(add(false));
      for (let i = 0; i < endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
        out.push({ ports, endpoints: endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
      }
    }
    return out;
  }
}
