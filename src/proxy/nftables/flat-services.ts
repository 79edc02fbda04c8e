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
import type { AffinitySet, AffinitySource } from './affinity.ts';
import { addressSet, PROTO_NUMBERS } from './exprs.ts';
import * as N from './names.ts';
import type { NameCache } from './names.ts';
import type { PairTable } from './pair-table.ts';
import type { ProgramWriter } from './program-writer.ts';
import { ActionKind, MatchKind, VerdictKind } from './ruleset.ts';

export interface FlatTables {
  readonly clusterIPs: PairTable;
  readonly serviceIPs: PairTable;
  readonly serviceNodePorts: PairTable;
  readonly noEndpointServices: PairTable;
  readonly noEndpointNodePorts: PairTable;
  readonly firewallIPs: PairTable;
}

export interface FlatContext {
  readonly w: ProgramWriter;
  readonly names: NameCache;
  readonly affinity: AffinitySource;
  readonly masqueradeAll: boolean;
  readonly masqueradeWithPort: boolean;
  readonly clusterCIDR: Cidr | undefined;
  readonly nodeIP: number | undefined;
  /** Chain indexes of `mark-for-masquerade` and `reject-chain` (fixed part). */
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

/** A verdict as map values and numgen entries hold it (ruleset.ts packVerdict). */
const packed = (kind: number, chain: number): number => kind | ((chain + 1) << 3);

/** Chain kinds of a service port, besides its endpoint chains. */
const SERVICE = 0;
const LOCAL = 1;
const EXTERNAL = 2;
const FIREWALL = 3;

export function writeServicePortFlat(ctx: FlatContext, e: ServicePortEntry): void {
  const { w, tables } = ctx;
  const svc = e.info;
  const proto = svc.protocol.toLowerCase();
  const p = PROTO_NUMBERS[proto] ?? 0;
  const portKey = (p << 16) | svc.port;
  const c = categorizeEndpoints(e.endpoints, svc);
  const all = c.allReachableEndpoints;
  const hasEndpoints = c.hasAnyEndpoints;
  const affinity = svc.sessionAffinity === 'ClientIP';

  const usesClusterPolicyChain = c.clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = c.localEndpoints.length > 0 && usesLocalEndpoints(svc);
  const noLocal = c.localEndpoints.length === 0;
  const internalKind = svc.internalPolicyLocal ? LOCAL : SERVICE;
  const hasInternalEndpoints = hasEndpoints && !(svc.internalPolicyLocal && noLocal);
  const externalPolicyKind = svc.externalPolicyLocal ? LOCAL : SERVICE;
  const hasExternalEndpoints = hasEndpoints && !(svc.externalPolicyLocal && noLocal);
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible(svc);
  const usesFWChain = svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceCidrs.length > 0;

  // Chain indexes in kube-proxy's creation order: endpoints, service, local, external,
  // firewall. A chain written to or named without being created comes after them (empty
  // when only named); compile-services.ts's table has it last, which no packet can tell.
  const firstEp = w.allocChains(all.length);
  const kindChain = [-1, -1, -1, -1];
  const created: number[] = [];
  const create = (kind: number) => {
    kindChain[kind] = w.allocChains(1);
    created.push(kind);
  };
  if (usesClusterPolicyChain) create(SERVICE);
  if (usesLocalPolicyChain) create(LOCAL);
  if (usesExternalTrafficChain) create(EXTERNAL);
  if (usesFWChain) create(FIREWALL);
  const chainOf = (kind: number): number => {
    if (kindChain[kind]! < 0) create(kind);
    return kindChain[kind]!;
  };
  if (hasInternalEndpoints) chainOf(internalKind);
  if (usesExternalTrafficChain && svc.externalPolicyLocal) chainOf(SERVICE);
  if (usesExternalTrafficChain && hasExternalEndpoints) chainOf(externalPolicyKind);

  // Map and set elements, in compile-services.ts's order (a later value for a key wins).
  const filterVerdict = hasEndpoints ? packed(V_DROP, -1) : packed(V_GOTO, ctx.rejectChain);
  const ip0 = svc.clusterIP;
  if (!tables.clusterIPs.has(ip0, 0)) tables.clusterIPs.set(ip0, 0, tables.clusterIPs.size);
  if (hasInternalEndpoints) {
    tables.serviceIPs.set(ip0, portKey, packed(V_GOTO, kindChain[internalKind]!));
  } else {
    tables.noEndpointServices.set(ip0, portKey, filterVerdict);
  }
  const toExternal = packed(V_GOTO, kindChain[EXTERNAL]!);
  for (const s of svc.externalIPs) {
    const ip = ipToU32(s);
    if (hasEndpoints) tables.serviceIPs.set(ip, portKey, toExternal);
    if (!hasExternalEndpoints) tables.noEndpointServices.set(ip, portKey, filterVerdict);
  }
  for (const s of svc.loadBalancerIPs) {
    const ip = ipToU32(s);
    if (hasEndpoints) tables.serviceIPs.set(ip, portKey, toExternal);
    if (usesFWChain) tables.firewallIPs.set(ip, portKey, packed(V_GOTO, kindChain[FIREWALL]!));
  }
  if (!hasExternalEndpoints) {
    for (const s of svc.loadBalancerIPs) {
      tables.noEndpointServices.set(ipToU32(s), portKey, filterVerdict);
    }
  }
  if (svc.nodePort !== 0) {
    const key = (p << 16) | svc.nodePort;
    if (hasEndpoints) tables.serviceNodePorts.set(0, key, toExternal);
    if (!hasExternalEndpoints) tables.noEndpointNodePorts.set(0, key, filterVerdict);
  }

  // Affinity sets, one per reachable endpoint, named as compile-services.ts names them.
  let dyns: AffinitySet[] | undefined;
  if (affinity) {
    const pn = ctx.names.port(e.key, svc.name, proto);
    dyns = all.map((ep) =>
      ctx.affinity.get(
        N.AFFINITY_PREFIX + pn.endpointBase(ep.ipString, ep.port),
        svc.stickyMaxAgeSeconds,
      ),
    );
  }

  // Endpoint chains: hairpin masquerade, affinity update, DNAT.
  for (let i = 0; i < all.length; i++) {
    const ep = all[i]!;
    const ci = firstEp + i;
    w.beginChain(ci);
    w.rule(1, A_VERDICT, V_JUMP, ctx.markMasq);
    w.match(M_SADDR, ep.ip, HOST_MASK, 0);
    if (dyns !== undefined) w.rule(0, A_UPDATE, w.dyn(dyns[i]!), 0);
    w.rule(1, A_DNAT, ep.ip, ep.port);
    w.match(M_L4PROTO, p, 0, 0);
    w.endChain(ci);
  }

  // The masquerade rule of the internal traffic chain (off-cluster sources, or all).
  const masqueradeRule = () => {
    const cidr = ctx.clusterCIDR;
    if (!ctx.masqueradeAll && cidr === undefined) return;
    const n = 1 + (ctx.masqueradeWithPort ? 1 : 0) + (ctx.masqueradeAll ? 0 : 1);
    w.rule(n, A_VERDICT, V_JUMP, ctx.markMasq);
    w.match(M_DADDR, svc.clusterIP, HOST_MASK, 0);
    if (ctx.masqueradeWithPort) w.match(M_DPORT, svc.port, 0, p);
    if (!ctx.masqueradeAll) w.match(M_SADDR, cidr!.base, prefixMask(cidr!.prefix), 1);
  };
  // Affinity checks, then `numgen random mod N vmap { ... }` over `eps` (a subset of `all`).
  const toEndpoints = (eps: readonly EndpointInfo[]) => {
    const at = eps === all ? undefined : new Map(all.map((ep, i) => [ep, i]));
    const chain = (k: number) => firstEp + (at === undefined ? k : at.get(eps[k]!)!);
    if (dyns !== undefined) {
      for (let k = 0; k < eps.length; k++) {
        const i = chain(k) - firstEp;
        w.rule(1, A_VERDICT, V_GOTO, firstEp + i);
        w.match(M_SADDR_IN_DYN_SET, w.dyn(dyns[i]!), 0, 0);
      }
    }
    w.rule(0, A_NUMGEN, eps.length, 0, eps.length);
    for (let k = 0; k < eps.length; k++) w.word(packed(V_GOTO, chain(k)));
  };

  for (const kind of created) {
    const ci = kindChain[kind]!;
    w.beginChain(ci);
    if (kind === SERVICE || kind === LOCAL) {
      if (kind === internalKind && hasInternalEndpoints) masqueradeRule();
      if (kind === SERVICE && usesClusterPolicyChain) toEndpoints(c.clusterEndpoints);
      if (kind === LOCAL && usesLocalPolicyChain) toEndpoints(c.localEndpoints);
    } else if (kind === EXTERNAL && usesExternalTrafficChain) {
      if (!svc.externalPolicyLocal) w.rule(0, A_VERDICT, V_JUMP, ctx.markMasq);
      else {
        const toService = kindChain[SERVICE]!;
        const cidr = ctx.clusterCIDR;
        if (cidr !== undefined) {
          w.rule(1, A_VERDICT, V_GOTO, toService); // short-circuit pod traffic
          w.match(M_SADDR, cidr.base, prefixMask(cidr.prefix), 0);
        }
        w.rule(1, A_VERDICT, V_JUMP, ctx.markMasq); // masquerade local traffic
        w.match(M_FIB_SADDR_LOCAL, 0, 0, 0);
        w.rule(1, A_VERDICT, V_GOTO, toService); // short-circuit local traffic
        w.match(M_FIB_SADDR_LOCAL, 0, 0, 0);
      }
      if (hasExternalEndpoints) w.rule(0, A_VERDICT, V_GOTO, kindChain[externalPolicyKind]!);
    } else if (kind === FIREWALL && usesFWChain) {
      const sources: Cidr[] = [...svc.loadBalancerSourceCidrs];
      const nodeIP = ctx.nodeIP;
      if (nodeIP !== undefined && sources.some((s) => cidrContains(s, nodeIP))) {
        for (const s of svc.loadBalancerIPs) sources.push({ base: ipToU32(s), prefix: 32 });
      }
      w.rule(1, A_VERDICT, V_DROP, -1);
      w.match(M_SADDR_RANGES, w.range(addressSet(sources).ranges), 0, 1);
    }
    w.endChain(ci);
  }
}
