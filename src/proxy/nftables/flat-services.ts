// One service port's part of the table written straight into the flat program: the same
// decisions as compile-services.ts (which builds the rule objects and text that listings and
// traces read), made chain by chain in creation order, so the program is word for word what
// compileProgram() makes of the object table (test/proxy/nftables/compile-flat.test.ts
// checks it). No names are hashed and no rule objects or strings are made here: chains are
// indexes, and only affinity sets, which outlive the table, need their names.
import { cidrContains, ipToU32, prefixMask } from '../../packet/addr.ts';
import type { Cidr } from '../../packet/addr.ts';
import {
  categorizeEndpoints,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model.ts';
import type { EndpointInfo } from '../model.ts';
import type { ServicePortEntry } from '../service-map.ts';
import type { AffinitySet } from './affinity.ts';
import { addressSet, PROTO_NUMBERS } from './exprs.ts';
import * as N from './names.ts';
import type { PairTable } from './pair-table.ts';
import type { ProgramWriter } from './program-writer.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';
import type { ServicePortOptions } from './compile-services.ts';

export interface FlatTables {
  readonly clusterIPs: PairTable;
  readonly serviceIPs: PairTable;
  readonly serviceNodePorts: PairTable;
  readonly noEndpointServices: PairTable;
  readonly noEndpointNodePorts: PairTable;
  readonly firewallIPs: PairTable;
}

export interface FlatContext extends ServicePortOptions {
  readonly w: ProgramWriter;
  /** Targets (header offsets) of `mark-for-masquerade` and `reject-chain` (fixed part). */
  readonly markMasq: number;
  readonly rejectChain: number;
  readonly tables: FlatTables;
}

// Enum members copied into module constants (the loader turns imports into getters).
const M_SADDR = MatchKind.Saddr;
const M_DADDR = MatchKind.Daddr;
const M_SADDR_RANGES = MatchKind.SaddrRanges;
const M_SADDR_IN_DYN_SET = MatchKind.SaddrInDynSet;
const M_L4PROTO = MatchKind.L4Proto;
const M_DPORT = MatchKind.Dport;
const M_FIB_SADDR_LOCAL = MatchKind.FibSaddrLocal;
const A_VERDICT = ActionKind.Verdict;
const A_NUMGEN = ActionKind.Numgen;
const A_UPDATE = ActionKind.UpdateSaddr;
const A_DNAT = ActionKind.Dnat;
const V_JUMP = VerdictKind.Jump;
const V_GOTO = VerdictKind.Goto;
const V_DROP = VerdictKind.Drop;
/** prefixMask(32) as an Int32Array holds it. */
const HOST_MASK = prefixMask(32) | 0;

/** A verdict as map values and numgen entries hold it (program.ts: the target's header). */
const packed = (kind: number, chain: number): number => kind | ((chain + 1) << 3);

/**
 * The endpoint chains `first`, `first + 1`, ... of `eps`: `ip saddr EP jump
 * mark-for-masquerade` (hairpin), `update @affinity-…` (with affinity), `meta l4proto P dnat
 * to EP:PORT`. Written as raw words: this loop runs once per endpoint of the cluster.
 */
function writeEndpointChains(
  ctx: FlatContext,
  first: number,
  eps: readonly EndpointInfo[],
  proto: number,
  dyns: readonly AffinitySet[] | undefined,
): void {
  const w = ctx.w;
  const markMasq = ctx.markMasq;
  const per = dyns === undefined ? 19 : 24;
  let o = w.claim(eps.length * per);
  const code = w.buf;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i]!;
    const header = o++;
    code[o] = 1;
    code[o + 1] = A_VERDICT;
    code[o + 2] = V_JUMP;
    code[o + 3] = markMasq;
    code[o + 4] = 0;
    code[o + 5] = M_SADDR;
    code[o + 6] = ep.ip;
    code[o + 7] = HOST_MASK;
    code[o + 8] = 0;
    o += 9;
    if (dyns !== undefined) {
      code[o] = 0;
      code[o + 1] = A_UPDATE;
      code[o + 2] = w.dyn(dyns[i]!);
      code[o + 3] = 0;
      code[o + 4] = 0;
      o += 5;
    }
    code[o] = 1;
    code[o + 1] = A_DNAT;
    code[o + 2] = ep.ip;
    code[o + 3] = ep.port;
    code[o + 4] = 0;
    code[o + 5] = M_L4PROTO;
    code[o + 6] = proto;
    code[o + 7] = 0;
    code[o + 8] = 0;
    o += 9;
    code[header] = o;
    w.setChain(first + i, header);
  }
}

/** The masquerade rule of the internal traffic chain: off-cluster sources, or all. */
function writeMasqueradeRule(ctx: FlatContext, vip: number, port: number, proto: number): void {
  const w = ctx.w;
  const cidr = ctx.clusterCIDR;
  if (!ctx.masqueradeAll && cidr === undefined) return;
  const n = 1 + (ctx.masqueradeWithPort ? 1 : 0) + (ctx.masqueradeAll ? 0 : 1);
  w.rule(n, A_VERDICT, V_JUMP, ctx.markMasq);
  w.match(M_DADDR, vip, HOST_MASK, 0);
  if (ctx.masqueradeWithPort) w.match(M_DPORT, port, 0, proto);
  if (cidr !== undefined && !ctx.masqueradeAll) {
    w.match(M_SADDR, cidr.base, prefixMask(cidr.prefix), 1);
  }
}

