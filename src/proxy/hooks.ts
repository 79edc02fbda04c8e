// What the node dataplane asks of a proxy mode, whatever the mode: run a packet's
// metadata through the mode's tables at a netfilter hook and say what to do (DNAT
// target, mark, masquerade, verdict), and tell which addresses are local. The
// iptables mode walks its chains; ipvs and nftables answer the same questions
// with hashes and maps. The words they share (packet metadata, result, hooks,
// conntrack states, trace events) live in their own files at proxy's root and are
// re-exported here, so the dataplane imports one module.
import type { EvalResult } from './eval-result.ts';
import type { Hook } from './netfilter.ts';
import type { PacketMeta } from './packet-meta.ts';
import type { Proxier } from './proxier.ts';
import type { ProxyRelay } from './relay.ts';
import type { TraceEvent } from './trace.ts';
import type { NodeViews } from './views.ts';

export { Verdict, newEvalResult, resetEvalResult } from './eval-result.ts';
export type { EvalResult } from './eval-result.ts';
export { CtState, HOOK_NAMES, Hook } from './netfilter.ts';
export { ADDR_DST_LOCAL, ADDR_SRC_LOCAL, copyPacketMeta, newPacketMeta } from './packet-meta.ts';
export type { PacketMeta } from './packet-meta.ts';
export type { TraceEvent } from './trace.ts';

/** Which tables a classification consults (the nat table only sees a flow's first packet). */
export const TABLE_NAT = 1;
export const TABLE_FILTER = 2;

export interface DataplaneProxier extends Proxier {
  /** The node's tool outputs (iptables-save, iptables -L, nft, ipvsadm, ipset) for this mode. */
  views(): NodeViews;
  /** addrtype LOCAL: node addresses, loopback, and (ipvs) service addresses on kube-ipvs0. */
  isLocalAddress(ip: number): boolean;
  /**
   * net.ipv4.conf.all.route_localnet as this mode's kube-proxy leaves it: iptables mode sets
   * it to 1 when localhost NodePorts are on (--iptables-localhost-nodeports), the other modes
   * leave the kernel's 0. Off, 127.0.0.0/8 may not leave the node's loopback: a node's
   * 127.0.0.1 → NodePort or ClusterIP is dropped once DNAT sends it elsewhere.
   */
  readonly routeLocalnet?: boolean;
  /**
   * Run `meta` through the mode's tables at `hook` (nat then filter, as the kernel orders
   * them; INPUT: filter then nat). Returns a result object the mode may reuse.
   */
  classify(meta: PacketMeta, hook: Hook, tables: number, out?: EvalResult): EvalResult;
  /**
   * Optional: told about every tracked packet of an established flow, by the flow's
   * original tuple (ipvs keeps its own connection states and counters this way). `hint` is
   * what the previous call for this flow returned (any number the first time): the mode may
   * try it before searching, and must check it, since the flow's slot may have been reused.
   */
  onTracked?(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    tcpFlags: number,
    bytes: number,
    reply: boolean,
    hint: number,
  ): number;
  /**
   * Optional, for the dataplane's per-flow cache: a number that changes whenever
   * filterEstablished() or isLocalAddress() could answer differently for the same packet
   * (rules swapped in, addresses bound or unbound). Without it nothing is cached.
   */
  flowGeneration?(): number;
  /**
   * classify(meta, hook, TABLE_FILTER, out) for a packet of an established flow, and whether
   * the walk may stand for every later packet of that flow direction: a path token >= 0 when
   * it read only what stays the same along a flow direction (addresses, ports, protocol,
   * ctstate, mark, addrtype, interfaces), -1 when something else decided (random, time).
   * Token 0 means the walk counted nothing (the dataplane then skips countPath).
   */
  filterEstablished?(meta: PacketMeta, hook: Hook, out: EvalResult): number;
  /** Count one more packet of `len` bytes on the rules a remembered walk counted. */
  countPath?(token: number, len: number): void;
  /**
   * Optional: a mode that relays connections in a process of its own (userspace mode)
   * hands the host its ports and backend choice here (src/proxy/relay.ts).
   */
  relay?(): ProxyRelay;
  /** classify() reporting each rule or lookup step, like `iptables -j TRACE`. */
  trace(meta: PacketMeta, hook: Hook, onStep: (e: TraceEvent) => void, tables?: number): EvalResult;
}
