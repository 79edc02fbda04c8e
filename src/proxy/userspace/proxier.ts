// kube-proxy's userspace mode (pkg/proxy/userspace, Kubernetes v1.0 to v1.25) as a
// DataplaneProxier. Per service port kube-proxy opens a local port (the proxy port) and
// writes portal rules (portals.ts) that REDIRECT (from containers) or DNAT (from the host)
// the service's addresses to it; kube-proxy itself accepts each connection, picks a
// backend round robin (balancer.ts) and relays the bytes. The rules are this file's
// classify(); the relay is the host's process (src/sim/userspace-relay.ts), which reaches
// the balancer through relay() (src/proxy/relay.ts).
import type { ServicePortInfo } from '../model.ts';
import { tryIpToU32 } from '../../packet/addr.ts';
import { Verdict, newEvalResult, resetEvalResult } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { TABLE_FILTER, TABLE_NAT } from '../hooks.ts';
import type { DataplaneProxier } from '../hooks.ts';
import { CtState, Hook } from '../netfilter.ts';
import { ADDR_DST_LOCAL } from '../packet-meta.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { ProxyRelay, RelayBackend, RelayPort } from '../relay.ts';
import { ServiceMapProxier } from '../service-map-proxier.ts';
import type { TraceEvent } from '../trace.ts';
import type { NodeViews } from '../views.ts';
import { LoadBalancerRR } from './balancer.ts';
import {
  JUMPS,
  NODEPORT_CONTAINER,
  NODEPORT_HOST,
  NODEPORT_NON_LOCAL,
  PORTALS_CONTAINER,
  PORTALS_HOST,
  PortalTarget,
  buildPortalRules,
} from './portals.ts';
import type { JumpRule, PortalRule, PortalRules } from './portals.ts';
import { UserspaceNodeViews } from './views.ts';

export interface UserspaceOptions {
  readonly nodeName: string;
  readonly nodeIPs: readonly string[];
  /** Uniform [0, 1): proxy ports (the kernel's pick for a :0 listen) and the endpoint shuffle. */
  readonly random: () => number;
  /** The node's clock in seconds (session affinity). */
  readonly now: () => number;
  /** --udp-timeout (default 250 ms). */
  readonly udpIdleTimeoutMs?: number;
  /** --proxy-port-range LO-HI (default: the kernel's ephemeral range). */
  readonly proxyPortRange?: readonly [number, number];
}

/** One open service port: what sameConfig() compares, and the port it listens on. */
interface OpenPort {
  readonly key: string;
  readonly info: ServicePortInfo;
  readonly proxyPort: number;
}

/** Packet and byte counters of one rule (or a built-in chain's policy). */
interface Count {
  pkts: number;
  bytes: number;
}

/** ip_local_port_range, where a listen on port 0 lands. */
const EPHEMERAL: readonly [number, number] = [32768, 60999];
/** proxysocket.go: endpointDialTimeout. */
const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
/** Path token of an established packet's filter INPUT walk (the jump and the policy). */
const PATH_INPUT = 1;

const portalKey = (proto: number, dst: number, dport: number) =>
  proto * 2 ** 48 + (dst >>> 0) * 65536 + dport;

/** kube-proxy's sameConfig(): a change to any of these reopens the port. */
function sameConfig(a: ServicePortInfo, b: ServicePortInfo): boolean {
  return (
    a.protocol === b.protocol &&
    a.port === b.port &&
    a.nodePort === b.nodePort &&
    a.clusterIP === b.clusterIP &&
    a.externalIPs.join(',') === b.externalIPs.join(',') &&
    a.loadBalancerIPs.join(',') === b.loadBalancerIPs.join(',') &&
    a.sessionAffinity === b.sessionAffinity
  );
}

export class UserspaceProxier extends ServiceMapProxier implements DataplaneProxier, ProxyRelay {
  readonly balancer: LoadBalancerRR;
  readonly hostIP: string;
  private readonly hostU32: number;
  readonly udpIdleTimeoutMs: number;
  readonly dialTimeoutsMs: readonly number[] = DIAL_TIMEOUTS_MS;
  onPortsChanged: (() => void) | undefined;
  interfaceAddress: ((ifName: string) => number | undefined) | undefined;