/**
 * A policy chain's body: with affinity `ip saddr @affinity-… goto endpoint-…` per endpoint,
 * then `numgen random mod N vmap { … }` over `eps`, a subset of `all` (whose chains start at
 * `first`).
 */
function writeToEndpoints(
  ctx: FlatContext,
  first: number,
  all: readonly EndpointInfo[],
  eps: readonly EndpointInfo[],
  dyns: readonly AffinitySet[] | undefined,
): void {
  const w = ctx.w;
  let at: number[] | undefined;
  if (eps !== all) {
    const index = new Map<EndpointInfo, number>();
    for (let i = 0; i < all.length; i++) index.set(all[i]!, i);
    at = [];
    for (const ep of eps) at.push(index.get(ep)!);
  }
  if (dyns !== undefined) {
    for (let k = 0; k < eps.length; k++) {
      const i = at === undefined ? k : at[k]!;
      w.rule(1, A_VERDICT, V_GOTO, w.target(first + i));
      w.match(M_SADDR_IN_DYN_SET, w.dyn(dyns[i]!), 0, 0);
    }
  }
  w.rule(0, A_NUMGEN, eps.length, 0, eps.length);
  for (let k = 0; k < eps.length; k++) {
    w.word(packed(V_GOTO, w.target(first + (at === undefined ? k : at[k]!))));
  }
}

/** The external chain: masquerade (Cluster policy) or the Local-policy short-circuits. */
function writeExternalChain(
  ctx: FlatContext,
  svc: ServicePortEntry['info'],
  serviceChain: number,
  policyChain: number,
): void {
  const w = ctx.w;
  if (!svc.externalPolicyLocal) w.rule(0, A_VERDICT, V_JUMP, ctx.markMasq);
  else {
    const cidr = ctx.clusterCIDR;
    if (cidr !== undefined) {
      w.rule(1, A_VERDICT, V_GOTO, serviceChain); // short-circuit pod traffic
      w.match(M_SADDR, cidr.base, prefixMask(cidr.prefix), 0);
    }
    w.rule(1, A_VERDICT, V_JUMP, ctx.markMasq); // masquerade local traffic
    w.match(M_FIB_SADDR_LOCAL, 0, 0, 0);
    w.rule(1, A_VERDICT, V_GOTO, serviceChain); // short-circuit local traffic
    w.match(M_FIB_SADDR_LOCAL, 0, 0, 0);
  }
  if (policyChain >= 0) w.rule(0, A_VERDICT, V_GOTO, policyChain);
}

/** The firewall chain: `ip saddr != { source ranges[, LB IPs] } drop`. */
function writeFirewallChain(ctx: FlatContext, svc: ServicePortEntry['info']): void {
  const sources: Cidr[] = [...svc.loadBalancerSourceCidrs];
  const nodeIP = ctx.nodeIP;
  // A VIP-style LB IP held locally makes the node's own requests arrive from the LB IP.
  if (nodeIP !== undefined && sources.some((s) => cidrContains(s, nodeIP))) {
    for (const s of svc.loadBalancerIPs) sources.push({ base: ipToU32(s), prefix: 32 });
  }
  ctx.w.rule(1, A_VERDICT, V_DROP, -1);
  ctx.w.match(M_SADDR_RANGES, ctx.w.range(addressSet(sources).ranges), 0, 1);
}

/** Map and set elements, in compile-services.ts's order (a later value for a key wins). */
function writeElements(
  ctx: FlatContext,
  svc: ServicePortEntry['info'],
  portKey: number,
  hasEndpoints: boolean,
  hasExternalEndpoints: boolean,
  internal: number,
  external: number,
  firewall: number,
): void {
  const t = ctx.tables;
  // No endpoints anywhere: reject. Local policy without local endpoints: drop.
  const filterVerdict = hasEndpoints ? packed(V_DROP, -1) : packed(V_GOTO, ctx.rejectChain);
  // internal, external, firewall: targets of written chains, or -1.
  const vip = svc.clusterIP;
  if (!t.clusterIPs.has(vip, 0)) t.clusterIPs.set(vip, 0, t.clusterIPs.size);
  if (internal >= 0) t.serviceIPs.set(vip, portKey, packed(V_GOTO, internal));
  else t.noEndpointServices.set(vip, portKey, filterVerdict);
  const toExternal = packed(V_GOTO, external);
  for (const s of svc.externalIPs) {
    const ip = ipToU32(s);
    if (hasEndpoints) t.serviceIPs.set(ip, portKey, toExternal);
    if (!hasExternalEndpoints) t.noEndpointServices.set(ip, portKey, filterVerdict);
  }
  for (const s of svc.loadBalancerIPs) {
    const ip = ipToU32(s);
    if (hasEndpoints) t.serviceIPs.set(ip, portKey, toExternal);
    if (firewall >= 0) t.firewallIPs.set(ip, portKey, packed(V_GOTO, firewall));
  }
  if (!hasExternalEndpoints) {
    for (const s of svc.loadBalancerIPs) {
      t.noEndpointServices.set(ipToU32(s), portKey, filterVerdict);
    }
  }
  if (svc.nodePort !== 0) {
    const key = (portKey & ~0xffff) | svc.nodePort;
    if (hasEndpoints) t.serviceNodePorts.set(0, key, toExternal);
    if (!hasExternalEndpoints) t.noEndpointNodePorts.set(0, key, filterVerdict);
  }
}

