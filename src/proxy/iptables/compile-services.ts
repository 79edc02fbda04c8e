// The per-service-port part of kube-proxy's syncProxyRules (v1.28): which chains a
// service port needs (its "plan"), the entry rules in nat KUBE-SERVICES /
// KUBE-NODEPORTS, and the filter-table REJECT/DROP rules for missing endpoints.
// compile-service-chains.ts writes the KUBE-EXT/FW/SVC/SVL/SEP chains themselves.
// Argument lists are exactly kube-proxy's, so the payload matches its unit tests.
import {
  categorizeEndpoints,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model.ts';
import type { EndpointInfo, ServicePortInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { argv } from './builder.ts';
import type { RuleSetBuilder } from './builder.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names.ts';
import type { CompileCache } from './compile-cache.ts';

export interface ServiceWriteContext {
  readonly b: RuleSetBuilder;
  /** Memoised chain-name hashes (chain-names.ts does the hashing). */
  readonly names: CompileCache;
  readonly masqueradeAll: boolean;
  /** Normalised cluster CIDR, or undefined when no local-traffic detector is configured. */
  readonly clusterCIDR: string | undefined;
  /** kube-proxy's nodeIP (LB source ranges containing it also admit the LB IPs). */
  readonly nodeIP: string | undefined;
  readonly largeClusterMode: boolean;
  /** Cached kube-proxy probability string for 1/n. */
  readonly probability: (n: number) => string;
}

/** Everything syncProxyRules decides about one service port before writing rules. */
export interface ServicePortPlan {
  readonly svc: ServicePortInfo;
  /** Lower-case protocol, as in `-m tcp -p tcp` and the chain hashes. */
  readonly proto: string;
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

/** appendServiceCommentLocked: comments are dropped in large-cluster mode. */
export function comment(ctx: ServiceWriteContext, text: string): string[] {
  return ctx.largeClusterMode ? [] : ['-m', 'comment', '--comment', text];
}

export function planServicePort(
  ctx: ServiceWriteContext,
  entry: ServicePortEntry,
): ServicePortPlan {
  const svc = entry.info;
  const proto = svc.protocol.toLowerCase();
  const c = categorizeEndpoints(entry.endpoints, svc);
  const hasEndpoints = c.hasAnyEndpoints;
  // KUBE-SVC/SVL/EXT/FW share one hash of the service port name and protocol.
  const hash = ctx.names.portHash(svc.nameString, proto);
  const clusterPolicyChain = `KUBE-SVC-${hash}`;
  const localPolicyChain = `KUBE-SVL-${hash}`;
  const externalTrafficChain = `KUBE-EXT-${hash}`;
  const fwChain = `KUBE-FW-${hash}`;
  const internalLocal = svc.internalPolicyLocal;
  const externalLocal = svc.externalPolicyLocal;
  const noLocal = c.localEndpoints.length === 0;
  const usesFWChain =
    hasEndpoints && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  return {
    svc,
    proto,
    ...c,
    hasEndpoints,
    hasInternalEndpoints: hasEndpoints && !(internalLocal && noLocal),
    hasExternalEndpoints: hasEndpoints && !(externalLocal && noLocal),
    clusterPolicyChain,
    usesClusterPolicyChain: c.clusterEndpoints.length > 0 && usesClusterEndpoints(svc),
    localPolicyChain,
    usesLocalPolicyChain: !noLocal && usesLocalEndpoints(svc),
    internalTrafficChain: internalLocal ? localPolicyChain : clusterPolicyChain,
    externalPolicyChain: externalLocal ? localPolicyChain : clusterPolicyChain,
    externalTrafficChain,
    // Based on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for
    // local traffic are needed even when no endpoint takes external traffic.
    usesExternalTrafficChain: hasEndpoints && externallyAccessible(svc),
    fwChain,
    usesFWChain,
    loadBalancerTrafficChain: usesFWChain ? fwChain : externalTrafficChain,
  };
}

/** Rules that capture traffic for the service's addresses, or refuse it in filter. */
export function writeCaptures(ctx: ServiceWriteContext, p: ServicePortPlan): void {
  const { b } = ctx;
  const { svc, proto } = p;
  const name = svc.nameString;
  const port = String(svc.port);
  const pm = ['-m', proto, '-p', proto];

  // No endpoints at all: REJECT everything. Local policy without local endpoints: DROP.
  const noneComment = q(`${name} has no endpoints`);
  const noLocalComment = q(`${name} has no local endpoints`);
  const intTarget = p.hasEndpoints ? 'DROP' : 'REJECT';
  const intComment = p.hasEndpoints ? noLocalComment : noneComment;
  const extTarget = intTarget;
  const extComment = intComment;

  if (p.hasInternalEndpoints) {
    b.rule(
      'nat',
      argv`-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} cluster IP`)} ${pm} -d ${svc.clusterIPString} --dport ${port} -j ${p.internalTrafficChain}`,
    );
  } else {
    b.rule(
      'filter',
      argv`-A ${KUBE_SERVICES} -m comment --comment ${intComment} ${pm} -d ${svc.clusterIPString} --dport ${port} -j ${intTarget}`,
    );
  }

  for (const ip of svc.externalIPs) {
    if (p.hasEndpoints) {
      b.rule(
        'nat',
        argv`-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} external IP`)} ${pm} -d ${ip} --dport ${port} -j ${p.externalTrafficChain}`,
      );
    }
    if (!p.hasExternalEndpoints) {
      b.rule(
        'filter',
        argv`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${extComment} ${pm} -d ${ip} --dport ${port} -j ${extTarget}`,
      );
    }
  }

  for (const ip of svc.loadBalancerIPs) {
    if (p.hasEndpoints) {
      b.rule(
        'nat',
        argv`-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} loadbalancer IP`)} ${pm} -d ${ip} --dport ${port} -j ${p.loadBalancerTrafficChain}`,
      );
    }
    if (p.usesFWChain) {
      b.rule(
        'filter',
        argv`-A ${KUBE_PROXY_FIREWALL} -m comment --comment ${q(`${name} traffic not accepted by ${p.fwChain}`)} ${pm} -d ${ip} --dport ${port} -j DROP`,
      );
    }
  }
  if (!p.hasExternalEndpoints) {
    for (const ip of svc.loadBalancerIPs) {
      b.rule(
        'filter',
        argv`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${extComment} ${pm} -d ${ip} --dport ${port} -j ${extTarget}`,
      );
    }
  }

  // Node ports are not subject to loadBalancerSourceRanges, for better or worse.
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (p.hasEndpoints) {
      b.rule(
        'nat',
        argv`-A ${KUBE_NODEPORTS} -m comment --comment ${name} ${pm} --dport ${nodePort} -j ${p.externalTrafficChain}`,
      );
    }
    if (!p.hasExternalEndpoints) {
      b.rule(
        'filter',
        argv`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${extComment} -m addrtype --dst-type LOCAL ${pm} --dport ${nodePort} -j ${extTarget}`,
      );
    }
  }

  // Health check node ports are accepted whether or not there are local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    b.rule(
      'filter',
      argv`-A ${KUBE_NODEPORTS} -m comment --comment ${q(`${name} health check node port`)} -m tcp -p tcp --dport ${String(svc.healthCheckNodePort)} -j ACCEPT`,
    );
  }
}
