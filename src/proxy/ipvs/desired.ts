// What kube-proxy's ipvs syncProxyRules wants for one service port (pkg/proxy/ipvs/proxier.go):
// a virtual service per ClusterIP, external IP, load-balancer IP and node IP:nodePort, each with
// its real servers (syncEndpoint), and the ipset members that drive the few iptables rules.
// Pure: the proxier diffs this against what is installed.
import { cidrContains, ipToU32 } from '../../packet/addr.ts';
import { categorizeEndpoints } from '../model.ts';
import type { EndpointInfo, ServicePortInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SvcFlag } from './constants.ts';
import * as S from './kube-ipsets.ts';
import type { SetEntry } from './kube-ipsets.ts';
import type { ServiceSpec } from './service.ts';

/** kube-proxy's utilipvs.FlagSourceHash (IP_VS_SVC_F_SCHED2: sh-port / mh-port). */
export const FLAG_SOURCE_HASH = SvcFlag.SCHED2;

export interface DesiredVs {
  /** VirtualServer.String(): `10.96.0.1:443/TCP`. */
  readonly key: string;
  readonly spec: ServiceSpec;
  /** Bind the address to kube-ipvs0 (not for node IPs). */
  readonly bind: boolean;
  readonly endpoints: readonly EndpointInfo[];
}

export interface DesiredPort {
  readonly vs: DesiredVs[];
  readonly entries: SetEntry[];
  /** LB ip,proto,port that node processes must not reach (KUBE-IPVS-OUT-FILTER DROP). */
  readonly lbNoNodeAccess: (readonly [string, string, number])[];
}

export interface DesiredContext {
  /** Node addresses outside kube-ipvs0 (NodePort virtual services, and "don't bind" checks). */
  readonly nodeIPs: readonly string[];
  /** kube-proxy's nodeIP (LB source ranges containing it admit node-originated traffic). */
  readonly nodeIP: number | undefined;
  /** Scheduler name and extra SCHED flags for this service port. */
  readonly scheduler: (info: ServicePortInfo) => { readonly name: string; readonly flags: number };
}

const PROTO: Readonly<Record<string, number>> = {
  TCP: IPPROTO_TCP,
  UDP: IPPROTO_UDP,
  SCTP: IPPROTO_SCTP,
};

/** syncEndpoint()'s endpoint choice: Local policy falls back to cluster endpoints (kubernetes#97081). */
export function vsEndpoints(
  entry: ServicePortEntry,
  onlyNodeLocal: boolean,
): readonly EndpointInfo[] {
  const { clusterEndpoints, localEndpoints } = categorizeEndpoints(entry.endpoints, entry.info);
  if (onlyNodeLocal) return localEndpoints.length > 0 ? localEndpoints : clusterEndpoints;
  return clusterEndpoints;
}

export function desiredForPort(entry: ServicePortEntry, ctx: DesiredContext): DesiredPort {
  const info = entry.info;
  const proto = info.protocol.toLowerCase();
  const protoNum = PROTO[info.protocol] ?? IPPROTO_TCP;
  const sched = ctx.scheduler(info);
  let flags = sched.flags;
  let timeout = 0;
  if (info.sessionAffinity === 'ClientIP') {
    flags |= SvcFlag.PERSISTENT;
    timeout = info.stickyMaxAgeSeconds;
  }
  if (sched.name === 'mh') flags |= FLAG_SOURCE_HASH;
  const out: DesiredPort = { vs: [], entries: [], lbNoNodeAccess: [] };
  const vs = (ip: string, port: number, bind: boolean, eps: readonly EndpointInfo[]) =>
    out.vs.push({
      key: `${ip}:${port}/${info.protocol}`,
      spec: { protocol: protoNum, addr: ipToU32(ip), port, scheduler: sched.name, flags, timeout },
      bind,
      endpoints: eps,
    });
  const add = (set: string, e: string) => out.entries.push([set, e]);
  const nodeIPs = new Set(ctx.nodeIPs);
  const ipPort = (ip: string) => `${ip},${proto}:${info.port}`;

  // Hairpin: a local endpoint reaching itself through the service is masqueraded.
  for (const ep of entry.endpoints) {
    if (ep.isLocal) add(S.KUBE_LOOP_BACK, `${ep.ipString},${proto}:${ep.port},${ep.ipString}`);
  }

  add(S.KUBE_CLUSTER_IP, ipPort(info.clusterIPString));
  vs(info.clusterIPString, info.port, true, vsEndpoints(entry, info.internalPolicyLocal));

  const external = vsEndpoints(entry, info.externalPolicyLocal);
  for (const ip of info.externalIPs) {
    add(info.externalPolicyLocal ? S.KUBE_EXTERNAL_IP_LOCAL : S.KUBE_EXTERNAL_IP, ipPort(ip));
    vs(ip, info.port, !nodeIPs.has(ip), external);
  }

  for (const ip of info.loadBalancerIPs) {
    add(S.KUBE_LOAD_BALANCER, ipPort(ip));
    if (info.externalPolicyLocal) add(S.KUBE_LOAD_BALANCER_LOCAL, ipPort(ip));
    if (info.loadBalancerSourceRanges.length > 0) {
      add(S.KUBE_LOAD_BALANCER_FW, ipPort(ip));
      let allowFromNode = false;
      info.loadBalancerSourceCidrs.forEach((c, i) => {
        add(S.KUBE_LOAD_BALANCER_SOURCE_CIDR, `${ipPort(ip)},${info.loadBalancerSourceRanges[i]}`);
        if (ctx.nodeIP !== undefined && cidrContains(c, ctx.nodeIP)) allowFromNode = true;
      });
      if (allowFromNode) add(S.KUBE_LOAD_BALANCER_SOURCE_IP, `${ipPort(ip)},${ip}`);
      else out.lbNoNodeAccess.push([ip, proto, info.port]);
    }
    vs(ip, info.port, !nodeIPs.has(ip), external);
  }

  if (info.nodePort !== 0 && ctx.nodeIPs.length > 0) {
    const local = info.externalPolicyLocal;
    if (proto === 'sctp') {
      for (const ip of ctx.nodeIPs) {
        add(S.KUBE_NODE_PORT_SCTP, `${ip},sctp:${info.nodePort}`);
        if (local) add(S.KUBE_NODE_PORT_LOCAL_SCTP, `${ip},sctp:${info.nodePort}`);
      }
    } else {
      const udp = proto === 'udp';
      add(udp ? S.KUBE_NODE_PORT_UDP : S.KUBE_NODE_PORT_TCP, String(info.nodePort));
      if (local)
        add(udp ? S.KUBE_NODE_PORT_LOCAL_UDP : S.KUBE_NODE_PORT_LOCAL_TCP, String(info.nodePort));
    }
    for (const ip of ctx.nodeIPs) vs(ip, info.nodePort, false, external);
  }

  if (info.healthCheckNodePort !== 0) {
    add(S.KUBE_HEALTH_CHECK_NODE_PORT, String(info.healthCheckNodePort));
  }
  return out;
}
