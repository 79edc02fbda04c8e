// One service port's part of kube-proxy's nftables syncProxyRules (v1.31; v1.34+): its map
// elements (service-ips, service-nodeports, no-endpoint-*, firewall-ips, cluster-ips)
// and its chains: service- / local- (affinity checks, then `numgen random mod N vmap`),
// external- (masquerade, or Local-policy short-circuits), firewall- (source ranges)
// and one endpoint- chain per endpoint (hairpin masquerade, affinity update, DNAT). These are
// the rule objects views read; flat-services.ts makes the same decisions into the program.
import { cidrContains, ipToU32, u32ToIp } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import {
  categorizeEndpoints,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model.ts';
import type { EndpointInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { AFFINITY_SET_SIZE } from './affinity.ts';
import type { AffinitySource } from './affinity.ts';
import type { RulesetBuilder } from './builder.ts';
import * as x from './exprs.ts';
import * as N from './names.ts';
import type { NameCache } from './names.ts';
import { VerdictKind } from './ruleset.ts';
import type { NftSet, NftVerdict } from './ruleset.ts';

export interface ServiceSets {
  readonly clusterIPs: NftSet;
  readonly serviceIPs: NftSet;
  readonly serviceNodePorts: NftSet;
  readonly noEndpointServices: NftSet;
  readonly noEndpointNodePorts: NftSet;
  readonly firewallIPs: NftSet;
}

/** What writing a service port needs, whether as rule objects or as the flat program. */
export interface ServicePortOptions {
  readonly names: NameCache;
  readonly affinity: AffinitySource;
  readonly masqueradeAll: boolean;
  /** Before v1.34 (kubernetes#131492) the masquerade rule also matched `PROTO dport PORT`. */
  readonly masqueradeWithPort: boolean;
  /** The local-traffic detector's CIDR, if any. */
  readonly clusterCIDR: Cidr | undefined;
  /** kube-proxy's nodeIP: source ranges containing it also admit the LB IPs. */
  readonly nodeIP: number | undefined;
}

export interface ServiceContext extends ServicePortOptions {
  readonly b: RulesetBuilder;
  readonly sets: ServiceSets;
}

/** Byte-swapped u32: nft sorts concatenated keys as host-endian (x86) integers. */
function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

/** Sort word of `inet_proto . inet_service`: port low byte, port high byte, protocol. */
function protoPortSort(proto: number, port: number): number {
  return ((port & 0xff) << 16) | ((port >>> 8) << 8) | proto;
}

export function addrElement(b: RulesetBuilder, set: NftSet, ip: number): void {
  b.element(set, ip, 0, { key: u32ToIp(ip), comment: undefined, sort1: ip >>> 0, sort2: 0 });
}

function concatElement(
  b: RulesetBuilder,
  map: NftSet,
  ip: number,
  proto: string,
  port: number,
  value: NftVerdict,
  comment?: string,
): void {
  const p = x.PROTO_NUMBERS[proto] ?? 0;
  b.element(map, ip, (p << 16) | port, {
    key: `${u32ToIp(ip)} . ${proto} . ${port}`,
    comment,
    value,
    sort1: protoPortSort(p, port),
    sort2: swap32(ip),
  });
}

function portElement(
  b: RulesetBuilder,
  map: NftSet,
  proto: string,
  port: number,
  value: NftVerdict,
  comment?: string,
): void {
  const p = x.PROTO_NUMBERS[proto] ?? 0;
  b.element(map, 0, (p << 16) | port, {
    key: `${proto} . ${port}`,
    comment,
    value,
    sort1: protoPortSort(p, port),
    sort2: 0,
  });
}

const goto = (chain: string) => x.verdict(VerdictKind.Goto, chain);
const toMask = (ip: number): Cidr => ({ base: ip >>> 0, prefix: 32 });

export function writeServicePort(ctx: ServiceContext, e: ServicePortEntry): void {
  const { b, names, sets } = ctx;
  const svc = e.info;
  const proto = svc.protocol.toLowerCase();
  const name = svc.nameString;
  const c = categorizeEndpoints(e.endpoints, svc);
  const hasEndpoints = c.hasAnyEndpoints;
  const pn = names.port(e.key, svc.name, proto);
  const epBase = (ep: EndpointInfo) => pn.endpointBase(ep.ipString, ep.port);
  const epChain = (ep: EndpointInfo) => pn.endpointChain(ep.ipString, ep.port);
  const affinity = svc.sessionAffinity === 'ClientIP';

  for (const ep of c.allReachableEndpoints) b.chain(epChain(ep));
  const clusterPolicyChain = pn.service;
  const usesClusterPolicyChain = c.clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  if (usesClusterPolicyChain) b.chain(clusterPolicyChain);
  const localPolicyChain = pn.local;
  const usesLocalPolicyChain = c.localEndpoints.length > 0 && usesLocalEndpoints(svc);
  if (usesLocalPolicyChain) b.chain(localPolicyChain);

  const noLocal = c.localEndpoints.length === 0;
  const internalTrafficChain = svc.internalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasInternalEndpoints = hasEndpoints && !(svc.internalPolicyLocal && noLocal);
  const externalPolicyChain = svc.externalPolicyLocal ? localPolicyChain : clusterPolicyChain;
  const hasExternalEndpoints = hasEndpoints && !(svc.externalPolicyLocal && noLocal);
  const externalTrafficChain = pn.external;
  // Based on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for
  // local traffic are needed even when no endpoint takes external traffic.
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(svc);
  if (usesExternalTrafficChain) b.chain(externalTrafficChain);

  // No endpoints anywhere: reject. Local policy without local endpoints: drop.
  const filterVerdict = (): NftVerdict =>
    hasEndpoints ? x.verdict(VerdictKind.Drop) : goto(N.REJECT_CHAIN);

  addrElement(b, sets.clusterIPs, svc.clusterIP);
  if (hasInternalEndpoints) {
    concatElement(b, sets.serviceIPs, svc.clusterIP, proto, svc.port, goto(internalTrafficChain));
  } else {
    concatElement(
      b,
      sets.noEndpointServices,
      svc.clusterIP,
      proto,
      svc.port,
      filterVerdict(),
      name,
    );
  }

  for (const ipString of svc.externalIPs) {
    const ip = ipToU32(ipString);
    if (hasEndpoints) {
      concatElement(b, sets.serviceIPs, ip, proto, svc.port, goto(externalTrafficChain));
    }
    if (!hasExternalEndpoints) {
      concatElement(b, sets.noEndpointServices, ip, proto, svc.port, filterVerdict(), name);
    }
  }

  const usesFWChain = svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceCidrs.length > 0;
  const fwChain = pn.firewall;
  if (usesFWChain) b.chain(fwChain);
  for (const ipString of svc.loadBalancerIPs) {
    const ip = ipToU32(ipString);
    if (hasEndpoints) {
      concatElement(b, sets.serviceIPs, ip, proto, svc.port, goto(externalTrafficChain));
    }
    if (usesFWChain) concatElement(b, sets.firewallIPs, ip, proto, svc.port, goto(fwChain));
  }
  if (!hasExternalEndpoints) {
    for (const ipString of svc.loadBalancerIPs) {
      const ip = ipToU32(ipString);
      concatElement(b, sets.noEndpointServices, ip, proto, svc.port, filterVerdict(), name);
    }
  }

  // Node ports are not subject to loadBalancerSourceRanges, for better or worse.
  if (svc.nodePort !== 0) {
    if (hasEndpoints) {
      portElement(b, sets.serviceNodePorts, proto, svc.nodePort, goto(externalTrafficChain));
    }
    if (!hasExternalEndpoints) {
      portElement(b, sets.noEndpointNodePorts, proto, svc.nodePort, filterVerdict(), name);
    }
  }

  // Internal traffic: masquerade off-cluster sources (or all, with masqueradeAll), so
  // a static route to the service range through any node works.
  if (hasInternalEndpoints) {
    const head = [x.addr('daddr', toMask(svc.clusterIP))];
    if (ctx.masqueradeWithPort) head.push(x.dport(proto, svc.port));
    if (ctx.masqueradeAll) b.rule(internalTrafficChain, head, x.jump(N.MARK_MASQ_CHAIN));
    else if (ctx.clusterCIDR !== undefined) {
      b.rule(
        internalTrafficChain,
        [...head, x.addr('saddr', ctx.clusterCIDR, true)],
        x.jump(N.MARK_MASQ_CHAIN),
      );
    }
  }

  if (usesExternalTrafficChain) {
    const ext = externalTrafficChain;
    if (!svc.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade so replies come back through us.
      b.rule(ext, [], x.jump(N.MARK_MASQ_CHAIN));
    } else {
      if (ctx.clusterCIDR !== undefined) {
        // Pods reaching an external IP act as if they went out and back in: Cluster policy.
        b.rule(
          ext,
          [x.addr('saddr', ctx.clusterCIDR)],
          x.goto(clusterPolicyChain),
          'short-circuit pod traffic',
        );
      }
      // The node picks the (local) external IP as source: it must be masqueraded.
      b.rule(ext, [x.fibSaddrLocal()], x.jump(N.MARK_MASQ_CHAIN), 'masquerade local traffic');
      b.rule(ext, [x.fibSaddrLocal()], x.goto(clusterPolicyChain), 'short-circuit local traffic');
    }
    if (hasExternalEndpoints) b.rule(ext, [], x.goto(externalPolicyChain));
  }

  if (usesFWChain) {
    const sources: Cidr[] = [...svc.loadBalancerSourceCidrs];
    const nodeIP = ctx.nodeIP;
    // A VIP-style LB IP held locally makes the node's own requests arrive from the LB IP.
    if (nodeIP !== undefined && sources.some((s) => cidrContains(s, nodeIP))) {
      for (const ipString of svc.loadBalancerIPs) sources.push(toMask(ipToU32(ipString)));
    }
    b.rule(fwChain, [x.addrIn('saddr', sources, true)], x.drop());
  }

  const affinitySet = (ep: EndpointInfo) => {
    const dyn = ctx.affinity.get(N.AFFINITY_PREFIX + epBase(ep), svc.stickyMaxAgeSeconds);
    return b.set(dyn.name, {
      type: 'ipv4_addr',
      flags: 'dynamic,timeout',
      timeout: svc.stickyMaxAgeSeconds,
      size: AFFINITY_SET_SIZE,
      dyn,
    });
  };
  if (affinity) for (const ep of c.allReachableEndpoints) affinitySet(ep);

  const toEndpoints = (chain: string, eps: readonly EndpointInfo[]) => {
    if (affinity) {
      for (const ep of eps) {
        b.rule(chain, [x.saddrInDynSet(affinitySet(ep).dyn!)], x.goto(epChain(ep)));
      }
    }
    b.rule(chain, [], x.numgen(eps.map(epChain)));
  };
  if (usesClusterPolicyChain) toEndpoints(clusterPolicyChain, c.clusterEndpoints);
  if (usesLocalPolicyChain) toEndpoints(localPolicyChain, c.localEndpoints);

  for (const ep of c.allReachableEndpoints) {
    const chain = epChain(ep);
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    b.rule(chain, [x.addr('saddr', toMask(ep.ip))], x.jump(N.MARK_MASQ_CHAIN));
    if (affinity) b.rule(chain, [], x.updateSaddr(affinitySet(ep).dyn!));
    b.rule(chain, [x.l4proto(proto)], x.dnat(ep.ip, ep.port));
  }
}