  private readonly open = new Map<string, OpenPort>();
  private readonly byProxyPort = new Map<number, OpenPort>();
  private portList: RelayPort[] = [];
  private rules: PortalRules = buildPortalRules([], '0.0.0.0');
  private portalIndex = new Map<number, PortalRule[]>();
  private nodePortIndex = new Map<number, PortalRule[]>();
  private nonLocalIndex = new Map<number, PortalRule>();
  /** Counters by rule text (kept across syncs while the rule stays, as in the kernel). */
  private counts = new Map<string, Count>();
  /** countPath's two counters, looked up once (they live as long as the proxier). */
  private inputJumpCount: Count | undefined;
  private inputPolicyCount: Count | undefined;
  private generation = 0;
  private syncedGeneration = -1;
  private readonly result = newEvalResult();
  private nodeViews: NodeViews | undefined;
  private readonly inputJump: JumpRule;
  /** PREROUTING's and OUTPUT's two jumps (to the portal chain, then the NodePort chain). */
  private readonly natJumps: readonly [JumpRule, JumpRule][];

  constructor(private readonly options: UserspaceOptions) {
    super(options.nodeName, options.nodeIPs);
    this.balancer = new LoadBalancerRR(options.random, options.now);
    this.hostIP = options.nodeIPs[0] ?? '0.0.0.0';
    this.hostU32 = tryIpToU32(this.hostIP) ?? 0;
    this.udpIdleTimeoutMs = options.udpIdleTimeoutMs ?? 250;
    this.inputJump = JUMPS.find((j) => j.chain === 'INPUT')!;
    const pair = (chain: string) => {
      const [a, b] = JUMPS.filter((j) => j.table === 'nat' && j.chain === chain);
      return [a!, b!] as [JumpRule, JumpRule];
    };
    this.natJumps = [pair('PREROUTING'), pair('OUTPUT')];
    this.rules = buildPortalRules([], this.hostIP);
  }

  /** The rules of every chain, as kube-proxy last wrote them. */
  portalRules(): PortalRules {
    return this.rules;
  }

  /** The packet and byte counters of a rule (by its iptables-save line) or `policy:CHAIN`. */
  counter(line: string): Count {
    let c = this.counts.get(line);
    if (c === undefined) {
      c = { pkts: 0, bytes: 0 };
      this.counts.set(line, c);
    }
    return c;
  }

  sync(): void {
    const snap = this.serviceMap.snapshot();
    if (snap.generation === this.syncedGeneration) {
      this.balancer.cleanupStaleStickySessions();
      return;
    }
    this.syncedGeneration = snap.generation;
    let portsChanged = false;
    const seen = new Set<string>();
    for (const e of snap.entries) {
      seen.add(e.key);
      let p = this.open.get(e.key);
      if (p === undefined || !sameConfig(p.info, e.info)) {
        if (p !== undefined) this.byProxyPort.delete(p.proxyPort);
        p = { key: e.key, info: e.info, proxyPort: this.allocatePort() };
        this.open.set(e.key, p);
        this.byProxyPort.set(p.proxyPort, p);
        portsChanged = true;
      } else if (p.info !== e.info) {
        p = { ...p, info: e.info };
        this.open.set(e.key, p);
        this.byProxyPort.set(p.proxyPort, p);
      }
      this.balancer.newService(
        e.key,
        e.info.sessionAffinity === 'ClientIP',
        e.info.stickyMaxAgeSeconds,
      );
      this.balancer.setEndpoints(
        e.key,
        e.endpoints.filter((ep) => ep.ready).map((ep) => ep.endpoint),
      );
    }
    for (const [key, p] of this.open) {
      if (seen.has(key)) continue;
      this.open.delete(key);
      this.byProxyPort.delete(p.proxyPort);
      this.balancer.deleteService(key);
      portsChanged = true;
    }
    this.balancer.cleanupStaleStickySessions();
    if (!portsChanged && this.generation > 0) return;
    this.install();
    if (portsChanged) this.onPortsChanged?.();
  }

