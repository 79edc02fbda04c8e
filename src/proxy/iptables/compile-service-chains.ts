// The chains of one service port (kube-proxy v1.28 syncProxyRules, second half):
// masquerade rules at the head of the internal policy chain, KUBE-EXT (external
// traffic: masquerade, or Local-policy short-circuits), KUBE-FW (source ranges),
// KUBE-SVC / KUBE-SVL (affinity checks then the 1/(n-i) cascade) and one KUBE-SEP
// per endpoint (hairpin masquerade, affinity --set, DNAT).
import { cidrContains, tryIpToU32 } from '../../packet/addr.ts';
import type { EndpointInfo } from '../model.ts';
import { argv } from './builder.ts';
import { KUBE_MARK_MASQ } from './chain-names.ts';
import { comment, q } from './compile-services.ts';
import type { ServicePortPlan, ServiceWriteContext } from './compile-services.ts';

function sep(ctx: ServiceWriteContext, p: ServicePortPlan, ep: EndpointInfo): string {
  return ctx.names.endpointChain(p.svc.nameString, p.proto, ep.endpoint);
}

export function writeServiceChains(ctx: ServiceWriteContext, p: ServicePortPlan): void {
  const { b } = ctx;
  const { svc, proto } = p;
  const name = svc.nameString;
  const pm = ['-m', proto, '-p', proto];

  // Internal traffic: masquerade off-cluster sources (or everything with masqueradeAll),
  // so a static route to the service range through any node works.
  if (p.hasInternalEndpoints) {
    const head = argv`-A ${p.internalTrafficChain} -m comment --comment ${q(`${name} cluster IP`)} ${pm} -d ${svc.clusterIPString} --dport ${String(svc.port)}`;
    if (ctx.masqueradeAll) b.rule('nat', head, argv`-j ${KUBE_MARK_MASQ}`);
    else if (ctx.clusterCIDR !== undefined) {
      b.rule('nat', head, argv`! -s ${ctx.clusterCIDR} -j ${KUBE_MARK_MASQ}`);
    }
  }

  if (p.usesExternalTrafficChain) {
    const ext = p.externalTrafficChain;
    b.chain('nat', ext);
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through us.
      b.rule(
        'nat',
        argv`-A ${ext} -m comment --comment ${q(`masquerade traffic for ${name} external destinations`)} -j ${KUBE_MARK_MASQ}`,
      );
    } else {
      if (ctx.clusterCIDR !== undefined) {
        // Pods reaching an external IP act as if they went out and back: Cluster policy.
        b.rule(
          'nat',
          argv`-A ${ext} -m comment --comment ${q(`pod traffic for ${name} external destinations`)} -s ${ctx.clusterCIDR} -j ${p.clusterPolicyChain}`,
        );
      }
      // The node itself picks the external IP as source: it must be masqueraded.
      b.rule(
        'nat',
        argv`-A ${ext} -m comment --comment ${q(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`,
      );
      b.rule(
        'nat',
        argv`-A ${ext} -m comment --comment ${q(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${p.clusterPolicyChain}`,
      );
    }
    if (p.hasExternalEndpoints) b.rule('nat', argv`-A ${ext} -j ${p.externalPolicyChain}`);
  }

  if (p.usesFWChain) {
    b.chain('nat', p.fwChain);
    const head = argv`-A ${p.fwChain} -m comment --comment ${q(`${name} loadbalancer IP`)}`;
    const nodeIP = ctx.nodeIP === undefined ? undefined : tryIpToU32(ctx.nodeIP);
    let allowFromNode = false;
    svc.loadBalancerSourceRanges.forEach((src, i) => {
      b.rule('nat', head, argv`-s ${src} -j ${p.externalTrafficChain}`);
      const c = svc.loadBalancerSourceCidrs[i];
      if (c !== undefined && nodeIP !== undefined && cidrContains(c, nodeIP)) allowFromNode = true;
    });
    // A node reaching a VIP-style LB IP it holds locally arrives with the LB IP as source.
    if (allowFromNode) {
      for (const ip of svc.loadBalancerIPs)
        b.rule('nat', head, argv`-s ${ip} -j ${p.externalTrafficChain}`);
    }
    // Whatever falls off the end was not DNATed; KUBE-PROXY-FIREWALL drops it.
    b.rule(
      'nat',
      argv`-A ${p.fwChain} -m comment --comment ${q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`,
    );
  }

  if (p.usesClusterPolicyChain) {
    b.chain('nat', p.clusterPolicyChain);
    writeServiceToEndpointRules(ctx, p, p.clusterPolicyChain, p.clusterEndpoints);
  }
  if (p.usesLocalPolicyChain) {
    b.chain('nat', p.localPolicyChain);
    writeServiceToEndpointRules(ctx, p, p.localPolicyChain, p.localEndpoints);
  }

  for (const ep of p.allReachableEndpoints) {
    const chain = sep(ctx, p, ep);
    b.chain('nat', chain);
    const head = argv`-A ${chain} ${comment(ctx, name)}`;
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    b.rule('nat', head, argv`-s ${ep.ipString} -j ${KUBE_MARK_MASQ}`);
    const affinity =
      svc.sessionAffinity === 'ClientIP' ? argv`-m recent --name ${chain} --set` : [];
    b.rule('nat', head, affinity, argv`${pm} -j DNAT --to-destination ${ep.endpoint}`);
  }
}

/** writeServiceToEndpointRules: affinity checks first, then the 1/(n-i) cascade. */
function writeServiceToEndpointRules(
  ctx: ServiceWriteContext,
  p: ServicePortPlan,
  svcChain: string,
  endpoints: readonly EndpointInfo[],
): void {
  const { b } = ctx;
  const name = p.svc.nameString;
  if (p.svc.sessionAffinity === 'ClientIP') {
    const seconds = String(p.svc.stickyMaxAgeSeconds);
    for (const ep of endpoints) {
      const chain = sep(ctx, p, ep);
      b.rule(
        'nat',
        argv`-A ${svcChain} ${comment(ctx, q(`${name} -> ${ep.endpoint}`))} -m recent --name ${chain} --rcheck --seconds ${seconds} --reap -j ${chain}`,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    // Rule i matches 1/(n-i) of what reaches it: every endpoint gets 1/n overall.
    const stat =
      i < n - 1 ? argv`-m statistic --mode random --probability ${ctx.probability(n - i)}` : [];
    b.rule(
      'nat',
      argv`-A ${svcChain} ${comment(ctx, q(`${name} -> ${ep.endpoint}`))}`,
      stat,
      argv`-j ${sep(ctx, p, ep)}`,
    );
  });
}
