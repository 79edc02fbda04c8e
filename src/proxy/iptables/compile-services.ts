// The per-service-port part of kube-proxy's syncProxyRules (v1.28): which chains a
// service port needs (its "plan"), the entry rules in nat KUBE-SERVICES /
// KUBE-NODEPORTS, and the filter-table REJECT/DROP rules for missing endpoints.
// compile-service-chains.ts writes the KUBE-EXT/FW/SVC/SVL/SEP chains themselves.
// Argument lists are exactly kube-proxy's, so the payload matches its unit tests.
import { tryIpToU32 } from '../../packet/addr.ts';
import {
  categorizeEndpoints,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model.ts';
import type { CategorizedEndpoints, EndpointInfo, ServicePortInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  LOCALHOST_NODEPORTS_COUNTER,
} from './chain-names.ts';
import type { CompileCache, PortNames } from './compile-cache.ts';
import { ADDRTYPE_DST_LOCAL } from './rule-writer.ts';
import type { RuleSink } from './rule-writer.ts';
import type { FragmentSink } from './service-fragment.ts';

export interface ServiceWriteContext<R = unknown> {
  readonly w: RuleSink<R>;
  /** Memoised chain-name hashes (chain-names.ts does the hashing). */
  readonly names: CompileCache;
  readonly masqueradeAll: boolean;
  /** Normalised cluster CIDR, or undefined when no local-traffic detector is configured. */
  readonly clusterCIDR: string | undefined;
  /** kube-proxy's nodeIP (LB source ranges containing it also admit the LB IPs). */
  readonly nodeIP: string | undefined;
  readonly largeClusterMode: boolean;
  /**
   * v1.31+ with localhost node ports and nfacct: a `-d 127.0.0.0/8 ... -m nfacct` rule
   * before each node port's jump counts localhost NodePort traffic (kubernetes#125015).
   */
  readonly localhostNodePortsCounter: boolean;
  /** Cached kube-proxy probability string for 1/n. */
  readonly probability: (n: number) => string;
}

/** Everything syncProxyRules decides about one service port before writing rules. */
export interface ServicePortPlan {
  readonly svc: ServicePortInfo;
  /** Lower-case protocol, as in `-m tcp -p tcp` and the chain hashes. */
  readonly proto: string;
  readonly names: PortNames;
  readonly clusterEndpoints: readonly EndpointInfo[];
  readonly localEndpoints: readonly EndpointInfo[];
  readonly allReachableEndpoints: readonly EndpointInfo[];
  readonly hasEndpoints: boolean;
  readonly hasInternalEndpoints: boolean;
  readonly hasExternalEndpoints: boolean;
  readonly clusterPolicyChain: string;
  readonly usesClusterPolicyChain: boolean;
  readonly localPolicyChain: string;
  readonly usesLocalPolicyChain: boolean;
  readonly internalTrafficChain: string;
  readonly externalPolicyChain: string;
  readonly externalTrafficChain: string;
  readonly usesExternalTrafficChain: boolean;
  readonly fwChain: string;
  readonly usesFWChain: boolean;
  readonly loadBalancerTrafficChain: string;
}

/** kube-proxy quotes multi-word comments itself (the args go through iptables-restore). */
export const q = (s: string): string => `"${s}"`;

export function planServicePort(
  ctx: ServiceWriteContext<unknown>,
  entry: ServicePortEntry,
): ServicePortPlan {
  const svc = entry.info;
  const proto = svc.protocol.toLowerCase();
  // KUBE-SVC/SVL/EXT/FW share one hash of the service port name and protocol.
  const names = ctx.names.portNames(entry.key, svc.nameString, proto);
  return new Plan(svc, proto, names, categorizeEndpoints(entry.endpoints, svc));
}

/**
 * A ServicePortPlan whose chain names are read from its PortNames when asked: most
 * service ports never use their KUBE-SVL, KUBE-EXT or KUBE-FW chain, and a full sync of
 * 100,000 Services made 300,000 such names for nothing.
 */
class Plan implements ServicePortPlan {
  readonly clusterEndpoints: readonly EndpointInfo[];
  readonly localEndpoints: readonly EndpointInfo[];
  readonly allReachableEndpoints: readonly EndpointInfo[];
  readonly hasEndpoints: boolean;
  readonly hasInternalEndpoints: boolean;
  readonly hasExternalEndpoints: boolean;
  readonly usesClusterPolicyChain: boolean;
  readonly usesLocalPolicyChain: boolean;
  readonly usesExternalTrafficChain: boolean;
  readonly usesFWChain: boolean;

  constructor(
    readonly svc: ServicePortInfo,
    readonly proto: string,
    readonly names: PortNames,
    c: CategorizedEndpoints,
  ) {
    const hasEndpoints = c.hasAnyEndpoints;
    const noLocal = c.localEndpoints.length === 0;
    this.clusterEndpoints = c.clusterEndpoints;
    this.localEndpoints = c.localEndpoints;
    this.allReachableEndpoints = c.allReachableEndpoints;
    this.hasEndpoints = hasEndpoints;
    this.hasInternalEndpoints = hasEndpoints && !(svc.internalPolicyLocal && noLocal);
    this.hasExternalEndpoints = hasEndpoints && !(svc.externalPolicyLocal && noLocal);
    this.usesClusterPolicyChain = c.clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
    this.usesLocalPolicyChain = !noLocal && usesLocalEndpoints(svc);
    // Based on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for
    // local traffic are needed even when no endpoint takes external traffic.
    this.usesExternalTrafficChain = hasEndpoints && externallyAccessible(svc);
    this.usesFWChain =
      hasEndpoints && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  }

  get clusterPolicyChain(): string {
    return this.names.clusterPolicy;
  }
  get localPolicyChain(): string {
    return this.names.localPolicy;
  }
  get internalTrafficChain(): string {
    return this.svc.internalPolicyLocal ? this.names.localPolicy : this.names.clusterPolicy;
  }
  get externalPolicyChain(): string {
    return this.svc.externalPolicyLocal ? this.names.localPolicy : this.names.clusterPolicy;
  }
  get externalTrafficChain(): string {
    return this.names.external;
  }
  get fwChain(): string {
    return this.names.firewall;
  }
  get loadBalancerTrafficChain(): string {
    return this.usesFWChain ? this.names.firewall : this.names.external;
  }
}

/** A destination address as a number (a module function: tsx names every closure it makes). */
const dstIp = (ip: string): number => tryIpToU32(ip) ?? 0;

/** Rules that capture traffic for the service's addresses, or refuse it in filter. */
export function writeCaptures<R>(
  ctx: ServiceWriteContext<R>,
  p: ServicePortPlan,
  f: FragmentSink<R>,
): void {
  const { w } = ctx;
  const { svc, proto } = p;
  const name = svc.nameString;
  const port = svc.port;
  const portText = String(port);

  // The column writer drops comments: their text is not made for it.
  const text = w.comments;
  // No endpoints at all: REJECT everything. Local policy without local endpoints: DROP.
  const intTarget = p.hasEndpoints ? 'DROP' : 'REJECT';
  const intComment = !text
    ? ''
    : q(p.hasEndpoints ? `${name} has no local endpoints` : `${name} has no endpoints`);
  const extTarget = intTarget;
  const extComment = intComment;

  if (p.hasInternalEndpoints) {
    const c = text ? q(`${name} cluster IP`) : '';
    f.natRule(
      w
        .begin(KUBE_SERVICES)
        .comment(c)
        .proto_(proto)
        .dstHost(svc.clusterIPString, svc.clusterIP)
        .dport_(port, portText)
        .jump(p.internalTrafficChain),
    );
  } else {
    f.filterRule(
      w
        .begin(KUBE_SERVICES)
        .comment(intComment)
        .proto_(proto)
        .dstHost(svc.clusterIPString, svc.clusterIP)
        .dport_(port, portText)
        .verdict(intTarget),
    );
  }

  if (svc.externalIPs.length > 0) {
    const c = q(`${name} external IP`);
    for (const ip of svc.externalIPs) {
      const u = dstIp(ip);
      if (p.hasEndpoints) {
        f.natRule(
          w
            .begin(KUBE_SERVICES)
            .comment(c)
            .proto_(proto)
            .dstHost(ip, u)
            .dport_(port, portText)
            .jump(p.externalTrafficChain),
        );
      }
      if (!p.hasExternalEndpoints) {
        f.filterRule(
          w
            .begin(KUBE_EXTERNAL_SERVICES)
            .comment(extComment)
            .proto_(proto)
            .dstHost(ip, u)
            .dport_(port, portText)
            .verdict(extTarget),
        );
      }
    }
  }

  if (svc.loadBalancerIPs.length > 0) {
    const c = q(`${name} loadbalancer IP`);
    const fc = q(`${name} traffic not accepted by ${p.fwChain}`);
    for (const ip of svc.loadBalancerIPs) {
      const u = dstIp(ip);
      if (p.hasEndpoints) {
        f.natRule(
          w
            .begin(KUBE_SERVICES)
            .comment(c)
            .proto_(proto)
            .dstHost(ip, u)
            .dport_(port, portText)
            .jump(p.loadBalancerTrafficChain),
        );
      }
      if (p.usesFWChain) {
        f.filterRule(
          w
            .begin(KUBE_PROXY_FIREWALL)
            .comment(fc)
            .proto_(proto)
            .dstHost(ip, u)
            .dport_(port, portText)
            .verdict('DROP'),
        );
      }
    }
    if (!p.hasExternalEndpoints) {
      for (const ip of svc.loadBalancerIPs) {
        f.filterRule(
          w
            .begin(KUBE_EXTERNAL_SERVICES)
            .comment(extComment)
            .proto_(proto)
            .dstHost(ip, dstIp(ip))
            .dport_(port, portText)
            .verdict(extTarget),
        );
      }
    }
  }

  // Node ports are not subject to loadBalancerSourceRanges, for better or worse.
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (p.hasEndpoints) {
      if (ctx.localhostNodePortsCounter) {
        f.natRule(
          w
            .begin(KUBE_NODEPORTS)
            .comment(name)
            .proto_(proto)
            .dstNet('127.0.0.0/8')
            .dport_(svc.nodePort, nodePort)
            .nfacct(LOCALHOST_NODEPORTS_COUNTER)
            .jump(p.externalTrafficChain),
        );
      }
      f.natRule(
        w
          .begin(KUBE_NODEPORTS)
          .comment(name)
          .proto_(proto)
          .dport_(svc.nodePort, nodePort)
          .jump(p.externalTrafficChain),
      );
    }
    if (!p.hasExternalEndpoints) {
      f.filterRule(
        w
          .begin(KUBE_EXTERNAL_SERVICES)
          .comment(extComment)
          .addrType(ADDRTYPE_DST_LOCAL, true)
          .proto_(proto)
          .dport_(svc.nodePort, nodePort)
          .verdict(extTarget),
      );
    }
  }

  // Health check node ports are accepted whether or not there are local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    const c = q(`${name} health check node port`);
    f.filterRule(
      w
        .begin(KUBE_NODEPORTS)
        .comment(c)
        .proto_('tcp')
        .dport_(svc.healthCheckNodePort, String(svc.healthCheckNodePort))
        .verdict('ACCEPT'),
    );
  }
}
