// The chains of one service port (kube-proxy v1.28 syncProxyRules, second half):
// masquerade rules at the head of the internal policy chain, KUBE-EXT (external
// traffic: masquerade, or Local-policy short-circuits), KUBE-FW (source ranges),
// KUBE-SVC / KUBE-SVL (affinity checks then the 1/(n-i) cascade) and one KUBE-SEP
// per endpoint (hairpin masquerade, affinity --set, DNAT).
import { cidrContains, tryIpToU32 } from '../../packet/addr.ts';
import type { EndpointInfo } from '../model.ts';
import { KUBE_MARK_MASQ } from './chain-names.ts';
import { q } from './compile-services.ts';
import type { ServicePortPlan, ServiceWriteContext } from './compile-services.ts';
import { ADDRTYPE_SRC_LOCAL, commentMatch } from './rule-writer.ts';
import type { RuleSink } from './rule-writer.ts';
import type { FragmentSink, OwnedChainRef } from './service-fragment.ts';
import { TargetKind } from './rules.ts';
import type { Match, Target } from './rules.ts';

const MARK_MASQ: Target = { kind: TargetKind.Jump, chain: KUBE_MARK_MASQ };

export function writeServiceChains<R>(
  ctx: ServiceWriteContext<R>,
  p: ServicePortPlan,
  f: FragmentSink<R>,
): void {
  const { w } = ctx;
  const { svc, proto } = p;
  const name = svc.nameString;

  // Internal traffic: masquerade off-cluster sources (or everything with masqueradeAll),
  // so a static route to the service range through any node works.
  if (p.hasInternalEndpoints && (ctx.masqueradeAll || ctx.clusterCIDR !== undefined)) {
    const c = w.comments ? q(`${name} cluster IP`) : '';
    const ch = f.owned(p.internalTrafficChain);
    w.begin(ch.name)
      .comment(c)
      .proto_(proto)
      .dstHost(svc.clusterIPString, svc.clusterIP)
      .dport_(svc.port, String(svc.port));
    if (!ctx.masqueradeAll) w.source(ctx.clusterCIDR!, true);
    f.ownedRule(ch, w.target(MARK_MASQ, KUBE_MARK_MASQ));
  }

  if (p.usesExternalTrafficChain) {
    const ext = f.declare(p.externalTrafficChain);
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through us.
      const c = q(`masquerade traffic for ${name} external destinations`);
      f.ownedRule(ext, w.begin(ext.name).comment(c).target(MARK_MASQ, KUBE_MARK_MASQ));
    } else {
      if (ctx.clusterCIDR !== undefined) {
        // Pods reaching an external IP act as if they went out and back: Cluster policy.
        const c = q(`pod traffic for ${name} external destinations`);
        f.ownedRule(
          ext,
          w.begin(ext.name).comment(c).source(ctx.clusterCIDR).jump(p.clusterPolicyChain),
        );
      }
      // The node itself picks the external IP as source: it must be masqueraded.
      const c1 = q(`masquerade LOCAL traffic for ${name} external destinations`);
      f.ownedRule(
        ext,
        w
          .begin(ext.name)
          .comment(c1)
          .addrType(ADDRTYPE_SRC_LOCAL, false)
          .target(MARK_MASQ, KUBE_MARK_MASQ),
      );
      const c2 = q(`route LOCAL traffic for ${name} external destinations`);
      f.ownedRule(
        ext,
        w
          .begin(ext.name)
          .comment(c2)
          .addrType(ADDRTYPE_SRC_LOCAL, false)
          .jump(p.clusterPolicyChain),
      );
    }
    if (p.hasExternalEndpoints) f.ownedRule(ext, w.begin(ext.name).jump(p.externalPolicyChain));
  }

  if (p.usesFWChain) {
    const fw = f.declare(p.fwChain);
    const c = q(`${name} loadbalancer IP`);
    const nodeIP = ctx.nodeIP === undefined ? undefined : tryIpToU32(ctx.nodeIP);
    let allowFromNode = false;
    svc.loadBalancerSourceRanges.forEach((src, i) => {
      f.ownedRule(fw, w.begin(fw.name).comment(c).source(src).jump(p.externalTrafficChain));
      const cidr = svc.loadBalancerSourceCidrs[i];
      if (cidr !== undefined && nodeIP !== undefined && cidrContains(cidr, nodeIP)) {
        allowFromNode = true;
      }
    });
    // A node reaching a VIP-style LB IP it holds locally arrives with the LB IP as source.
    if (allowFromNode) {
      for (const ip of svc.loadBalancerIPs) {
        f.ownedRule(fw, w.begin(fw.name).comment(c).source(ip).jump(p.externalTrafficChain));
      }
    }
    // Whatever falls off the end was not DNATed; KUBE-PROXY-FIREWALL drops it.
    const o = q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`);
    f.ownedRule(fw, w.begin(fw.name).comment(o).none());
  }

  // One comment match per service port (endpoint rules use the bare name).
  const nameMatch = ctx.largeClusterMode || !w.comments ? undefined : commentMatch(name);
  if (p.usesClusterPolicyChain) {
    const ch = f.declare(p.clusterPolicyChain);
    writeServiceToEndpointRules(ctx, p, f, ch, p.clusterEndpoints);
  }
  if (p.usesLocalPolicyChain) {
    const ch = f.declare(p.localPolicyChain);
    writeServiceToEndpointRules(ctx, p, f, ch, p.localEndpoints);
  }

  const affinity = svc.sessionAffinity === 'ClientIP';
  for (const ep of p.allReachableEndpoints) {
    const sep = f.endpointChain(p.names, ep, true);
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    sepHead(w, sep, name, nameMatch, ctx.largeClusterMode).source(ep.ipString, false, ep.ip);
    f.ownedRule(sep, w.target(MARK_MASQ, KUBE_MARK_MASQ));
    sepHead(w, sep, name, nameMatch, ctx.largeClusterMode);
    // The recent list is named after the chain: affinity needs the name in the sync.
    if (affinity) w.recentSet(p.names.endpoint(ep));
    f.ownedRule(sep, w.proto_(proto).dnat(ep));
  }
}

function sepHead<R>(
  w: RuleSink<R>,
  sep: OwnedChainRef,
  name: string,
  nameMatch: Match | undefined,
  large: boolean,
): RuleSink<R> {
  w.begin(sep.name);
  if (!large) w.comment(name, nameMatch);
  return w;
}

/** writeServiceToEndpointRules: affinity checks first, then the 1/(n-i) cascade. */
function writeServiceToEndpointRules<R>(
  ctx: ServiceWriteContext<R>,
  p: ServicePortPlan,
  f: FragmentSink<R>,
  svcChain: OwnedChainRef,
  endpoints: readonly EndpointInfo[],
): void {
  const { w } = ctx;
  const name = p.svc.nameString;
  // The column writer drops comments: do not build their text.
  const large = ctx.largeClusterMode || !w.comments;
  if (p.svc.sessionAffinity === 'ClientIP') {
    const seconds = String(p.svc.stickyMaxAgeSeconds);
    for (const ep of endpoints) {
      const chain = f.endpointChain(p.names, ep, false);
      w.begin(svcChain.name);
      if (!large) {
        const c = q(`${name} -> ${ep.endpoint}`);
        w.comment(c);
      }
      f.ownedRule(svcChain, w.recentCheck(p.names.endpoint(ep), seconds).jumpTo(chain));
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i]!;
    // Rule i matches 1/(n-i) of what reaches it: every endpoint gets 1/n overall.
    w.begin(svcChain.name);
    if (!large) {
      const c = q(`${name} -> ${ep.endpoint}`);
      w.comment(c);
    }
    if (i < n - 1) w.statistic(ctx.probability(n - i));
    f.ownedRule(svcChain, w.jumpTo(f.endpointChain(p.names, ep, false)));
  }
}
