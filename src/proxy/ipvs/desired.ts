// What kube-proxy's ipvs syncProxyRules wants for one service port (pkg/proxy/ipvs/proxier.go):
// a virtual service per ClusterIP, external IP, load-balancer IP and node IP:nodePort, each with
// its real servers (syncEndpoint), and the ipset members that drive the few iptables rules.
// Pure: the proxier diffs this against what is installed.
import { cidrContains, ipToU32 } from '../../packet/addr.ts';
import { categorizeEndpoints } from '../model.ts';
import type { EndpointInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SvcFlag } from './constants.ts';
import { portProto } from './ipset.ts';
import { SetId as S } from './kube-ipsets.ts';
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
  /** Set members as flat quads `[SetId, a, b, c]` (ipset.ts Member). */
  readonly entries: number[];
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

  const pp = portProto(protoNum, info.port);
  // Hairpin: a local endpoint reaching itself through the service is masqueraded.
  for (const ep of entry.endpoints) {
    if (ep.isLocal) entries.push(S.LOOP_BACK, ep.ip, portProto(protoNum, ep.port), ep.ip);
  }

  entries.push(S.CLUSTER_IP, info.clusterIP, pp, 0);
  pushVs(v, info.clusterIPString, info.port, true, vsEndpoints(entry, info.internalPolicyLocal));

  const external = vsEndpoints(entry, info.externalPolicyLocal);
  for (const ip of info.externalIPs) {
    const set = info.externalPolicyLocal ? S.EXTERNAL_IP_LOCAL : S.EXTERNAL_IP;
    entries.push(set, ipToU32(ip), pp, 0);
    pushVs(v, ip, info.port, !nodeIPs.includes(ip), external);
  }

  for (const ip of info.loadBalancerIPs) {
    const a = ipToU32(ip);
    entries.push(S.LOAD_BALANCER, a, pp, 0);
    if (info.externalPolicyLocal) entries.push(S.LOAD_BALANCER_LOCAL, a, pp, 0);
    if (info.loadBalancerSourceRanges.length > 0) {
      entries.push(S.LOAD_BALANCER_FW, a, pp, 0);
      let allowFromNode = false;
      for (const c of info.loadBalancerSourceCidrs) {
        entries.push(
          S.LOAD_BALANCER_SOURCE_CIDR,
          a,
          portProto(protoNum, info.port, c.prefix),
          c.base,
        );
        if (ctx.nodeIP !== undefined && cidrContains(c, ctx.nodeIP)) allowFromNode = true;
      }
      if (allowFromNode) entries.push(S.LOAD_BALANCER_SOURCE_IP, a, pp, a);
      else out.lbNoNodeAccess.push([ip, proto, info.port]);
    }
    pushVs(v, ip, info.port, !nodeIPs.includes(ip), external);
  }

  if (info.nodePort !== 0 && ctx.nodeIPs.length > 0) {
    const local = info.externalPolicyLocal;
    if (proto === 'sctp') {
      const npp = portProto(IPPROTO_SCTP, info.nodePort);
      for (const ip of ctx.nodeIPs) {
        const a = ipToU32(ip);
        entries.push(S.NODE_PORT_SCTP, a, npp, 0);
        if (local) entries.push(S.NODE_PORT_LOCAL_SCTP, a, npp, 0);
      }
    } else {
      const udp = proto === 'udp';
      entries.push(udp ? S.NODE_PORT_UDP : S.NODE_PORT_TCP, info.nodePort, 0, 0);
      if (local)
        entries.push(udp ? S.NODE_PORT_LOCAL_UDP : S.NODE_PORT_LOCAL_TCP, info.nodePort, 0, 0);
    }
    for (const ip of ctx.nodeIPs) pushVs(v, ip, info.nodePort, false, external);
  }

  if (info.healthCheckNodePort !== 0) {
    entries.push(S.HEALTH_CHECK_NODE_PORT, info.healthCheckNodePort, 0, 0);
  }
  return out;
}