  /** Rebuild the rules and their lookups from the open ports, and swap them in. */
  private install(): void {
    const open = [...this.open.values()];
    const rules = buildPortalRules(open, this.hostIP);
    const index = (chain: string, key: (r: PortalRule) => number) => {
      const m = new Map<number, PortalRule[]>();
      for (const r of rules.chains.get(chain)!) {
        const k = key(r);
        const list = m.get(k);
        if (list === undefined) m.set(k, [r]);
        else list.push(r);
      }
      return m;
    };
    this.portalIndex = new Map();
    for (const chain of [PORTALS_CONTAINER, PORTALS_HOST]) {
      for (const [k, v] of index(chain, (r) => portalKey(r.proto, r.dst, r.dport)))
        this.portalIndex.set(k * 2 + (chain === PORTALS_HOST ? 1 : 0), v);
    }
    this.nodePortIndex = new Map();
    for (const chain of [NODEPORT_CONTAINER, NODEPORT_HOST]) {
      for (const [k, v] of index(chain, (r) => portalKey(r.proto, 0, r.dport)))
        this.nodePortIndex.set(k * 2 + (chain === NODEPORT_HOST ? 1 : 0), v);
    }
    this.nonLocalIndex = new Map();
    for (const r of rules.chains.get(NODEPORT_NON_LOCAL)!)
      this.nonLocalIndex.set(portalKey(r.proto, 0, r.dport), r);
    // Counters of rules that went away go with them.
    const keep = new Map<string, Count>();
    for (const list of rules.chains.values())
      for (const r of list) {
        const c = this.counts.get(r.line);
        if (c !== undefined) keep.set(r.line, c);
      }
    for (const [k, c] of this.counts) if (!k.startsWith('-A ')) keep.set(k, c);
    for (const j of JUMPS) {
      const c = this.counts.get(j.line);
      if (c !== undefined) keep.set(j.line, c);
    }
    this.counts = keep;
    this.rules = rules;
    this.portList = open
      .map((p) => ({ name: p.info.nameString, protocol: p.info.protocol, proxyPort: p.proxyPort }))
      .sort((a, b) => a.proxyPort - b.proxyPort);
    this.generation++;
  }

