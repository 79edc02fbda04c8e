// The front half every mode shares: the Proxier handlers feed one ServiceMap
// (kube-proxy's service and endpoint change trackers), `initialized` says both initial
// lists have arrived, addrtype LOCAL knows the node's addresses, and afterDnat() gives
// the packet as the tables after a DNAT see it. Modes extend it and compile (iptables,
// nftables) or diff (ipvs) in sync().
import type { EndpointSlice, Service } from '../api/types.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import type { EvalResult } from './eval-result.ts';
import { CtState } from './netfilter.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL, copyPacketMeta, newPacketMeta } from './packet-meta.ts';
import type { PacketMeta } from './packet-meta.ts';
import type { Proxier } from './proxier.ts';
import { ServiceMap } from './service-map.ts';

const CT_DNAT = CtState.DNAT;

export abstract class ServiceMapProxier implements Proxier {
  readonly serviceMap: ServiceMap;
  private servicesSynced = false;
  private endpointSlicesSynced = false;

  /** The node IPs, as a short list: a loop over a few u32s beats a Set lookup per packet. */
  private readonly localIPs: Uint32Array;
  private readonly dnatScratch = newPacketMeta();

  constructor(nodeName: string, nodeIPs: readonly string[]) {
    this.serviceMap = new ServiceMap(nodeName);
    this.localIPs = Uint32Array.from(
      new Set(nodeIPs.map((ip) => tryIpToU32(ip)).filter((n): n is number => n !== undefined)),
    );
  }

  /** addrtype LOCAL (nftables: `fib daddr type local`): a node IP or loopback. */
  isLocalAddress(ip: number): boolean {
    const a = ip >>> 0;
    if (a >>> 24 === 127) return true;
    const l = this.localIPs;
    for (let i = 0; i < l.length; i++) if (l[i] === a) return true;
    return false;
  }

  /** ADDR_SRC_LOCAL / ADDR_DST_LOCAL for a source and destination. */
  addrFlags(src: number, dst: number): number {
    return (
      (this.isLocalAddress(src) ? ADDR_SRC_LOCAL : 0) |
      (this.isLocalAddress(dst) ? ADDR_DST_LOCAL : 0)
    );
  }

  /**
   * The packet as the tables after a DNAT see it: `meta` with the new destination from `out`,
   * CtState.DNAT and addrtype recomputed. One scratch object, overwritten by the next call.
   */
  protected afterDnat(meta: PacketMeta, out: EvalResult): PacketMeta {
    const p = copyPacketMeta(this.dnatScratch, meta);
    p.dst = out.dnatIp;
    p.dport = out.dnatPort;
    p.ctstate = meta.ctstate | CT_DNAT;
    p.addrFlags = this.addrFlags(p.src, p.dst);
    return p;
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
