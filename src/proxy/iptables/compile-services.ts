// The per-service-port part of kube-proxy's syncProxyRules (v1.28): KUBE-SERVICES /
// KUBE-NODEPORTS entry rules, filter-table REJECT/DROP for missing endpoints, and the
// KUBE-EXT / KUBE-FW / KUBE-SVC / KUBE-SVL / KUBE-SEP chains. Argument lists are
// written exactly as kube-proxy writes them so the restore payload matches its tests.
import { cidrContains, tryIpToU32 } from '../../packet/addr.ts';
import {
  categorizeEndpoints,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model.ts';
import type { EndpointInfo, ServicePortInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import type { RuleSetBuilder } from './builder.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortEndpointChainName,
  servicePortPolicyClusterChain,
  servicePortPolicyLocalChainName,
} from './chain-names.ts';

export interface ServiceWriteContext {
  readonly b: RuleSetBuilder;
  readonly masqueradeAll: boolean;
  /** Normalised cluster CIDR, or undefined when no local-traffic detector is configured. */
  readonly clusterCIDR: string | undefined;
  /** kube-proxy's nodeIP (LB source ranges containing it also admit the LB IPs). */
  readonly nodeIP: string | undefined;
  readonly largeClusterMode: boolean;
  /** Cached kube-proxy probability string for 1/n. */
  readonly probability: (n: number) => string;
}

const q = (s: string): string => `"${s}"`;

/** appendServiceCommentLocked: comments are dropped in large-cluster mode. */
function comment(ctx: ServiceWriteContext, text: string): string[] {
  return ctx.largeClusterMode ? [] : ['-m', 'comment', '--comment', text];
}

function sepChain(svc: ServicePortInfo, proto: string, ep: EndpointInfo): string {
  return servicePortEndpointChainName(svc.nameString, proto, ep.endpoint);
}

/** Write every rule and chain for one service port. */
export function writeServicePort(ctx: ServiceWriteContext, entry: ServicePortEntry): void {
  const { b } = ctx;
  const svc = entry.info;
  const proto = svc.protocol.toLowerCase();
  const name = svc.nameString;
  const port = String(svc.port);
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } =
    categorizeEndpoints(entry.endpoints, svc);
  const hasEndpoints = hasAnyEndpoints;

  const clusterPolicyChain = servicePortPolicyClusterChain(name, proto);
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const localPolicyChain = servicePortPolicyLocalChainName(name, proto);
  const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(svc);

  let internalPolicyChain = clusterPolicyChain;
  let hasInternalEndpoints = hasEndpoints;
  if (svc.internalPolicyLocal) {
    internalPolicyChain = localPolicyChain;
    if (localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  const internalTrafficChain = internalPolicyChain;

  let externalPolicyChain = clusterPolicyChain;
  let hasExternalEndpoints = hasEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if (localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  const externalTrafficChain = serviceExternalChainName(name, proto);
  // Based on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for
  // local traffic are needed even when no endpoint takes external traffic.
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(svc);

  let loadBalancerTrafficChain = externalTrafficChain;
  const fwChain = serviceFirewallChainName(name, proto);
  const usesFWChain =
    hasEndpoints && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  if (usesFWChain) loadBalancerTrafficChain = fwChain;

  let internalFilterTarget = '';
  let internalFilterComment = '';
  let externalFilterTarget = '';
  let externalFilterComment = '';
  if (!hasEndpoints) {
    internalFilterTarget = externalFilterTarget = 'REJECT';
    internalFilterComment = externalFilterComment = q(`${name} has no endpoints`);
  } else {
    if (!hasInternalEndpoints) {
      internalFilterTarget = 'DROP';
      internalFilterComment = q(`${name} has no local endpoints`);
    }
    if (!hasExternalEndpoints) {
      externalFilterTarget = 'DROP';
      externalFilterComment = q(`${name} has no local endpoints`);
    }
  }

  const pm = ['-m', proto, '-p', proto];

  // Capture the clusterIP.
  if (hasInternalEndpoints) {
    b.rule(
      'nat',
      '-A',
      KUBE_SERVICES,
      '-m',
      'comment',
      '--comment',
      q(`${name} cluster IP`),
      pm,
      '-d',
      svc.clusterIPString,
      '--dport',
      port,
      '-j',
      internalTrafficChain,
    );
  } else {
    b.rule(
      'filter',
      '-A',
      KUBE_SERVICES,
      '-m',
      'comment',
      '--comment',
      internalFilterComment,
      pm,
      '-d',
      svc.clusterIPString,
      '--dport',
      port,
      '-j',
      internalFilterTarget,
    );
  }

  // Capture externalIPs.
  for (const ip of svc.externalIPs) {
    if (hasEndpoints) {
      b.rule(
        'nat',
        '-A',
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        q(`${name} external IP`),
        pm,
        '-d',
        ip,
        '--dport',
        port,
        '-j',
        externalTrafficChain,
      );
    }
    if (!hasExternalEndpoints) {
      b.rule(
        'filter',
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalFilterComment,
        pm,
        '-d',
        ip,
        '--dport',
        port,
        '-j',
        externalFilterTarget,
      );
    }
  }

  // Capture load-balancer ingress.
  for (const ip of svc.loadBalancerIPs) {
    if (hasEndpoints) {
      b.rule(
        'nat',
        '-A',
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        q(`${name} loadbalancer IP`),
        pm,
        '-d',
        ip,
        '--dport',
        port,
        '-j',
        loadBalancerTrafficChain,
      );
    }
    if (usesFWChain) {
      b.rule(
        'filter',
        '-A',
        KUBE_PROXY_FIREWALL,
        '-m',
        'comment',
        '--comment',
        q(`${name} traffic not accepted by ${fwChain}`),
        pm,
        '-d',
        ip,
        '--dport',
        port,
        '-j',
        'DROP',
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of svc.loadBalancerIPs) {
      b.rule(
        'filter',
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalFilterComment,
        pm,
        '-d',
        ip,
        '--dport',
        port,
        '-j',
        externalFilterTarget,
      );
    }
  }

  // Capture nodeports (not subject to loadBalancerSourceRanges, for better or worse).
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (hasEndpoints) {
      b.rule(
        'nat',
        '-A',
        KUBE_NODEPORTS,
        '-m',
        'comment',
        '--comment',
        name,
        pm,
        '--dport',
        nodePort,
        '-j',
        externalTrafficChain,
      );
    }
    if (!hasExternalEndpoints) {
      b.rule(
        'filter',
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalFilterComment,
        '-m',
        'addrtype',
        '--dst-type',
        'LOCAL',
        pm,
        '--dport',
        nodePort,
        '-j',
        externalFilterTarget,
      );
    }
  }

  // Health check node ports are accepted whether or not there are local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    b.rule(
      'filter',
      '-A',
      KUBE_NODEPORTS,
      '-m',
      'comment',
      '--comment',
      q(`${name} health check node port`),
      '-m',
      'tcp',
      '-p',
      'tcp',
      '--dport',
      String(svc.healthCheckNodePort),
      '-j',
      'ACCEPT',
    );
  }

  // Internal traffic: masquerade off-cluster sources (or everything with masqueradeAll).
  if (hasInternalEndpoints) {
    const args = [
      '-m',
      'comment',
      '--comment',
      q(`${name} cluster IP`),
      ...pm,
      '-d',
      svc.clusterIPString,
      '--dport',
      port,
    ];
    if (ctx.masqueradeAll) {
      b.rule('nat', '-A', internalTrafficChain, args, '-j', KUBE_MARK_MASQ);
    } else if (ctx.clusterCIDR !== undefined) {
      b.rule(
        'nat',
        '-A',
        internalTrafficChain,
        args,
        '!',
        '-s',
        ctx.clusterCIDR,
        '-j',
        KUBE_MARK_MASQ,
      );
    }
  }

  // External traffic: everything captured above for external destinations lands here.
  if (usesExternalTrafficChain) {
    b.chain('nat', externalTrafficChain);
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through us.
      b.rule(
        'nat',
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        q(`masquerade traffic for ${name} external destinations`),
        '-j',
        KUBE_MARK_MASQ,
      );
    } else {
      if (ctx.clusterCIDR !== undefined) {
        // Pods reaching an external IP act as if they went out and back: Cluster policy.
        b.rule(
          'nat',
          '-A',
          externalTrafficChain,
          '-m',
          'comment',
          '--comment',
          q(`pod traffic for ${name} external destinations`),
          '-s',
          ctx.clusterCIDR,
          '-j',
          clusterPolicyChain,
        );
      }
      // The node itself picks the external IP as source: it must be masqueraded.
      b.rule(
        'nat',
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        q(`masquerade LOCAL traffic for ${name} external destinations`),
        '-m',
        'addrtype',
        '--src-type',
        'LOCAL',
        '-j',
        KUBE_MARK_MASQ,
      );
      b.rule(
        'nat',
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        q(`route LOCAL traffic for ${name} external destinations`),
        '-m',
        'addrtype',
        '--src-type',
        'LOCAL',
        '-j',
        clusterPolicyChain,
      );
    }
    if (hasExternalEndpoints) {
      b.rule('nat', '-A', externalTrafficChain, '-j', externalPolicyChain);
    }
  }

  // Firewall chain for loadBalancerSourceRanges.
  if (usesFWChain) {
    b.chain('nat', fwChain);
    const args = ['-A', fwChain, '-m', 'comment', '--comment', q(`${name} loadbalancer IP`)];
    let allowFromNode = false;
    const nodeIP = ctx.nodeIP === undefined ? undefined : tryIpToU32(ctx.nodeIP);
    svc.loadBalancerSourceRanges.forEach((src, i) => {
      b.rule('nat', args, '-s', src, '-j', externalTrafficChain);
      const c = svc.loadBalancerSourceCidrs[i];
      if (c !== undefined && nodeIP !== undefined && cidrContains(c, nodeIP)) allowFromNode = true;
    });
    // A node reaching a VIP-style LB IP it holds locally arrives with the LB IP as source.
    if (allowFromNode) {
      for (const ip of svc.loadBalancerIPs)
        b.rule('nat', args, '-s', ip, '-j', externalTrafficChain);
    }
    // Whatever falls off the end was not DNATed; KUBE-PROXY-FIREWALL drops it.
    b.rule(
      'nat',
      '-A',
      fwChain,
      '-m',
      'comment',
      '--comment',
      q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`),
    );
  }

  if (usesClusterPolicyChain) {
    b.chain('nat', clusterPolicyChain);
    writeServiceToEndpointRules(ctx, svc, proto, clusterPolicyChain, clusterEndpoints);
  }
  if (usesLocalPolicyChain) {
    b.chain('nat', localPolicyChain);
    writeServiceToEndpointRules(ctx, svc, proto, localPolicyChain, localEndpoints);
  }

  // One KUBE-SEP chain per reachable endpoint.
  for (const ep of allReachableEndpoints) {
    const chain = sepChain(svc, proto, ep);
    b.chain('nat', chain);
    const args = ['-A', chain, ...comment(ctx, name)];
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    b.rule('nat', args, '-s', ep.ipString, '-j', KUBE_MARK_MASQ);
    if (svc.sessionAffinity === 'ClientIP') args.push('-m', 'recent', '--name', chain, '--set');
    b.rule('nat', args, pm, '-j', 'DNAT', '--to-destination', ep.endpoint);
  }
}

/** writeServiceToEndpointRules: affinity checks first, then the 1/(n-i) cascade. */
function writeServiceToEndpointRules(
  ctx: ServiceWriteContext,
  svc: ServicePortInfo,
  proto: string,
  svcChain: string,
  endpoints: readonly EndpointInfo[],
): void {
  const { b } = ctx;
  if (svc.sessionAffinity === 'ClientIP') {
    for (const ep of endpoints) {
      const chain = sepChain(svc, proto, ep);
      b.rule(
        'nat',
        '-A',
        svcChain,
        comment(ctx, q(`${svc.nameString} -> ${ep.endpoint}`)),
        '-m',
        'recent',
        '--name',
        chain,
        '--rcheck',
        '--seconds',
        String(svc.stickyMaxAgeSeconds),
        '--reap',
        '-j',
        chain,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const args = ['-A', svcChain, ...comment(ctx, q(`${svc.nameString} -> ${ep.endpoint}`))];
    // Rule i matches with probability 1/(n-i) of what reaches it: uniform overall.
    if (i < n - 1)
      args.push('-m', 'statistic', '--mode', 'random', '--probability', ctx.probability(n - i));
    b.rule('nat', args, '-j', sepChain(svc, proto, ep));
  });
}
