// The packet-path reading of ipvs mode's iptables rules (iptables-rules.ts), for the dataplane:
// whether nat KUBE-SERVICES marks a new connection 0x4000 for masquerade, whether POSTROUTING
// masquerades a hairpin (KUBE-LOOP-BACK), and what the filter chains do to a packet delivered
// to a service address (source-range firewall, KUBE-IPVS-FILTER). Each function walks the
// rules in kube-proxy's order, with set lookups instead of a rule walk.
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './constants.ts';
import type { KubeIpsets } from './kube-ipsets.ts';

/** What the caller knows about the packet beyond its addresses. */
export interface PacketContext {
  /** addrtype --src-type LOCAL: sent by this node. */
  readonly srcLocal: boolean;
  /** addrtype --dst-type LOCAL: a node address, a kube-ipvs0 address, or 127/8. */
  readonly dstLocal: boolean;
  /** physdev --physdev-is-in: arrived through a bridge port (a local pod behind a bridge). */
  readonly fromBridge: boolean;
}

export interface MasqueradeOptions {
  readonly masqueradeAll: boolean;
  /** --cluster-cidr as [base, mask], or undefined without a local-traffic detector. */
  readonly clusterCIDR: readonly [number, number] | undefined;
}

function inCluster(o: MasqueradeOptions, ip: number): boolean {
  return o.clusterCIDR !== undefined && (ip & o.clusterCIDR[1]) >>> 0 === o.clusterCIDR[0];
}

/**
 * nat KUBE-SERVICES for the first packet of a connection (PREROUTING or OUTPUT): true when a
 * rule jumps to KUBE-MARK-MASQ before the chain ends or ACCEPTs.
 */
export function marksForMasquerade(
  sets: KubeIpsets,
  o: MasqueradeOptions,
  proto: number,
  src: number,
  dst: number,
  dport: number,
  ctx: PacketContext,
): boolean {
  if (src >>> 24 === 127) return false; // -s 127.0.0.0/8 -j RETURN
  // Each set is tested only when it has members (`count !== 0` inline, no call for an empty
  // one: most of kube-proxy's sets are empty on most nodes).
  let mark = false;
  const lb = sets.loadBalancer;
  if (lb.count !== 0 && lb.testIpPort(dst, proto, dport)) {
    // KUBE-LOAD-BALANCER: Local policy returns, otherwise mark.
    const local = sets.loadBalancerLocal;
    if (local.count === 0 || !local.testIpPort(dst, proto, dport)) mark = true;
  }
  const clusterIP = sets.clusterIP;
  if (clusterIP.count !== 0) {
    if (o.masqueradeAll) mark ||= clusterIP.testIpPort(dst, proto, dport);
    else if (o.clusterCIDR !== undefined) {
      // The source test first: a pod's packet (the common case) needs no set lookup here.
      mark ||= !inCluster(o, src) && clusterIP.testIpPort(dst, proto, dport);
    } else mark ||= clusterIP.testIpPort(src, proto, dport); // src,dst: a VIP talking to a VIP
  }
  const externalAccept = (!ctx.fromBridge && !ctx.srcLocal) || ctx.dstLocal;
  const ext = sets.externalIP;
  if (ext.count !== 0 && ext.testIpPort(dst, proto, dport)) {
    mark = true;
    if (externalAccept) return mark;
  }
  const extLocal = sets.externalIPLocal;
  if (extLocal.count !== 0 && extLocal.testIpPort(dst, proto, dport) && externalAccept) return mark;
  if (ctx.dstLocal) mark ||= nodePortMarks(sets, proto, dst, dport);
  return mark;
}

/** nat KUBE-NODE-PORT: the Local sets return first, then the node-port sets mark. */
function nodePortMarks(sets: KubeIpsets, proto: number, dst: number, dport: number): boolean {
  if (proto === IPPROTO_TCP) {
    const local = sets.nodePortLocalTCP;
    if (local.count !== 0 && local.hasPort(dport)) return false;
    const np = sets.nodePortTCP;
    return np.count !== 0 && np.hasPort(dport);
  }
  if (proto === IPPROTO_UDP) {
    const local = sets.nodePortLocalUDP;
    if (local.count !== 0 && local.hasPort(dport)) return false;
    const np = sets.nodePortUDP;
    return np.count !== 0 && np.hasPort(dport);
  }
  if (proto === IPPROTO_SCTP) {
    if (sets.nodePortLocalSCTP.testIpPort(dst, proto, dport)) return false;
    return sets.nodePortSCTP.testIpPort(dst, proto, dport);
  }
  return false;
}

/**
 * nat KUBE-POSTROUTING after DNAT: MASQUERADE a hairpin (KUBE-LOOP-BACK dst,dst,src: the
 * endpoint reaching itself), or a packet carrying the 0x4000 mark.
 */
export function postroutingMasquerades(
  sets: KubeIpsets,
  proto: number,
  src: number,
  dst: number,
  dport: number,
  marked: boolean,
): boolean {
  const loop = sets.loopBack;
  return (loop.count !== 0 && loop.testIpPortSrc(dst, proto, dport, src)) || marked;
}

export const enum FilterVerdict {
  Accept = 0,
  Drop = 1,
  /** REJECT: ICMP port unreachable. */
  Reject = 2,
}

/**
 * filter INPUT for a packet to a local address: KUBE-PROXY-FIREWALL (load-balancer source
 * ranges), then KUBE-IPVS-FILTER (new connections to a kube-ipvs0 address on a port that is
 * no service are rejected, kubernetes#72236). `isNew` is ctstate NEW.
 */
export function inputFilter(
  sets: KubeIpsets,
  proto: number,
  src: number,
  dst: number,
  dport: number,
  isNew: boolean,
): FilterVerdict {
  const fw = sets.loadBalancerFW;
  if (fw.count !== 0 && fw.testIpPort(dst, proto, dport)) {
    const ok =
      sets.loadBalancerSourceCIDR.testIpPortSrc(dst, proto, dport, src) ||
      sets.loadBalancerSourceIP.testIpPortSrc(dst, proto, dport, src);
    if (!ok) return FilterVerdict.Drop;
  }
  const lb = sets.loadBalancer;
  const cip = sets.clusterIP;
  const ext = sets.externalIP;
  const extLocal = sets.externalIPLocal;
  if (
    (cip.count !== 0 && cip.testIpPort(dst, proto, dport)) ||
    (lb.count !== 0 && lb.testIpPort(dst, proto, dport)) ||
    (ext.count !== 0 && ext.testIpPort(dst, proto, dport)) ||
    (extLocal.count !== 0 && extLocal.testIpPort(dst, proto, dport))
  )
    return FilterVerdict.Accept;
  const hc = sets.healthCheckNodePort;
  if (hc.count !== 0 && hc.hasPort(dport)) return FilterVerdict.Accept;
  if (isNew && sets.ipvsIPs.testIp(dst)) return FilterVerdict.Reject;
  return FilterVerdict.Accept;
}
