// The rule set kube-proxy (v1.28, pkg/proxy/iptables/proxier.go syncProxyRules)
// writes in iptables mode, compiled from a ServiceMap snapshot. This file holds the
// fixed chains and jumps; compile-services.ts writes the per-service-port rules.
import { parseCidr, formatCidr } from '../../packet/addr.ts';
import { kubeProxyMinor } from '../config.ts';
import type { IptablesConfig, ProxyCommonConfig } from '../config.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { RuleSetBuilder, argv } from './builder.ts';
import {
  CT_STATE_INVALID_COUNTER,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names.ts';
import { CompileCache } from './compile-cache.ts';
import { writeServiceChains } from './compile-service-chains.ts';
import { planServicePort, writeCaptures } from './compile-services.ts';
import type { ServiceWriteContext } from './compile-services.ts';
import { RuleWriter } from './rule-writer.ts';
import { ServiceFragment } from './service-fragment.ts';
import type { ObjectFragment } from './service-fragment.ts';
import { goHex08, kubeProxyProbability } from './format.ts';
import type { Rule, RuleSet, TableName } from './rules.ts';

/** The common configuration and KubeProxyConfiguration's `iptables` fields side by side. */
export interface IptablesOptions extends ProxyCommonConfig, IptablesConfig {}

/** kube-proxy's largeClusterEndpointsThreshold: above it, endpoint rules lose their comments. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

interface JumpChain {
  readonly table: TableName;
  readonly dst: string;
  readonly src: string;
  readonly comment: string;
  readonly extra: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

/** iptablesJumpChains, in kube-proxy's order. */
const JUMP_CHAINS: readonly JumpChain[] = [
  {
    table: 'filter',
    dst: KUBE_EXTERNAL_SERVICES,
    src: 'INPUT',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_EXTERNAL_SERVICES,
    src: 'FORWARD',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_NODEPORTS,
    src: 'INPUT',
    comment: 'kubernetes health check service ports',
    extra: [],
  },
  {
    table: 'filter',
    dst: KUBE_SERVICES,
    src: 'FORWARD',
    comment: 'kubernetes service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_SERVICES,
    src: 'OUTPUT',
    comment: 'kubernetes service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_FORWARD,
    src: 'FORWARD',
    comment: 'kubernetes forwarding rules',
    extra: [],
  },
  {
    table: 'filter',
    dst: KUBE_PROXY_FIREWALL,
    src: 'INPUT',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_PROXY_FIREWALL,
    src: 'OUTPUT',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'filter',
    dst: KUBE_PROXY_FIREWALL,
    src: 'FORWARD',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'nat',
    dst: KUBE_SERVICES,
    src: 'OUTPUT',
    comment: 'kubernetes service portals',
    extra: [],
  },
  {
    table: 'nat',
    dst: KUBE_SERVICES,
    src: 'PREROUTING',
    comment: 'kubernetes service portals',
    extra: [],
  },
  {
    table: 'nat',
    dst: KUBE_POSTROUTING,
    src: 'POSTROUTING',
    comment: 'kubernetes postrouting rules',
    extra: [],
  },
];

/** iptablesKubeletJumpChains: kubelet's own jumps, which exist before kube-proxy starts. */
const KUBELET_JUMP_CHAINS: readonly JumpChain[] = [
  { table: 'filter', dst: KUBE_FIREWALL, src: 'INPUT', comment: '', extra: [] },
  { table: 'filter', dst: KUBE_FIREWALL, src: 'OUTPUT', comment: '', extra: [] },
];

function jumpArgs(j: JumpChain): string[] {
  const args = ['-A', j.src, ...j.extra];
  if (j.comment !== '') args.push('-m', 'comment', '--comment', j.comment);
  args.push('-j', j.dst);
  return args;
}

/**
 * The built-in chains' jump rules as they end up in a running node: kubelet appends
 * its KUBE-FIREWALL jumps first, then kube-proxy's EnsureRule(Prepend) puts each of
 * its jumps at the top, so kube-proxy's list appears reversed above kubelet's.
 */
function writeJumps(b: RuleSetBuilder): void {
  const perChain = new Map<string, string[][]>();
  const at = (j: JumpChain) => {
    const k = `${j.table}/${j.src}`;
    let l = perChain.get(k);
    if (l === undefined) perChain.set(k, (l = []));
    return l;
  };
  for (const j of [...KUBELET_JUMP_CHAINS, ...JUMP_CHAINS]) b.ensureChain(j.table, j.dst);
  for (const j of KUBELET_JUMP_CHAINS) at(j).push(jumpArgs(j));
  for (const j of JUMP_CHAINS) at(j).unshift(jumpArgs(j));
  for (const [k, rules] of perChain) {
    const table = k.slice(0, k.indexOf('/')) as TableName;
    for (const r of rules) b.builtinRule(table, r);
  }
}

/**
 * kube-proxy's probability strings, memoised. (Made here, not in compileRuleSet: a
 * fragment keeps this closure, which must not keep the build's variables alive.)
 */
function probabilityMemo(): (n: number) => string {
  const memo: string[] = [];
  return (n) => (memo[n] ??= kubeProxyProbability(n));
}

/**
 * Writes an entry's rules again as objects with text (views ask for them rarely); one
 * per compile, shared by its fragments (a closure per fragment was 100,000 of them).
 */
function textWriter(
  ctx: Omit<ServiceWriteContext<unknown>, 'w'>,
): (into: ObjectFragment, e: ServicePortEntry) => void {
  return (into, e) => {
    const c: ServiceWriteContext<Rule> = { ...ctx, w: new RuleWriter(true) };
    const plan = planServicePort(c, e);
    writeCaptures(c, plan, into);
    writeServiceChains(c, plan, into);
  };
}

/**
 * Compile the rules for every service port in `entries` (sorted by key). Pass the
 * same `cache` to successive compiles to reuse hashes and parsed rules.
 */
export function compileRuleSet(
  entries: readonly ServicePortEntry[],
  opts: IptablesOptions,
  cache: CompileCache = new CompileCache(),
): RuleSet {
  cache.nextGeneration();
  const b = new RuleSetBuilder(cache.rules);
  const bit = opts.masqueradeBit ?? 14;
  const mark = opts.masqueradeMarkText ?? goHex08(1 << bit);
  const localhostNodePorts = opts.localhostNodePorts ?? true;
  // nfacct counters (when the node has nfnetlink_acct): kubernetes#122812 (v1.30) and
  // #125015 (v1.31).
  const minor = kubeProxyMinor(opts.version);
  const nfacct = opts.nfacct ?? true;
  const invalidCounter = nfacct && minor >= 30;

  writeJumps(b);
  if (opts.canaryChains ?? true) {
    b.ensureChain('nat', KUBE_PROXY_CANARY);
    b.ensureChain('filter', KUBE_PROXY_CANARY);
  }

  for (const c of [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
  ]) {
    b.chain('filter', c);
  }
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) {
    b.chain('nat', c);
  }

  // KUBE-POSTROUTING: only marked packets are masqueraded; the mark is cleared first
  // so a packet that re-traverses the stack is not masqueraded twice.
  const markMask = `${mark}/${mark}`;
  b.rule('nat', argv`-A ${KUBE_POSTROUTING} -m mark ! --mark ${markMask} -j RETURN`);
  b.rule('nat', argv`-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${mark}`);
  const randomFully = (opts.randomFully ?? true) ? ['--random-fully'] : [];
  b.rule(
    'nat',
    argv`-A ${KUBE_POSTROUTING} -m comment --comment ${'"kubernetes service traffic requiring SNAT"'} -j MASQUERADE ${randomFully}`,
  );
  b.rule('nat', argv`-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${mark}`);

  if (localhostNodePorts) {
    // route_localnet opens 127.0.0.0/8 to the outside; this rule closes that hole.
    b.chain('filter', KUBE_FIREWALL);
    b.rule(
      'filter',
      argv`-A ${KUBE_FIREWALL} -m comment --comment ${'"block incoming localnet connections"'} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    );
  }

  let totalEndpoints = 0;
  for (const e of entries) totalEndpoints += e.endpoints.length;
  const cidr =
    opts.clusterCIDR === undefined ? undefined : formatCidr(parseCidr(opts.clusterCIDR, true));
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  // Room for the service rules: about three per endpoint (SVC jump, SEP masquerade + DNAT)
  // and two match modules (statistic, the DNAT rule's -m tcp).
  let capacity = 64;
  let ops = 64;
  let chains = 64; // KUBE-SVC and a KUBE-SEP per endpoint (KUBE-SVL/EXT/FW grow it)
  for (const e of entries) {
    capacity += 3 * e.endpoints.length + 4;
    ops += 2 * e.endpoints.length + 4;
    chains += e.endpoints.length + 1;
  }
  const w = b.columnWriter(capacity, ops, chains);
  // What a fragment keeps to write its rules again: not this build's column writer (it
  // would keep the whole build's columns alive).
  const shared: Omit<ServiceWriteContext<unknown>, 'w'> = {
    names: cache,
    masqueradeAll: opts.masqueradeAll ?? false,
    clusterCIDR: cidr,
    nodeIP: opts.nodeIPs[0],
    largeClusterMode,
    localhostNodePortsCounter: nfacct && minor >= 31 && localhostNodePorts,
    probability: probabilityMemo(),
  };
  const ctx: ServiceWriteContext<number> = { ...shared, w };
  const fragments = cache.fragments;
  // Unchanged fragments that lay one after another in the last rule set are copied as one run.
  const rewrite = textWriter(shared);
  const run: ServiceFragment[] = [];
  const flush = () => {
    if (run.length > 0) b.replayFragments(run);
    run.length = 0;
  };
  for (const e of entries) {
    // An entry object the ServiceMap kept is unchanged: copy the rules written for it.
    let f = fragments.get(e);
    if (f !== undefined && f.large === largeClusterMode && b.canReplay(f)) {
      if (run.length > 0 && !run[run.length - 1]!.followedBy(f)) flush();
      run.push(f);
      continue;
    }
    flush();
    f = new ServiceFragment(e, largeClusterMode, rewrite);
    fragments.set(e, f);
    const plan = planServicePort(ctx, e);
    b.startFragment();
    writeCaptures(ctx, plan, w);
    writeServiceChains(ctx, plan, w);
    b.fragment(f);
    plan.names.prune(e.endpoints);
  }
  flush();
  cache.prune(entries);

  // The tail call to KUBE-NODEPORTS must be the last rule of KUBE-SERVICES.
  const dest = localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8'];
  b.rule(
    'nat',
    argv`-A ${KUBE_SERVICES} -m comment --comment ${'"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'} -m addrtype --dst-type LOCAL ${dest} -j ${KUBE_NODEPORTS}`,
  );

  // Drop INVALID packets, which would otherwise reset connections (kubernetes#74839).
  const counter = invalidCounter ? ['-m', 'nfacct', '--nfacct-name', CT_STATE_INVALID_COUNTER] : [];
  b.rule('filter', argv`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID ${counter} -j DROP`);
  b.rule(
    'filter',
    argv`-A ${KUBE_FORWARD} -m comment --comment ${'"kubernetes forwarding rules"'} -m mark --mark ${markMask} -j ACCEPT`,
  );
  b.rule(
    'filter',
    argv`-A ${KUBE_FORWARD} -m comment --comment ${'"kubernetes forwarding conntrack rule"'} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  return b.build();
}
