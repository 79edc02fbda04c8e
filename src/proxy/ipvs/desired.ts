// What kube-proxy's ipvs syncProxyRules wants for one service port (pkg/proxy/ipvs/proxier.go):
// a virtual service per ClusterIP, external IP, load-balancer IP and node IP:nodePort, each with
// its real servers (syncEndpoint), and the ipset members that drive the few iptables rules.
// Pure: the proxier diffs this against what is installed.
import { cidrContains, ipToU32 } from '../../packet/addr.ts';
import { categorizeEndpoints } from '../model.ts';
import type { EndpointInfo } from '../model.ts';
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
  /** Scheduler name and extra SCHED flags for service `ns/name`'s ports. */
  readonly scheduler: (service: string) => { readonly name: string; readonly flags: number };
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

/** What every virtual service of one service port shares. */
interface VsTemplate {
  readonly out: DesiredPort;
  readonly protocol: string;
  readonly protoNum: number;
  readonly scheduler: string;
  readonly flags: number;
  readonly timeout: number;
}

function ipPort(ip: string, proto: string, port: number): string {
  return `${ip},${proto}:${port}`;
}

function pushVs(
  t: VsTemplate,
  ip: string,
  port: number,
  bind: boolean,
  endpoints: readonly EndpointInfo[],
): void {
  t.out.vs.push({
    key: `${ip}:${port}/${t.protocol}`,
    spec: {
      protocol: t.protoNum,
      addr: ipToU32(ip),
      port,
      scheduler: t.scheduler,
      flags: t.flags,
      timeout: t.timeout,
    },
    bind,
    endpoints,
  });
}

export function desiredForPort(
  entry: ServicePortEntry,
  ctx: DesiredContext,
  sched: { readonly name: string; readonly flags: number } = ctx.scheduler(
    `${entry.info.name.namespace}/${entry.info.name.name}`,
  ),
): DesiredPort {
  const info = entry.info;
  const proto = info.protocol.toLowerCase();
  const protoNum = PROTO[info.protocol] ?? IPPROTO_TCP;
  let flags = sched.flags;
  let timeout = 0;
  if (info.sessionAffinity === 'ClientIP') {
    flags |= SvcFlag.PERSISTENT;
    timeout = info.stickyMaxAgeSeconds;
  }
  if (sched.name === 'mh') flags |= FLAG_SOURCE_HASH;
  const out: DesiredPort = { vs: [], entries: [], lbNoNodeAccess: [] };
  const nodeIPs = ctx.nodeIPs;
  const v: VsTemplate = {
    out,
    protocol: info.protocol,
    protoNum,
    scheduler: sched.name,
    flags,
    timeout,
  };
  const entries = out.entries;

  // Hairpin: a local endpoint reaching itself through the service is masqueraded.
  for (const ep of entry.endpoints) {
    if (ep.isLocal)
      entries.push([S.KUBE_LOOP_BACK, `${ep.ipString},${proto}:${ep.port},${ep.ipString}`]);
  }

  entries.push([S.KUBE_CLUSTER_IP, ipPort(info.clusterIPString, proto, info.port)]);
  pushVs(v, info.clusterIPString, info.port, true, vsEndpoints(entry, info.internalPolicyLocal));

  const external = vsEndpoints(entry, info.externalPolicyLocal);
  for (const ip of info.externalIPs) {
    entries.push([
      info.externalPolicyLocal ? S.KUBE_EXTERNAL_IP_LOCAL : S.KUBE_EXTERNAL_IP,
      ipPort(ip, proto, info.port),
    ]);
    pushVs(v, ip, info.port, !nodeIPs.includes(ip), external);
  }

  for (const ip of info.loadBalancerIPs) {
    entries.push([S.KUBE_LOAD_BALANCER, ipPort(ip, proto, info.port)]);
    if (info.externalPolicyLocal)
      entries.push([S.KUBE_LOAD_BALANCER_LOCAL, ipPort(ip, proto, info.port)]);
    if (info.loadBalancerSourceRanges.length > 0) {
      entries.push([S.KUBE_LOAD_BALANCER_FW, ipPort(ip, proto, info.port)]);
      let allowFromNode = false;
      info.loadBalancerSourceCidrs.forEach((c, i) => {
        entries.push([
          S.KUBE_LOAD_BALANCER_SOURCE_CIDR,
          `${ipPort(ip, proto, info.port)},${info.loadBalancerSourceRanges[i]}`,
        ]);
        if (ctx.nodeIP !== undefined && cidrContains(c, ctx.nodeIP)) allowFromNode = true;
      });
      if (allowFromNode)
        entries.push([S.KUBE_LOAD_BALANCER_SOURCE_IP, `${ipPort(ip, proto, info.port)},${ip}`]);
      else out.lbNoNodeAccess.push([ip, proto, info.port]);
    }
    pushVs(v, ip, info.port, !nodeIPs.includes(ip), external);
  }

  if (info.nodePort !== 0 && ctx.nodeIPs.length > 0) {
    const local = info.externalPolicyLocal;
    if (proto === 'sctp') {
      for (const ip of ctx.nodeIPs) {
        entries.push([S.KUBE_NODE_PORT_SCTP, `${ip},sctp:${info.nodePort}`]);
        if (local) entries.push([S.KUBE_NODE_PORT_LOCAL_SCTP, `${ip},sctp:${info.nodePort}`]);
      }
    } else {
      const udp = proto === 'udp';
      entries.push([udp ? S.KUBE_NODE_PORT_UDP : S.KUBE_NODE_PORT_TCP, String(info.nodePort)]);
      if (local)
        entries.push([
          udp ? S.KUBE_NODE_PORT_LOCAL_UDP : S.KUBE_NODE_PORT_LOCAL_TCP,
          String(info.nodePort),
        ]);
    }
    for (const ip of ctx.nodeIPs) pushVs(v, ip, info.nodePort, false, external);
  }

  if (info.healthCheckNodePort !== 0) {
    entries.push([S.KUBE_HEALTH_CHECK_NODE_PORT, String(info.healthCheckNodePort)]);
  }
  return out;
}
