// The table kube-proxy (pkg/proxy/nftables/proxier.go) keeps in nftables mode, compiled
// from a ServiceMap snapshot: the layout of v1.34 and later by default, v1.30-v1.33's when
// the configured version is older (see docs/proxy-nftables.md). This file writes the fixed part
// (setupNFTables: base chains, jump chains, masquerading, the dispatch maps and the
// no-endpoint / firewall / cluster-IP checks); compile-services.ts writes each
// service port's elements and chains. This object table with its rule text is what views
// read (listings, dumps, traces); a sync compiles the same table straight into its flat
// program (compile-flat.ts) and reuses only the fixed part from here.
import { cidrContains, parseCidr, tryIpToU32 } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import { kubeProxyMinor } from '../config.ts';
import type { NftablesConfig, ProxyCommonConfig } from '../config.ts';
import { Hook } from '../netfilter.ts';
import type { ServicePortEntry } from '../service-map.ts';
import type { AffinitySource } from './affinity.ts';
import { RulesetBuilder } from './builder.ts';
import type { RecordedOp } from './builder.ts';
import { addrElement, writeServicePort } from './compile-services.ts';
import type { ServiceContext } from './compile-services.ts';
import * as x from './exprs.ts';
import * as N from './names.ts';
import type { NameCache } from './names.ts';
import type { BaseChainSpec, ChainType, NftChain, Ruleset } from './ruleset.ts';

/** The common configuration and KubeProxyConfiguration's `nftables` fields side by side. */
export interface NftablesOptions extends ProxyCommonConfig, NftablesConfig {}

/** knftables priorities: "dstnat" is -100, "srcnat" 100. */
const DSTNAT = -100;
const SRCNAT = 100;
const FILTER = 0;

interface BaseChainDef {
  readonly name: string;
  readonly type: ChainType;
  readonly hook: Hook;
  readonly hookName: BaseChainSpec['hookName'];
  readonly priority: number;
}

/**
 * nftablesBaseChains of v1.30-v1.33, in kube-proxy's order: every filter chain runs
 * before DNAT (pre-DNAT destinations), except filter-output-post-dnat.
 */
const BASE_CHAINS_V130: readonly BaseChainDef[] = [
  {
    name: N.FILTER_PREROUTING,
    type: 'filter',
    hook: Hook.Prerouting,
    hookName: 'prerouting',
    priority: DSTNAT - 10,
  },
  { name: N.FILTER_INPUT, type: 'filter', hook: Hook.Input, hookName: 'input', priority: -110 },
  {
    name: N.FILTER_FORWARD,
    type: 'filter',
    hook: Hook.Forward,
    hookName: 'forward',
    priority: -110,
  },
  { name: N.FILTER_OUTPUT, type: 'filter', hook: Hook.Output, hookName: 'output', priority: -110 },
  {
    name: N.FILTER_OUTPUT_POST_DNAT,
    type: 'filter',
    hook: Hook.Output,
    hookName: 'output',
    priority: DSTNAT + 10,
  },
];

/**
 * v1.34+ (kubernetes#132456): only the firewall check stays before DNAT, in the
 * `*-pre-dnat` chains; the endpoint and cluster-IP checks run at priority filter (0),
 * after DNAT, so local traffic short-circuited to a service is not dropped.
 */
const BASE_CHAINS_V134: readonly BaseChainDef[] = [
  {
    name: N.FILTER_PREROUTING_PRE_DNAT,
    type: 'filter',
    hook: Hook.Prerouting,
    hookName: 'prerouting',
    priority: DSTNAT - 10,
  },
  {
    name: N.FILTER_OUTPUT_PRE_DNAT,
    type: 'filter',
    hook: Hook.Output,
    hookName: 'output',
    priority: DSTNAT - 10,
  },
  { name: N.FILTER_INPUT, type: 'filter', hook: Hook.Input, hookName: 'input', priority: FILTER },
  {
    name: N.FILTER_FORWARD,
    type: 'filter',
    hook: Hook.Forward,
    hookName: 'forward',
    priority: FILTER,
  },
  {
    name: N.FILTER_OUTPUT,
    type: 'filter',
    hook: Hook.Output,
    hookName: 'output',
    priority: FILTER,
  },
];

