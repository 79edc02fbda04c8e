// The Proxier interface: how the control plane (src/control) feeds a proxy mode,
// modelled on kube-proxy's proxy.Provider (pkg/proxy/types.go). The control plane's
// change trackers and bounded-frequency runner call these; each mode (iptables, ipvs,
// nftables) implements them and compiles its tables in sync().
import type { EndpointSlice, Service } from '../api/types.ts';

export interface ServiceHandler {
  onServiceAdd(service: Service): void;
  onServiceUpdate(oldService: Service, service: Service): void;
  onServiceDelete(service: Service): void;
  /** All services present at start-up have been delivered. */
  onServiceSynced(): void;
}

export interface EndpointSliceHandler {
  onEndpointSliceAdd(slice: EndpointSlice): void;
  onEndpointSliceUpdate(oldSlice: EndpointSlice, slice: EndpointSlice): void;
  onEndpointSliceDelete(slice: EndpointSlice): void;
  /** All endpoint slices present at start-up have been delivered. */
  onEndpointSlicesSynced(): void;
}

export interface Proxier extends ServiceHandler, EndpointSliceHandler {
  /** Compile the desired state from everything delivered so far and swap it in. */
  sync(): void;
}
