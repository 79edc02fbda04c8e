// The front half every rule-compiling mode shares: the Proxier handlers feed one
// ServiceMap (kube-proxy's service and endpoint change trackers), and `initialized`
// says both initial lists have arrived. Modes extend it and compile in sync().
import type { EndpointSlice, Service } from '../api/types.ts';
import type { Proxier } from './proxier.ts';
import { ServiceMap } from './service-map.ts';

export abstract class ServiceMapProxier implements Proxier {
  readonly serviceMap: ServiceMap;
  private servicesSynced = false;
  private endpointSlicesSynced = false;

  constructor(nodeName: string) {
    this.serviceMap = new ServiceMap(nodeName);
  }

  onServiceAdd(service: Service): void {
    this.serviceMap.updateService(undefined, service);
  }
  onServiceUpdate(oldService: Service, service: Service): void {
    this.serviceMap.updateService(oldService, service);
  }
  onServiceDelete(service: Service): void {
    this.serviceMap.updateService(service, undefined);
  }
  onServiceSynced(): void {
    this.servicesSynced = true;
  }
  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.serviceMap.updateEndpointSlice(slice, false);
  }
  onEndpointSliceUpdate(_oldSlice: EndpointSlice, slice: EndpointSlice): void {
    this.serviceMap.updateEndpointSlice(slice, false);
  }
  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.serviceMap.updateEndpointSlice(slice, true);
  }
  onEndpointSlicesSynced(): void {
    this.endpointSlicesSynced = true;
  }

  /** Both initial lists were delivered (kube-proxy does not sync before that; we do). */
  get initialized(): boolean {
    return this.servicesSynced && this.endpointSlicesSynced;
  }

  abstract sync(): void;
}
