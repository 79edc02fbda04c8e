// A recording Proxier for tests (kube-proxy keeps fakes beside interfaces): it stores
// every call in order and keeps the service and slice maps a real mode would compile.
import type { EndpointSlice, Service } from '../api/types.ts';
import type { Proxier } from './proxier.ts';

export type ProxierCall =
  | { op: 'serviceAdd'; service: Service }
  | { op: 'serviceUpdate'; old: Service; service: Service }
  | { op: 'serviceDelete'; service: Service }
  | { op: 'servicesSynced' }
  | { op: 'sliceAdd'; slice: EndpointSlice }
  | { op: 'sliceUpdate'; old: EndpointSlice; slice: EndpointSlice }
  | { op: 'sliceDelete'; slice: EndpointSlice }
  | { op: 'slicesSynced' }
  | { op: 'sync' };

const key = (o: { metadata: { namespace?: string; name: string } }): string =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class FakeProxier implements Proxier {
  calls: ProxierCall[] = [];
  /** Current state as delivered: `ns/name` -> object. */
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice>();
  syncs = 0;

  onServiceAdd(service: Service): void {
    this.calls.push({ op: 'serviceAdd', service });
    this.services.set(key(service), service);
  }
  onServiceUpdate(old: Service, service: Service): void {
    this.calls.push({ op: 'serviceUpdate', old, service });
    this.services.set(key(service), service);
  }
  onServiceDelete(service: Service): void {
    this.calls.push({ op: 'serviceDelete', service });
    this.services.delete(key(service));
  }
  onServiceSynced(): void {
    this.calls.push({ op: 'servicesSynced' });
  }
  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.calls.push({ op: 'sliceAdd', slice });
    this.slices.set(key(slice), slice);
  }
  onEndpointSliceUpdate(old: EndpointSlice, slice: EndpointSlice): void {
    this.calls.push({ op: 'sliceUpdate', old, slice });
    this.slices.set(key(slice), slice);
  }
  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.calls.push({ op: 'sliceDelete', slice });
    this.slices.delete(key(slice));
  }
  onEndpointSlicesSynced(): void {
    this.calls.push({ op: 'slicesSynced' });
  }
  sync(): void {
    this.calls.push({ op: 'sync' });
    this.syncs++;
  }

  /** Forget the recorded calls (state maps stay). */
  reset(): void {
    this.calls = [];
    this.syncs = 0;
  }

  /** The ops recorded, e.g. ['sliceUpdate', 'sync']. */
  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