const NAT_BASE_CHAINS: readonly BaseChainDef[] = [
  {
    name: N.NAT_PREROUTING,
    type: 'nat',
    hook: Hook.Prerouting,
    hookName: 'prerouting',
    priority: DSTNAT,
  },
  { name: N.NAT_OUTPUT, type: 'nat', hook: Hook.Output, hookName: 'output', priority: DSTNAT },
  {
    name: N.NAT_POSTROUTING,
    type: 'nat',
    hook: Hook.Postrouting,
    hookName: 'postrouting',
    priority: SRCNAT,
  },
];

type JumpDef = readonly [string, string, boolean];

/** nftablesJumpChains of v1.30-v1.33: [destination, source, `ct state new`?]. */
const JUMP_CHAINS_V130: readonly JumpDef[] = [
  // reject is only valid in input/forward/output hooks on kernels before 5.9.
  [N.NODEPORT_ENDPOINTS_CHECK, N.FILTER_INPUT, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_INPUT, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_FORWARD, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_OUTPUT, true],
  [N.FIREWALL_CHECK, N.FILTER_PREROUTING, true],
  [N.FIREWALL_CHECK, N.FILTER_OUTPUT, true],
  [N.SERVICES_CHAIN, N.NAT_OUTPUT, false],
  [N.SERVICES_CHAIN, N.NAT_PREROUTING, false],
  [N.MASQUERADING_CHAIN, N.NAT_POSTROUTING, false],
  [N.CLUSTER_IPS_CHECK, N.FILTER_FORWARD, true],
  [N.CLUSTER_IPS_CHECK, N.FILTER_OUTPUT_POST_DNAT, true],
];

/** nftablesJumpChains of v1.34+. */
const JUMP_CHAINS_V134: readonly JumpDef[] = [
  [N.NODEPORT_ENDPOINTS_CHECK, N.FILTER_INPUT, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_INPUT, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_FORWARD, true],
  [N.SERVICE_ENDPOINTS_CHECK, N.FILTER_OUTPUT, true],
  [N.FIREWALL_CHECK, N.FILTER_PREROUTING_PRE_DNAT, true],
  [N.FIREWALL_CHECK, N.FILTER_OUTPUT_PRE_DNAT, true],
  [N.SERVICES_CHAIN, N.NAT_OUTPUT, false],
  [N.SERVICES_CHAIN, N.NAT_PREROUTING, false],
  [N.MASQUERADING_CHAIN, N.NAT_POSTROUTING, false],
  [N.CLUSTER_IPS_CHECK, N.FILTER_FORWARD, true],
  [N.CLUSTER_IPS_CHECK, N.FILTER_OUTPUT, true],
];

/** The table's comment, as kube-proxy writes it. */
export const TABLE_COMMENT = 'rules for kube-proxy';

/** The first release with the v1.34 layout (pre-DNAT chains, no dport in masquerade rules). */
export const LAYOUT_V134 = 34;

const CONCAT_TYPE = 'ipv4_addr . inet_proto . inet_service : verdict';
const PORT_TYPE = 'inet_proto . inet_service : verdict';
const LOCALHOST: Cidr = { base: 0x7f000000, prefix: 8 };

/** Base chains of each hook, in priority order (nft runs them lowest first). */
export function hookOrder(chains: readonly NftChain[]): number[][] {
  const out: number[][] = [[], [], [], [], []];
  chains.forEach((c, i) => {
    if (c.base !== undefined) out[c.base.hook]!.push(i);
  });
  for (const l of out) l.sort((a, b) => chains[a]!.base!.priority - chains[b]!.base!.priority);
  return out;
}

/** Node IPs taking NodePort traffic: those inside --nodeport-addresses, never loopback. */
export function nodePortIPs(opts: NftablesOptions): number[] {
  const ips = opts.nodeIPs.map((s) => tryIpToU32(s)).filter((n): n is number => n !== undefined);
  const sel = opts.nodePortAddresses;
  const cidrs = sel === undefined || sel === 'all' ? undefined : sel.map((s) => parseCidr(s, true));
  return ips.filter(
    (ip) => ip >>> 24 !== 127 && (cidrs === undefined || cidrs.some((c) => cidrContains(c, ip))),
  );
}