export function writeServicePortFlat(ctx: FlatContext, e: ServicePortEntry): void {
  const w = ctx.w;
  const svc = e.info;
  const proto = svc.protocol.toLowerCase();
  const p = PROTO_NUMBERS[proto] ?? 0;
  const c = categorizeEndpoints(e.endpoints, svc);
  const all = c.allReachableEndpoints;
  const hasEndpoints = c.hasAnyEndpoints;

  const usesClusterPolicyChain = c.clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = c.localEndpoints.length > 0 && usesLocalEndpoints(svc);
  const noLocal = c.localEndpoints.length === 0;
  const hasInternalEndpoints = hasEndpoints && !(svc.internalPolicyLocal && noLocal);
  const hasExternalEndpoints = hasEndpoints && !(svc.externalPolicyLocal && noLocal);
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(svc);
  const usesFWChain = svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceCidrs.length > 0;
  // A policy chain is also made when a rule or element names it without kube-proxy having
  // created it (compile-services.ts's table lists such a chain last; no packet can tell).
  const internalLocal = hasInternalEndpoints && svc.internalPolicyLocal;
  const externalPolicyGoto = usesExternalTrafficChain && hasExternalEndpoints;
  const needService =
    usesClusterPolicyChain ||
    (hasInternalEndpoints && !svc.internalPolicyLocal) ||
    (usesExternalTrafficChain && svc.externalPolicyLocal) ||
    (externalPolicyGoto && !svc.externalPolicyLocal);
  const needLocal =
    usesLocalPolicyChain || internalLocal || (externalPolicyGoto && svc.externalPolicyLocal);

  // Chain indexes in kube-proxy's creation order: endpoints, service, local, external, firewall.
  const firstEp = w.allocChains(all.length);
  const serviceChain = needService ? w.allocChains(1) : -1;
  const localChain = needLocal ? w.allocChains(1) : -1;
  const externalChain = usesExternalTrafficChain ? w.allocChains(1) : -1;
  const firewallChain = usesFWChain ? w.allocChains(1) : -1;
  const internal = !hasInternalEndpoints ? -1 : svc.internalPolicyLocal ? localChain : serviceChain;

  // Affinity sets, one per reachable endpoint, named as compile-services.ts names them.
  let dyns: AffinitySet[] | undefined;
  if (svc.sessionAffinity === 'ClientIP') {
    const pn = ctx.names.port(e.key, svc.name, proto);
    dyns = [];
    for (const ep of all) {
      const name = N.AFFINITY_PREFIX + pn.endpointBase(ep.ipString, ep.port);
      dyns.push(ctx.affinity.get(name, svc.stickyMaxAgeSeconds));
    }
  }

  writeEndpointChains(ctx, firstEp, all, p, dyns);
  if (serviceChain >= 0) {
    w.beginChain(serviceChain);
    if (internal === serviceChain) writeMasqueradeRule(ctx, svc.clusterIP, svc.port, p);
    if (usesClusterPolicyChain) writeToEndpoints(ctx, firstEp, all, c.clusterEndpoints, dyns);
    w.endChain(serviceChain);
  }
  if (localChain >= 0) {
    w.beginChain(localChain);
    if (internal === localChain) writeMasqueradeRule(ctx, svc.clusterIP, svc.port, p);
    if (usesLocalPolicyChain) writeToEndpoints(ctx, firstEp, all, c.localEndpoints, dyns);
    w.endChain(localChain);
  }
  if (externalChain >= 0) {
    w.beginChain(externalChain);
    const policy = !hasExternalEndpoints ? -1 : svc.externalPolicyLocal ? localChain : serviceChain;
    writeExternalChain(
      ctx,
      svc,
      serviceChain < 0 ? -1 : w.target(serviceChain),
      policy < 0 ? -1 : w.target(policy),
    );
    w.endChain(externalChain);
  }
  if (firewallChain >= 0) {
    w.beginChain(firewallChain);
    writeFirewallChain(ctx, svc);
    w.endChain(firewallChain);
  }
  // Map and set elements last: they name the chains by where they were written.
  writeElements(
    ctx,
    svc,
    (p << 16) | svc.port,
    hasEndpoints,
    hasExternalEndpoints,
    internal < 0 ? -1 : w.target(internal),
    externalChain < 0 ? -1 : w.target(externalChain),
    firewallChain < 0 ? -1 : w.target(firewallChain),
  );
}