  /** A free port: --proxy-port-range, or where the kernel puts a listen on port 0. */
  private allocatePort(): number {
    const [lo, hi] = this.options.proxyPortRange ?? EPHEMERAL;
    const span = hi - lo + 1;
    const start = Math.floor(this.options.random() * span);
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + i) % span);
      if (!this.byProxyPort.has(p)) return p;
    }
    throw new Error(`userspace proxier: no free proxy port in ${lo}-${hi}`);
  }

  // ---- ProxyRelay: what the relay process asks ------------------------------------------

  relay(): ProxyRelay {
    return this;
  }

  ports(): readonly RelayPort[] {
    return this.portList;
  }

  /** The service port kube-proxy serves on `proxyPort` (for views and traces). */
  servicePortOn(proxyPort: number): ServicePortInfo | undefined {
    return this.byProxyPort.get(proxyPort)?.info;
  }

  nextEndpoint(
    proxyPort: number,
    clientIp: number,
    affinityReset: boolean,
  ): RelayBackend | undefined {
    const p = this.byProxyPort.get(proxyPort);
    if (p === undefined) return undefined;
    const endpoint = this.balancer.nextEndpoint(p.key, clientIp, affinityReset);
    if (endpoint === undefined) return undefined;
    const at = endpoint.lastIndexOf(':');
    const ip = tryIpToU32(endpoint.slice(0, at));
    if (ip === undefined) return undefined;
    return { ip, port: Number(endpoint.slice(at + 1)), endpoint };
  }

  // ---- DataplaneProxier: the portal rules --------------------------------------------------

  classify(
    m: PacketMeta,
    hook: Hook,
    tables: number,
    out: EvalResult = this.result,
    trace?: (e: TraceEvent) => void,
  ): EvalResult {
    resetEvalResult(out, m.mark);
    if (tables & TABLE_NAT && (hook === Hook.Prerouting || hook === Hook.Output)) {
      this.natWalk(m, hook === Hook.Output, out, trace);
    }
    if (tables & TABLE_FILTER && hook === Hook.Input) this.inputWalk(m, out, trace);
    return out;
  }

  private hit(line: string, len: number): void {
    const c = this.counter(line);
    c.pkts++;
    c.bytes += len;
  }

  /** nat PREROUTING (containers) or OUTPUT (the host): portals first, then NodePorts. */
  private natWalk(
    m: PacketMeta,
    host: boolean,
    out: EvalResult,
    trace?: (e: TraceEvent) => void,
  ): void {
    const builtin = host ? 'OUTPUT' : 'PREROUTING';
    const side = host ? 1 : 0;
    const [toPortals, toNodePorts] = this.natJumps[side]!;
    const dstLocal = (m.addrFlags & ADDR_DST_LOCAL) !== 0;
    const step = (
      chain: string,
      ruleNum: number,
      text: string,
      kind: TraceEvent['kind'] = 'rule',
    ) => trace?.({ table: 'nat', chain, ruleNum, kind, text });
    out.rulesVisited++;
    this.hit(toPortals.line, m.len);
    step(builtin, 1, toPortals.line);
    const portalChain = host ? PORTALS_HOST : PORTALS_CONTAINER;
    for (const r of this.portalIndex.get(portalKey(m.proto, m.dst, m.dport) * 2 + side) ?? []) {
      out.rulesVisited++;
      // physdev ! --physdev-is-in: svclab's pods hang off routed veths, never a bridge port.
      if (r.dstLocal && !dstLocal) continue;
      return this.take(r, m, out, step);
    }
    step(portalChain, this.rules.chains.get(portalChain)!.length + 1, '', 'return');
    out.rulesVisited++;
    if (dstLocal) {
      this.hit(toNodePorts.line, m.len);
      step(builtin, 2, toNodePorts.line);
      const npChain = host ? NODEPORT_HOST : NODEPORT_CONTAINER;
      const r = this.nodePortIndex.get(portalKey(m.proto, 0, m.dport) * 2 + side)?.[0];
      if (r !== undefined) return this.take(r, m, out, step);
      step(npChain, this.rules.chains.get(npChain)!.length + 1, '', 'return');
    }
    this.hit(`policy:nat:${builtin}`, m.len);
    step(builtin, 3, '', 'policy');
  }

  /** A portal rule took the packet: REDIRECT or DNAT to the proxy port. */
  private take(
    r: PortalRule,
    m: PacketMeta,
    out: EvalResult,
    step: (chain: string, ruleNum: number, text: string) => void,
  ): void {
    this.hit(r.line, m.len);
    step(r.chain, r.pos + 1, r.line);
    out.dnat = true;
    out.dnatPort = r.proxyPort;
    out.dnatIp =
      r.target === PortalTarget.Redirect
        ? (this.interfaceAddress?.(m.inIface) ?? this.hostU32)
        : r.toIp;
  }

  /** filter INPUT: KUBE-NODEPORT-NON-LOCAL accepts new connections to a NodePort's proxy port. */
  private inputWalk(m: PacketMeta, out: EvalResult, trace?: (e: TraceEvent) => void): void {
    const j = this.inputJump;
    out.rulesVisited++;
    this.hit(j.line, m.len);
    trace?.({ table: 'filter', chain: 'INPUT', ruleNum: 1, kind: 'rule', text: j.line });
    const r = this.nonLocalIndex.get(portalKey(m.proto, 0, m.dport));
    if (r !== undefined && m.ctstate & CtState.NEW) {
      out.rulesVisited++;
      this.hit(r.line, m.len);
      trace?.({ table: 'filter', chain: r.chain, ruleNum: r.pos + 1, kind: 'rule', text: r.line });
      out.verdict = Verdict.Accept;
      return;
    }
    const n = this.rules.chains.get(NODEPORT_NON_LOCAL)!.length;
    trace?.({
      table: 'filter',
      chain: NODEPORT_NON_LOCAL,
      ruleNum: n + 1,
      kind: 'return',
      text: '',
    });
    this.hit('policy:filter:INPUT', m.len);
    trace?.({ table: 'filter', chain: 'INPUT', ruleNum: 2, kind: 'policy', text: '' });
  }

  /** What filterEstablished() answers changes only when the rules are rewritten. */
  flowGeneration(): number {
    return this.generation;
  }

  filterEstablished(m: PacketMeta, hook: Hook, out: EvalResult): number {
    this.classify(m, hook, TABLE_FILTER, out);
    return hook === Hook.Input ? PATH_INPUT : 0;
  }

  countPath(token: number, len: number): void {
    if (token !== PATH_INPUT) return;
    const j = (this.inputJumpCount ??= this.counter(this.inputJump.line));
    const p = (this.inputPolicyCount ??= this.counter('policy:filter:INPUT'));
    j.pkts++;
    j.bytes += len;
    p.pkts++;
    p.bytes += len;
  }

  trace(
    m: PacketMeta,
    hook: Hook,
    onStep: (e: TraceEvent) => void,
    tables = TABLE_NAT | TABLE_FILTER,
  ): EvalResult {
    return this.classify(m, hook, tables, newEvalResult(), onStep);
  }

  /** The node's tools in userspace mode: its iptables rules (src/proxy/views.ts). */
  views(): NodeViews {
    return (this.nodeViews ??= new UserspaceNodeViews(this));
  }
}