/**
 * What each service port's compile wrote, by ServiceMap key, for the next compile: a
 * snapshot keeps the entry object of a service port that did not change, and such an
 * entry's chains, rules and elements are replayed instead of compiled again (a sync after
 * one endpoint change then rebuilds one service's part, not all 10,000).
 */
export class ServicePortCache {
  private cur = new Map<string, { entry: ServicePortEntry; ops: RecordedOp[] }>();
  private prev = this.cur;

  /** Start a compile: ports the previous compile did not see are forgotten. */
  begin(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }

  /** The recording of `e`, if it is the same entry as last time. */
  take(e: ServicePortEntry): RecordedOp[] | undefined {
    const hit = this.prev.get(e.key);
    if (hit === undefined || hit.entry !== e) return undefined;
    this.cur.set(e.key, hit);
    return hit.ops;
  }

  put(e: ServicePortEntry, ops: RecordedOp[]): void {
    this.cur.set(e.key, { entry: e, ops });
  }
}

/** Replay `ops` if every affinity set they name is still the one they were recorded with. */
function replayable(ops: readonly RecordedOp[], affinity: AffinitySource): boolean {
  for (const o of ops) {
    if (o.op !== 'set' || o.spec.dyn === undefined) continue;
    if (affinity.get(o.name, o.spec.dyn.timeout) !== o.spec.dyn) return false;
  }
  return true;
}

/**
 * The table's fixed part (setupNFTables: base chains, jump chains, masquerading, the maps,
 * sets and checks) into `b`, with the maps sized for `entries`; returns what each service
 * port's compile needs (everything but the builder, names and affinity sets).
 */
