// The packet-path reading of ipvs mode's iptables rules (iptables-rules.ts), for the dataplane:
// whether nat KUBE-SERVICES marks a new connection 0x4000 for masquerade, whether POSTROUTING
// masquerades a hairpin (KUBE-LOOP-BACK), and what the filter chains do to a packet delivered
// to a service address (source-range firewall, KUBE-IPVS-FILTER). Each function walks the
// rules in kube-proxy's order, with set lookups instead of a rule walk.
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './constants.ts';
import { SetId } from './kube-ipsets.ts';
import type { KubeIpsets } from './kube-ipsets.ts';

// The sets' bits in KubeIpsets.occupied: an empty set is skipped on that one word, without
// reading its object (on a node with only ClusterIPs, most of them; a cold line each at 10k).
const B_CLUSTER_IP = 1 << SetId.CLUSTER_IP;
const B_EXTERNAL_IP = 1 << SetId.EXTERNAL_IP;
const B_EXTERNAL_IP_LOCAL = 1 << SetId.EXTERNAL_IP_LOCAL;
const B_LOAD_BALANCER = 1 << SetId.LOAD_BALANCER;
const B_LOAD_BALANCER_FW = 1 << SetId.LOAD_BALANCER_FW;
const B_HEALTH_CHECK_NODE_PORT = 1 << SetId.HEALTH_CHECK_NODE_PORT;
/** The node-port sets: with all of them empty, KUBE-NODE-PORT marks nothing. */
const B_NODE_PORTS =
  (1 << SetId.NODE_PORT_TCP) |
  (1 << SetId.NODE_PORT_LOCAL_TCP) |
  (1 << SetId.NODE_PORT_UDP) |
  (1 << SetId.NODE_PORT_LOCAL_UDP) |
  (1 << SetId.NODE_PORT_SCTP) |
  (1 << SetId.NODE_PORT_LOCAL_SCTP);
/** The sets KUBE-IPVS-FILTER accepts on. */
const B_IPVS_FILTER_ACCEPT = B_CLUSTER_IP | B_LOAD_BALANCER | B_EXTERNAL_IP | B_EXTERNAL_IP_LOCAL;

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
  // An empty set is skipped on its occupancy bit before any lookup: most of kube-proxy's
  // sets are empty on most nodes.
  const occ = sets.occupied[0]!;
  let mark = false;
  if ((occ & B_LOAD_BALANCER) !== 0 && sets.loadBalancer.testIpPort(dst, proto, dport)) {
    // KUBE-LOAD-BALANCER: Local policy returns, otherwise mark.
    if (!sets.loadBalancerLocal.testIpPort(dst, proto, dport)) mark = true;
  }
  if ((occ & B_CLUSTER_IP) !== 0) {
    const clusterIP = sets.clusterIP;
    if (o.masqueradeAll) mark ||= clusterIP.testIpPort(dst, proto, dport);
    else if (o.clusterCIDR !== undefined) {
      // The source test first: a pod's packet (the common case) needs no set lookup here.
      mark ||= !inCluster(o, src) && clusterIP.testIpPort(dst, proto, dport);
    } else mark ||= clusterIP.testIpPort(src, proto, dport); // src,dst: a VIP talking to a VIP
  }
  const externalAccept = (!ctx.fromBridge && !ctx.srcLocal) || ctx.dstLocal;
  if ((occ & B_EXTERNAL_IP) !== 0 && sets.externalIP.testIpPort(dst, proto, dport)) {
    mark = true;
    if (externalAccept) return mark;
  }
  if (
    (occ & B_EXTERNAL_IP_LOCAL) !== 0 &&
    sets.externalIPLocal.testIpPort(dst, proto, dport) &&
    externalAccept
  )
    return mark;
  if (ctx.dstLocal && (occ & B_NODE_PORTS) !== 0) mark ||= nodePortMarks(sets, proto, dst, dport);
  return mark;
}

/** nat KUBE-NODE-PORT: the Local sets return first, then the node-port sets mark. */
function nodePortMarks(sets: KubeIpsets, proto: number, dst: number, dport: number): boolean {
  if (proto === IPPROTO_TCP) {
    if (sets.nodePortLocalTCP.hasPort(dport)) return false;
    return sets.nodePortTCP.hasPort(dport);
  }
  if (proto === IPPROTO_UDP) {
    if (sets.nodePortLocalUDP.hasPort(dport)) return false;
    return sets.nodePortUDP.hasPort(dport);
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
  return sets.loopBack.testIpPortSrc(dst, proto, dport, src) || marked;
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
  const occ = sets.occupied[0]!;
  if ((occ & B_LOAD_BALANCER_FW) !== 0 && sets.loadBalancerFW.testIpPort(dst, proto, dport)) {
    const ok =
      sets.loadBalancerSourceCIDR.testIpPortSrc(dst, proto, dport, src) ||
      sets.loadBalancerSourceIP.testIpPortSrc(dst, proto, dport, src);
    if (!ok) return FilterVerdict.Drop;
  }
  if (
    (occ & B_IPVS_FILTER_ACCEPT) !== 0 &&
    (sets.clusterIP.testIpPort(dst, proto, dport) ||
      sets.loadBalancer.testIpPort(dst, proto, dport) ||
      sets.externalIP.testIpPort(dst, proto, dport) ||
      sets.externalIPLocal.testIpPort(dst, proto, dport))
  )
    return FilterVerdict.Accept;
  if ((occ & B_HEALTH_CHECK_NODE_PORT) !== 0 && sets.healthCheckNodePort.hasPort(dport))
    return FilterVerdict.Accept;
  if (isNew && sets.ipvsIPs.testIp(dst)) return FilterVerdict.Reject;
  return FilterVerdict.Accept;
}