export function writeFixedPart(
  b: RulesetBuilder,
  entries: readonly ServicePortEntry[],
  opts: NftablesOptions,
): Omit<ServiceContext, 'b' | 'names' | 'affinity'> {
  const mark = 1 << (opts.masqueradeBit ?? 14);
  const matchAll = opts.nodePortAddresses === 'all';

  const v134 = kubeProxyMinor(opts.version) >= LAYOUT_V134;
  for (const bc of [...(v134 ? BASE_CHAINS_V134 : BASE_CHAINS_V130), ...NAT_BASE_CHAINS]) {
    b.chain(bc.name, {
      base: { type: bc.type, hook: bc.hook, hookName: bc.hookName, priority: bc.priority },
    });
  }
  for (const [dst, src, ctNew] of v134 ? JUMP_CHAINS_V134 : JUMP_CHAINS_V130) {
    b.chain(dst);
    b.rule(src, ctNew ? [x.ctStateNew()] : [], x.jump(dst));
  }
  for (const c of [N.SERVICES_CHAIN, N.CLUSTER_IPS_CHECK, N.MASQUERADING_CHAIN, N.MARK_MASQ_CHAIN])
    b.chain(c);

  b.rule(N.MARK_MASQ_CHAIN, [], x.markOr(mark));
  // Only marked packets are masqueraded; the mark is cleared so a packet that goes
  // through the stack again is not masqueraded twice.
  b.rule(N.MASQUERADING_CHAIN, [x.markAnd(mark, 0)], x.ret());
  b.rule(N.MASQUERADING_CHAIN, [], x.markXor(mark));
  b.rule(N.MASQUERADING_CHAIN, [], x.masquerade(true));

  let expected = 0;
  for (const e of entries)
    expected += 1 + e.info.externalIPs.length + e.info.loadBalancerIPs.length;
  const clusterIPs = b.set(N.CLUSTER_IPS_SET, {
    type: 'ipv4_addr',
    comment: 'Active ClusterIPs',
    expected: entries.length,
  });
  b.rule(
    N.CLUSTER_IPS_CHECK,
    [x.daddrInSet(N.CLUSTER_IPS_SET, clusterIPs.table)],
    x.reject(),
    'Reject traffic to invalid ports of ClusterIPs',
  );
  const serviceCIDRs = (opts.serviceCIDRs ?? []).map((s) => parseCidr(s, true));
  if (serviceCIDRs.length > 0) {
    b.rule(
      N.CLUSTER_IPS_CHECK,
      [x.addrIn('daddr', serviceCIDRs)],
      x.drop(),
      'Drop traffic to unallocated ClusterIPs',
    );
  }

  // With match-all --nodeport-addresses kube-proxy deletes the set instead.
  const nodePortSet = matchAll
    ? undefined
    : b.set(N.NODEPORT_IPS_SET, { type: 'ipv4_addr', comment: 'IPs that accept NodePort traffic' });
  if (nodePortSet !== undefined) {
    for (const ip of nodePortIPs(opts)) {
      addrElement(b, nodePortSet, ip);
    }
  }

  const noEndpointServices = b.set(N.NO_ENDPOINT_SERVICES_MAP, {
    type: CONCAT_TYPE,
    isMap: true,
    comment: 'vmap to drop or reject packets to services with no endpoints',
  });
  const noEndpointNodePorts = b.set(N.NO_ENDPOINT_NODEPORTS_MAP, {
    type: PORT_TYPE,
    isMap: true,
    comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
  });
  b.chain(N.REJECT_CHAIN, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  b.rule(N.REJECT_CHAIN, [], x.reject());
  b.rule(N.SERVICE_ENDPOINTS_CHECK, [], x.vmapAddrProtoPort(noEndpointServices));
  const nodePortDst =
    nodePortSet === undefined
      ? x.addr('daddr', LOCALHOST, true)
      : x.daddrInSet(N.NODEPORT_IPS_SET, nodePortSet.table);
  b.rule(N.NODEPORT_ENDPOINTS_CHECK, [nodePortDst], x.vmapProtoPort(noEndpointNodePorts));

  const firewallIPs = b.set(N.FIREWALL_IPS_MAP, {
    type: CONCAT_TYPE,
    isMap: true,
    comment: 'destinations that are subject to LoadBalancerSourceRanges',
  });
  b.rule(N.FIREWALL_CHECK, [], x.vmapAddrProtoPort(firewallIPs));

  const serviceIPs = b.set(N.SERVICE_IPS_MAP, {
    type: CONCAT_TYPE,
    isMap: true,
    comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    expected,
  });
  const serviceNodePorts = b.set(N.SERVICE_NODEPORTS_MAP, {
    type: PORT_TYPE,
    isMap: true,
    comment: 'NodePort traffic',
  });
  b.rule(N.SERVICES_CHAIN, [], x.vmapAddrProtoPort(serviceIPs));
  b.rule(
    N.SERVICES_CHAIN,
    nodePortSet === undefined
      ? [x.fibDaddrLocal(), x.addr('daddr', LOCALHOST, true)]
      : [x.daddrInSet(N.NODEPORT_IPS_SET, nodePortSet.table)],
    x.vmapProtoPort(serviceNodePorts),
  );

  const nodeIP = opts.nodeIPs[0] === undefined ? undefined : tryIpToU32(opts.nodeIPs[0]);
  return {
    masqueradeAll: opts.masqueradeAll ?? false,
    masqueradeWithPort: !v134,
    clusterCIDR: opts.clusterCIDR === undefined ? undefined : parseCidr(opts.clusterCIDR, true),
    nodeIP,
    sets: {
      clusterIPs,
      serviceIPs,
      serviceNodePorts,
      noEndpointServices,
      noEndpointNodePorts,
      firewallIPs,
    },
  };
}

/** Compile the whole table for `entries` (sorted by key, as the snapshot gives them). */
export function compileRuleset(
  entries: readonly ServicePortEntry[],
  opts: NftablesOptions,
  names: NameCache,
  affinity: AffinitySource,
  cache: ServicePortCache = new ServicePortCache(),
): Ruleset {
  cache.begin();
  names.nextGeneration();
  affinity.begin();
  const b = new RulesetBuilder(N.KUBE_PROXY_TABLE, TABLE_COMMENT);
  const ctx: ServiceContext = { ...writeFixedPart(b, entries, opts), b, names, affinity };
  for (const e of entries) {
    const ops = cache.take(e);
    if (ops !== undefined && replayable(ops, affinity)) {
      b.replay(ops);
      continue;
    }
    b.record();
    writeServicePort(ctx, e);
    cache.put(e, b.stopRecording());
  }
  affinity.end();
  return b.build(hookOrder);
}
