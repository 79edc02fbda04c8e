// One node's userspace dataplane: the netfilter path a Linux node running kube-proxy
// gives an IPv4 packet, as one process(packet, ingressIf) call.
//
//   PREROUTING  conntrack lookup ── hit ──► apply the flow's NAT ───────────────┐
//   (OUTPUT for    │ miss                                                       │
//    local ones)   ▼                                                            │
//               proxy nat table (DNAT, MARK 0x4000) for the flow's first packet │
//   routing ◄──────────────────────────────────────────────────────────────────┘
//   (127.0.0.0/8 only with route_localnet)
//   forwarded: TTL check (ICMP time exceeded before any FORWARD rule), TTL - 1
//   FORWARD / INPUT filter (REJECT → ICMP port unreachable, DROP, ctstate INVALID)
//   POSTROUTING nat: MASQUERADE when marked → SNAT to the out interface's address
//   (the node's own packets cross it even to a local address, then filter INPUT via lo)
//   conntrack insert (original + reply tuple) ─► rewrite the packet in place
//
// The pipeline knows nothing of simulation or TUN devices: the driver hands it bytes
// and an ingress interface, and gets back a verdict plus the out interface and next hop.
import { Conntrack, type ConntrackConfig } from '../conntrack/conntrack.ts';
import { NODE_STAMP, NODE_USER } from '../conntrack/table.ts';
import {
  CtStatus,
  CtVerdict,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../conntrack/constants.ts';
import { icmpKey, icmpReplyType } from '../conntrack/icmp.ts';
import { type Cidr, u32ToIp } from '../packet/addr.ts';
import { buildPortUnreachable, buildTimeExceeded } from '../packet/icmp-error.ts';
import {
  KEEP as NAT_KEEP,
  natRewriteDst,
  natRewriteIcmpEchoId,
  natRewriteSrc,
} from '../packet/nat.ts';
import { classify, newPacketInfo } from '../packet/parse.ts';
import {
  ADDR_DST_LOCAL,
  ADDR_SRC_LOCAL,
  CtState,
  type DataplaneProxier,
  type EvalResult,
  Hook,
  type PacketMeta,
  type TraceEvent,
  TABLE_FILTER,
  TABLE_NAT,
  Verdict as RuleVerdict,
  newEvalResult,
  newPacketMeta,
} from '../proxy/hooks.ts';
import { DataplaneCounters, Drop, Verdict } from './counters.ts';
import { natRelatedIcmp } from './icmp-related.ts';
import { type Iface, IfaceKind, RoutingTable } from './routes.ts';
import { tcpWindowScale } from './tcp-fields.ts';

export const LOCAL_IF = 0;

// Imported enum members copied to module constants: read per packet, they would
// otherwise be a module-binding load plus a property load each time.
const TCP = IPPROTO_TCP;
const UDP = IPPROTO_UDP;
const ICMP = IPPROTO_ICMP;
const CT_REPEAT = CtVerdict.REPEAT;
const CT_INVALID = CtVerdict.INVALID;
const NAT_BITS = CtStatus.DST_NAT | CtStatus.SRC_NAT;
const ST_ESTABLISHED = CtState.ESTABLISHED;
const ST_INVALID = CtState.INVALID;
const HOOK_INPUT = Hook.Input;
const HOOK_FORWARD = Hook.Forward;
const FILTER = TABLE_FILTER;
const ACCEPT = RuleVerdict.Accept;
const V_FORWARD = Verdict.Forward;
const V_LOCAL = Verdict.Local;
const SRC_LOCAL = ADDR_SRC_LOCAL;
const DST_LOCAL = ADDR_DST_LOCAL;
/** Flow cache words in a conntrack node's record: out interface, next hop, in interface, token. */
const FC_STAMP = NODE_STAMP;
const FC_OUT = NODE_USER;
const FC_HOP = NODE_USER + 1;
const FC_IN = NODE_USER + 2;
const FC_TOKEN = NODE_USER + 3;
const KEEP = NAT_KEEP;
const MASQ_PORT_MIN = 1024;
const MASQ_PORT_MAX = 65535;

export interface NodeDataplaneOptions {
  name: string;
  /** The node's address on the node network (the uplink's address). */
  nodeIP: number;
  /** The address the node has toward its pods (cni0's, the pod CIDR's .1). */
  podGateway: number;
  proxier: DataplaneProxier;
  /** Milliseconds on the caller's clock (virtual in simulation, real in the lab). */
  nowMs: () => number;
  /** Sends a packet the node itself generates (ICMP errors) out of an interface. */
  emit: (packet: Uint8Array, ifIndex: number) => void;
  /** Uniform [0,1) for MASQUERADE --random-fully port choice; seeded by the caller. */
  random: () => number;
  conntrack?: ConntrackConfig;
}

export class NodeDataplane {
  readonly name: string;
  readonly ct: Conntrack;
  readonly routes = new RoutingTable();
  readonly counters = new DataplaneCounters();
  readonly ifaces: Iface[] = [];
  /** When set, rule walks report every step (svclab trace, like iptables -j TRACE). */
  tracer: ((hook: Hook, e: TraceEvent) => void) | undefined;
  /** Where packets the node generates (ICMP errors) go; the driver may swap it. */
  emit: (packet: Uint8Array, ifIndex: number) => void;
  /** Set by process() when it returns Forward. */
  outIf = -1;
  nextHop = 0;

  private readonly opts: NodeDataplaneOptions;
  private readonly nowMs: () => number;
  private readonly info = newPacketInfo();
  private readonly meta = newPacketMeta();
  private readonly res: EvalResult = newEvalResult();
  /** The node's own addresses (addrtype LOCAL besides loopback and the proxy's). */
  private readonly nodeAddr: number;
  private readonly gatewayAddr: number;
  /**
   * The flow cache lives in the conntrack node records (the user words of ct.table.nodes, see
   * conntrack/table.ts): per node (a flow direction), what finish() found for its last packet —
   * out interface, next hop, in interface, the proxy's filter-walk token — valid while the
   * node's stamp equals `stamp`. The stamp moves on whenever routes, the proxy's rules or its
   * local addresses change, so every flow re-walks once after a change. In the record the
   * lookup just read, it costs no cache line of its own.
   */
  /** Per conntrack entry: what the proxy's onTracked() returned last (ipvs: its connection). */
  private readonly proxyHint: Int32Array;
  private stamp = 1;
  private seenRoutes = -1;
  private seenProxy = -1;

  constructor(opts: NodeDataplaneOptions) {
    this.opts = opts;
    this.nowMs = opts.nowMs;
    this.name = opts.name;
    this.emit = opts.emit;
    this.ct = new Conntrack(opts.conntrack ?? {});
    this.addIface('lo', IfaceKind.Local, opts.nodeIP);
    this.addIface('eth0', IfaceKind.Uplink, opts.nodeIP);
    this.nodeAddr = opts.nodeIP >>> 0;
    this.gatewayAddr = opts.podGateway >>> 0;
    // Zeros, not -1: a hint is always checked by the proxy, and zeros cost no page touches.
    this.proxyHint = new Int32Array(this.ct.table.max);
  }

  get proxier(): DataplaneProxier {
    return this.opts.proxier;
  }

  /** Switch proxy mode: the new proxier starts from a clean conntrack, as after a reboot. */
  setProxier(proxier: DataplaneProxier): void {
    this.opts.proxier = proxier;
    this.ct.table.flush();
    this.stamp++;
  }

  addIface(name: string, kind: IfaceKind, addr: number): Iface {
    const iface: Iface = { index: this.ifaces.length, name, kind, addr: addr >>> 0 };
    this.ifaces.push(iface);
    return iface;
  }

  /** A pod's veth and its /32 route. Returns the interface index. */
  addPod(name: string, podIP: number): number {
    const iface = this.addIface(name, IfaceKind.Pod, this.opts.podGateway);
    this.routes.add({ cidr: { base: podIP >>> 0, prefix: 32 }, ifIndex: iface.index, gateway: 0 });
    return iface.index;
  }

  removePod(podIP: number): void {
    this.routes.remove({ base: podIP >>> 0, prefix: 32 });
  }

  /** Route `cidr` out of the uplink via `gateway` (another node's pod CIDR, or the default). */
  addUplinkRoute(cidr: Cidr, gateway: number): void {
    this.routes.add({ cidr, ifIndex: 1, gateway: gateway >>> 0 });
  }

  /** addrtype LOCAL: the node's addresses and whatever the proxy binds (ipvs VIPs). */
  isLocal(ip: number): boolean {
    const a = ip >>> 0;
    return (
      a >>> 24 === 127 ||
      a === this.nodeAddr ||
      a === this.gatewayAddr ||
      this.opts.proxier.isLocalAddress(ip)
    );
  }

  /**
   * Run one packet (an IPv4 datagram at b[0..]) through the node. NAT rewrites it in
   * place. Forward: see outIf/nextHop. Never throws on packet contents.
   */
  process(b: Uint8Array, inIf: number): Verdict {
    const info = this.info;
    const c = this.counters;
    if (classify(b, 0, b.length, info) !== 0) {
      c.malformedByReason.set(info.reason, (c.malformedByReason.get(info.reason) ?? 0) + 1);
      return c.drop(Drop.Malformed);
    }
    // The kernel's conntrack reassembles fragments first; svclab does not.
    if (info.fragment) return c.drop(Drop.Fragment);
    const now = this.nowMs();
    if (info.innerOffset >= 0) {
      if (natRelatedIcmp(this, b, info, now)) return this.finish(b, inIf, CtState.RELATED, true);
      return this.untracked(b, inIf, CtState.INVALID);
    }

    const proto = info.proto;
    const tracked = proto === TCP || proto === UDP || proto === ICMP;
    const sport = proto === ICMP ? info.icmpId : info.sport;
    const dport = proto === ICMP ? icmpKey(info.icmpType, info.icmpCode) : info.dport;
    // Addresses as int32 bits, as the table keys them: a u32 over 2^31 is a heap number.
    const t = this.ct.table;
    let ref = tracked ? t.lookup(proto, info.src | 0, info.dst | 0, sport, dport, now) : -1;
    if (ref >= 0) {
      const v = this.track(ref, b, now);
      if (v === CT_REPEAT) ref = -1;
      else if (v === CT_INVALID) return this.untracked(b, inIf, ST_INVALID);
      else {
        c.established++;
        const px = this.opts.proxier;
        if (px.onTracked !== undefined) this.tellProxier(px, ref, info.l4Offset + info.l4Length);
        if (info.ttl <= 1 && inIf !== LOCAL_IF && (ref & 1) === 0) {
          // ip_forward()'s TTL check, before FORWARD; the error is un-NATed (nf_ct_attach):
          // it quotes the packet as sent, from the address the sender sent it to.
          const dst = this.ct.table.natDst(ref);
          if (!this.isLocal(dst)) return this.ttlExceeded(b, inIf, dst !== info.dst ? info.dst : 0);
        }
        this.applyNat(b, ref);
        return this.established(b, inIf, ref);
      }
    }
    if (!tracked) return this.untracked(b, inIf, CtState.UNTRACKED);
    if (!this.ct.newAllowed(proto, info.tcpFlags, info.icmpType)) {
      return this.untracked(b, inIf, CtState.INVALID);
    }
    return this.newFlow(b, inIf, sport, dport, now);
  }

  /**
   * The flow's first packet, on the kernel's path. From outside: nat PREROUTING, routing,
   * then for a forwarded packet ip_forward()'s TTL check (time exceeded before any FORWARD
   * rule) and decrement, filter FORWARD, nat POSTROUTING; for a local one filter INPUT.
   * From the node itself: routing, nat and filter OUTPUT, re-routing, nat POSTROUTING
   * (always: a packet to a local address crosses it on its way to `lo`), conntrack
   * confirm, and for a local destination the way back in through `lo`: PREROUTING is
   * skipped (the packet already carries its conntrack entry), filter INPUT runs.
   */
  private newFlow(b: Uint8Array, inIf: number, sport: number, dport: number, now: number): Verdict {
    const info = this.info;
    const c = this.counters;
    const fromLocal = inIf === LOCAL_IF;
    // addrtype of each address, tested once for the whole first packet.
    const srcLocal = this.isLocal(info.src);
    const origDstLocal = this.isLocal(info.dst);
    // ip_route_output / ip_route_input: 127.0.0.0/8 leaves lo only with route_localnet.
    if (fromLocal && this.loopbackLeaves(info.src, origDstLocal)) return c.drop(Drop.Localnet);
    const flags = addrFlags(srcLocal, origDstLocal);
    const m = this.fillMeta(
      info.src,
      info.dst,
      info.sport,
      info.dport,
      0,
      CtState.NEW,
      inIf,
      flags,
    );
    c.newFlows++;

    // nat PREROUTING (OUTPUT for the node's own packets, which also walks filter OUTPUT).
    const r = this.rules(
      m,
      fromLocal ? Hook.Output : Hook.Prerouting,
      fromLocal ? TABLE_NAT | TABLE_FILTER : TABLE_NAT,
      this.res,
    );
    c.rulesVisited += r.rulesVisited;
    if (r.verdict !== RuleVerdict.Accept) return this.ruleDrop(b, inIf, r.verdict, -1);
    const dnat = r.dnat;
    const dst = dnat ? r.dnatIp >>> 0 : info.dst;
    const dstPort = dnat ? r.dnatPort : info.dport;
    const mark = r.mark;

    // One route lookup: its interface, and its gateway for the next hop at the end.
    const local = dnat ? this.isLocal(dst) : origDstLocal;
    let route = LOCAL_IF;
    let gw = 0;
    if (!local) {
      const rt = this.routes.lookup(dst);
      if (rt === undefined) return c.drop(Drop.NoRoute);
      route = rt.ifIndex;
      gw = rt.gateway;
    }
    if (fromLocal ? this.loopbackLeaves(info.src, local) : this.martian(info.src, dst)) {
      return c.drop(Drop.Localnet);
    }
    const ctNew = CtState.NEW | (dnat ? CtState.DNAT : 0);
    const flags2 = addrFlags(srcLocal, local);
    const m2 = this.fillMeta(info.src, dst, info.sport, dstPort, mark, ctNew, inIf, flags2);
    if (!fromLocal) {
      // ip_forward(): TTL first (the error quotes the packet as received, and nf_ct_attach
      // un-NATs it: from the address the client sent to), then the decrement, then FORWARD.
      if (!local && info.ttl <= 1) return this.ttlExceeded(b, inIf, dnat ? info.dst : 0);
      const f = this.rules(m2, local ? Hook.Input : Hook.Forward, TABLE_FILTER, this.res);
      c.rulesVisited += f.rulesVisited;
      if (f.verdict !== RuleVerdict.Accept) return this.ruleDrop(b, inIf, f.verdict, route);
    }

    // nat POSTROUTING: kube-proxy's KUBE-POSTROUTING masquerades packets marked 0x4000.
    let snat = 0;
    let snatPort = info.sport;
    if (!local || fromLocal) {
      const p = this.rules(m2, Hook.Postrouting, TABLE_NAT, this.res);
      c.rulesVisited += p.rulesVisited;
      if (p.verdict !== RuleVerdict.Accept) return this.ruleDrop(b, inIf, p.verdict, route);
      if (p.masquerade) {
        snat = this.ifaces[route]!.addr;
        snatPort = this.pickSnatPort(
          info.proto,
          dst,
          dstPort,
          snat,
          info.sport,
          p.masqueradeRandomFully,
          now,
        );
      }
    }

    // Conntrack: the reply comes from the backend to the masquerade address (or the client).
    const proto = info.proto;
    const isIcmp = proto === IPPROTO_ICMP;
    const rsrc = dst;
    const rdst = snat !== 0 ? snat : info.src;
    const rsport = isIcmp ? (snat !== 0 ? snatPort : sport) : dstPort;
    const rdport = isIcmp ? icmpKey(icmpReplyType(info.icmpType), info.icmpCode) : snatPort;
    // Addresses as int32 bits (the table's keys): no heap number for one over 2^31.
    const e = this.ct.insert(
      proto,
      info.src | 0,
      info.dst | 0,
      sport,
      dport,
      rsrc | 0,
      rdst | 0,
      rsport,
      rdport,
      now,
    );
    if (e === -1) return c.drop(Drop.CtTableFull);
    if (e < 0) return c.drop(Drop.CtClash);
    const v = this.track(e * 2, b, now);
    if (v === CtVerdict.INVALID) {
      this.ct.table.remove(e);
      return c.drop(Drop.CtInvalid);
    }
    this.applyNat(b, e * 2);
    if (fromLocal && local) {
      // Back in through lo, conntrack entry confirmed: filter INPUT sees the NATed packet.
      const src = snat !== 0 ? snat : info.src;
      const ct = ctNew | (snat !== 0 ? CtState.SNAT : 0);
      const flags3 = snat !== 0 ? addrFlags(this.isLocal(snat), true) : flags2;
      const m3 = this.fillMeta(src, dst, snatPort, dstPort, mark, ct, LOCAL_IF, flags3);
      const f = this.rules(m3, Hook.Input, TABLE_FILTER, this.res);
      c.rulesVisited += f.rulesVisited;
      if (f.verdict !== RuleVerdict.Accept) return this.ruleDrop(b, inIf, f.verdict, LOCAL_IF);
    }
    // The packet now carries `dst` (the flow's NAT wrote it): the route found above holds.
    return this.forwardOut(b, inIf, route, (gw !== 0 ? gw : dst) | 0);
  }

  /** A node's own packet from 127.0.0.0/8 that would leave lo while route_localnet is 0. */
  private loopbackLeaves(src: number, dstLocal: boolean): boolean {
    return src >>> 24 === 127 && !dstLocal && this.opts.proxier.routeLocalnet !== true;
  }

  /** ip_route_input_slow(): a loopback source or destination from outside, without route_localnet. */
  private martian(src: number, dst: number): boolean {
    return (src >>> 24 === 127 || dst >>> 24 === 127) && this.opts.proxier.routeLocalnet !== true;
  }

  /** Packets conntrack does not follow (INVALID, other protocols): filter decides, no NAT. */
  private untracked(b: Uint8Array, inIf: number, state: number): Verdict {
    const info = this.info;
    const route = this.route(info.dst);
    if (route === undefined) return this.counters.drop(Drop.NoRoute);
    const flags = addrFlags(this.isLocal(info.src), route === LOCAL_IF);
    const m = this.fillMeta(info.src, info.dst, info.sport, info.dport, 0, state, inIf, flags);
    const hook = inIf === LOCAL_IF ? Hook.Output : route === LOCAL_IF ? Hook.Input : Hook.Forward;
    const f = this.rules(m, hook, TABLE_FILTER, this.res);
    if (f.verdict !== RuleVerdict.Accept) {
      return state === CtState.INVALID
        ? this.counters.drop(Drop.CtInvalid)
        : this.ruleDrop(b, inIf, f.verdict, route);
    }
    return this.finish(b, inIf, -1, false, route);
  }

  /**
   * Route (unless given), filter established traffic, decrement TTL when forwarding,
   * and set outIf/nextHop. `ctstate` >= 0 asks for a filter walk with that state.
   */
  finish(b: Uint8Array, inIf: number, ctstate: number, established: boolean, route = -2): Verdict {
    const c = this.counters;
    const dst = ((b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!) >>> 0;
    // One local test and one route lookup per packet: the route gives the next hop too.
    let r: number;
    let gw = 0;
    let dstLocal: boolean;
    if (route === -2) {
      dstLocal = this.isLocal(dst);
      if (dstLocal) r = LOCAL_IF;
      else {
        const rt = this.routes.lookup(dst);
        if (rt === undefined) return c.drop(Drop.NoRoute);
        r = rt.ifIndex;
        gw = rt.gateway;
      }
    } else {
      r = route;
      dstLocal = r === LOCAL_IF || this.isLocal(dst);
      if (r !== LOCAL_IF) gw = this.routes.lookup(dst)?.gateway ?? 0;
    }
    const fromLocal = inIf === LOCAL_IF;
    if (established && !fromLocal) {
      const info = this.info;
      const src = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
      // Ports after NAT, read back from the packet (ICMP has none: 0).
      const l4 = info.l4Offset;
      const ported = info.proto === TCP || info.proto === UDP;
      const sport = ported ? (b[l4]! << 8) | b[l4 + 1]! : 0;
      const dport = ported ? (b[l4 + 2]! << 8) | b[l4 + 3]! : 0;
      const m = this.meta;
      m.proto = info.proto;
      m.src = src;
      m.dst = dst;
      m.sport = sport;
      m.dport = dport;
      m.mark = 0;
      m.ctstate = ctstate;
      m.addrFlags = (this.isLocal(src) ? SRC_LOCAL : 0) | (dstLocal ? DST_LOCAL : 0);
      m.len = info.l4Offset + info.l4Length;
      m.tcpFlags = info.tcpFlags;
      m.inIface = this.ifaces[inIf]?.name ?? '';
      m.outIface = '';
      const f = this.rules(m, r === LOCAL_IF ? HOOK_INPUT : HOOK_FORWARD, FILTER, this.res);
      if (f.verdict !== ACCEPT) return this.ruleDrop(b, inIf, f.verdict, r);
    }
    return this.forwardOut(b, inIf, r, (gw !== 0 ? gw : dst) | 0);
  }

  /**
   * An established packet after NAT: what finish(…, ESTABLISHED, true) does, remembered per
   * flow direction. The route and the filter walk depend only on fields that stay the same
   * along a flow direction after NAT (addresses, ports, protocol, ctstate, addrtype, in
   * interface), so a repeat packet re-counts the remembered walk's rules instead of walking,
   * and takes the remembered route; TTL and the verdict counters are per packet as ever.
   */
  private established(b: Uint8Array, inIf: number, ref: number): Verdict {
    const px = this.opts.proxier;
    if (inIf === LOCAL_IF || this.tracer !== undefined || px.flowGeneration === undefined) {
      return this.finish(b, inIf, ST_ESTABLISHED, true);
    }
    const pg = px.flowGeneration();
    const rg = this.routes.generation;
    if (pg !== this.seenProxy || rg !== this.seenRoutes) {
      this.seenProxy = pg;
      this.seenRoutes = rg;
      this.stamp++;
    }
    const t = this.ct.table;
    const fc = t.nodes;
    const k = t.nodeOffset(ref);
    const info = this.info;
    const len = info.l4Offset + info.l4Length;
    if (fc[k + FC_STAMP] === this.stamp && fc[k + FC_IN] === inIf) {
      const token = fc[k + FC_TOKEN]!;
      if (token !== 0) px.countPath!(token, len);
      return this.forwardOut(b, inIf, fc[k + FC_OUT]!, fc[k + FC_HOP]!);
    }
    // First packet of this direction since a change: route and walk, then remember.
    const dst = ((b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!) >>> 0;
    const src = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
    const dstLocal = this.isLocal(dst);
    let r = LOCAL_IF;
    let gw = 0;
    if (!dstLocal) {
      const rt = this.routes.lookup(dst);
      if (rt === undefined) return this.counters.drop(Drop.NoRoute);
      r = rt.ifIndex;
      gw = rt.gateway;
    }
    const l4 = info.l4Offset;
    const ported = info.proto === TCP || info.proto === UDP;
    const m = this.meta;
    m.proto = info.proto;
    m.src = src;
    m.dst = dst;
    m.sport = ported ? (b[l4]! << 8) | b[l4 + 1]! : 0;
    m.dport = ported ? (b[l4 + 2]! << 8) | b[l4 + 3]! : 0;
    m.mark = 0;
    m.ctstate = ST_ESTABLISHED;
    m.addrFlags = (this.isLocal(src) ? SRC_LOCAL : 0) | (dstLocal ? DST_LOCAL : 0);
    m.len = len;
    m.tcpFlags = info.tcpFlags;
    m.inIface = this.ifaces[inIf]?.name ?? '';
    m.outIface = '';
    const out = this.res;
    const token = px.filterEstablished!(m, r === LOCAL_IF ? HOOK_INPUT : HOOK_FORWARD, out);
    if (out.verdict !== ACCEPT) return this.ruleDrop(b, inIf, out.verdict, r);
    const hop = gw !== 0 ? gw : dst;
    if (token >= 0) {
      fc[k + FC_OUT] = r;
      fc[k + FC_HOP] = hop | 0;
      fc[k + FC_IN] = inIf;
      fc[k + FC_TOKEN] = token;
      fc[k + FC_STAMP] = this.stamp;
    }
    return this.forwardOut(b, inIf, r, hop | 0);
  }

  /**
   * Deliver locally, or decrement TTL and forward out of `r` to `hop`, an address as int32
   * bits (a u32 over 2^31 would be a heap number at the call).
   */
  private forwardOut(b: Uint8Array, inIf: number, r: number, hop: number): Verdict {
    const c = this.counters;
    if (r === LOCAL_IF) {
      c.verdicts[V_LOCAL]!++;
      return V_LOCAL;
    }
    if (inIf !== LOCAL_IF) {
      const ttl = b[8]!;
      if (ttl <= 1) return this.ttlExceeded(b, inIf);
      // TTL - 1 with the header checksum fixed up (RFC 1624: the TTL/protocol word drops 0x0100).
      b[8] = ttl - 1;
      let s = (~((b[10]! << 8) | b[11]!) & 0xffff) + 0xfeff;
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      s = ~s & 0xffff;
      b[10] = s >>> 8;
      b[11] = s & 0xff;
    }
    this.outIf = r;
    this.nextHop = hop >>> 0;
    c.verdicts[V_FORWARD]!++;
    return V_FORWARD;
  }

  /** One walk of the proxy's tables at a hook (traced when a tracer is set). */
  private rules(m: PacketMeta, hook: Hook, tables: number, out: EvalResult): EvalResult {
    const px = this.opts.proxier;
    const tracer = this.tracer;
    if (tracer === undefined) return px.classify(m, hook, tables, out);
    const r = px.trace(m, hook, (e) => tracer(hook, e), tables);
    Object.assign(out, r);
    return out;
  }

  /** LOCAL_IF for local delivery, else the out interface; undefined without a route. */
  route(dst: number): number | undefined {
    if (this.isLocal(dst)) return LOCAL_IF;
    return this.routes.lookup(dst)?.ifIndex;
  }

  /** Rewrite the packet to what the flow's other tuple expects (both directions). */
  applyNat(b: Uint8Array, ref: number): void {
    const t = this.ct.table;
    const e = ref >> 1;
    const st = t.status[e]!;
    if ((st & NAT_BITS) === 0) return;
    const info = this.info;
    const isIcmp = info.proto === ICMP;
    const wantSrc = t.natSrc(ref);
    const wantDst = t.natDst(ref);
    if (isIcmp) {
      const wantId = t.natIcmpId(ref);
      if (wantDst !== info.dst) natRewriteDst(b, 0, wantDst, KEEP);
      if (wantSrc !== info.src) natRewriteSrc(b, 0, wantSrc, KEEP);
      if (wantId !== info.icmpId) natRewriteIcmpEchoId(b, 0, wantId);
    } else {
      const wantSport = t.natSport(ref);
      const wantDport = t.natDport(ref);
      if (wantDst !== info.dst || wantDport !== info.dport) {
        natRewriteDst(b, 0, wantDst, wantDport === info.dport ? KEEP : wantDport);
      }
      if (wantSrc !== info.src || wantSport !== info.sport) {
        natRewriteSrc(b, 0, wantSrc, wantSport === info.sport ? KEEP : wantSport);
      }
    }
    this.counters.natRewrites++;
  }

  /** Hand the proxy an established packet by its flow's original tuple. */
  private tellProxier(px: DataplaneProxier, ref: number, bytes: number): void {
    const t = this.ct.table;
    const o = ref & ~1;
    const ports = t.tuplePorts(o);
    const e = ref >> 1;
    const hints = this.proxyHint;
    hints[e] = px.onTracked!(
      this.info.proto,
      t.tupleSrc(o),
      ports >>> 16,
      t.tupleDst(o),
      ports & 0xffff,
      this.info.tcpFlags,
      bytes,
      (ref & 1) === 1,
      hints[e]!,
    );
  }

  /** Feed the packet to its protocol tracker. */
  private track(ref: number, b: Uint8Array, now: number): number {
    const info = this.info;
    const len = info.l4Offset + info.l4Length;
    if (info.proto === TCP) {
      const l4 = info.l4Offset;
      // int32, not u32: a u32 over 2^31 would be a heap number at the call.
      const seq = (b[l4 + 4]! << 24) | (b[l4 + 5]! << 16) | (b[l4 + 6]! << 8) | b[l4 + 7]!;
      const ack = (b[l4 + 8]! << 24) | (b[l4 + 9]! << 16) | (b[l4 + 10]! << 8) | b[l4 + 11]!;
      const win = (b[l4 + 14]! << 8) | b[l4 + 15]!;
      const hl = (b[l4 + 12]! >>> 4) << 2;
      const payload = info.l4Length - hl;
      const ws = info.tcpFlags & 0x02 ? tcpWindowScale(b, l4, hl) : -1;
      return this.ct.tcp.packet(ref, now, len, info.tcpFlags, seq, ack, win, payload, ws);
    }
    if (info.proto === UDP) return this.ct.udpPacket(ref, now, len);
    return this.ct.icmpPacket(ref, now, len);
  }

  private fillMeta(
    src: number,
    dst: number,
    sport: number,
    dport: number,
    mark: number,
    ctstate: number,
    inIf: number,
    flags: number,
  ) {
    const m = this.meta;
    const info = this.info;
    m.proto = info.proto;
    m.src = src;
    m.dst = dst;
    m.sport = sport;
    m.dport = dport;
    m.mark = mark;
    m.ctstate = ctstate;
    m.addrFlags = flags;
    m.len = info.l4Offset + info.l4Length;
    m.tcpFlags = info.tcpFlags;
    m.inIface = this.ifaces[inIf]?.name ?? '';
    m.outIface = '';
    return m;
  }

  /** MASQUERADE keeps the source port unless the reply tuple is taken (nf_nat_used_tuple). */
  private pickSnatPort(
    proto: number,
    dst: number,
    dport: number,
    snat: number,
    sport: number,
    randomFully: boolean,
    now: number,
  ): number {
    if (proto === IPPROTO_ICMP) return sport;
    const t = this.ct.table;
    if (!randomFully && !t.has(proto, dst, snat, dport, sport, now)) return sport;
    const span = MASQ_PORT_MAX - MASQ_PORT_MIN + 1;
    const start = Math.floor(this.opts.random() * span);
    for (let i = 0; i < span; i++) {
      const p = MASQ_PORT_MIN + ((start + i) % span);
      if (!t.has(proto, dst, snat, dport, p, now)) return p;
    }
    return sport;
  }

  /**
   * A DROP or REJECT verdict (`route`: where the packet was routed, -1 before routing).
   * REJECT's port unreachable (nf_send_unreach → icmp_send) comes from the address the
   * packet was sent to when it was for the node, from the node's own source address when
   * the node sent it, else from the address toward the sender; a forwarded packet is
   * quoted as FORWARD saw it, its TTL decremented.
   */
  private ruleDrop(b: Uint8Array, inIf: number, v: RuleVerdict, route: number): Verdict {
    if (v === RuleVerdict.Reject) {
      const fromLocal = inIf === LOCAL_IF;
      const forwarded = route > LOCAL_IF && !fromLocal;
      const quote = forwarded ? decrementedTtl(b) : b;
      const src =
        route === LOCAL_IF ? u32At(b, 16) : fromLocal ? u32At(b, 12) : this.ifaceAddr(inIf);
      this.sendIcmp(buildPortUnreachable(quote, { src }), inIf);
      return this.counters.drop(Drop.RuleReject);
    }
    return this.counters.drop(Drop.RuleDrop);
  }

  /**
   * ICMP time exceeded about `b`, from the in interface's address, or from `unnatSrc` when
   * the flow was DNATed: icmp_send() attaches the offending packet's conntrack entry to the
   * error (nf_ct_attach), and NAT turns the error's source back into the address the
   * sender used.
   */
  private ttlExceeded(b: Uint8Array, inIf: number, unnatSrc = 0): Verdict {
    const src = unnatSrc !== 0 ? unnatSrc : this.ifaceAddr(inIf);
    this.sendIcmp(buildTimeExceeded(b, { src }), inIf);
    return this.counters.drop(Drop.TtlExceeded);
  }

  private ifaceAddr(ifIndex: number): number {
    return this.ifaces[ifIndex]?.addr ?? this.opts.nodeIP;
  }

  private sendIcmp(pkt: Uint8Array, inIf: number): void {
    this.counters.icmpErrorsSent++;
    this.emit(pkt, inIf);
  }

  /** Human description of an interface, for traces. */
  describeIface(ifIndex: number): string {
    const i = this.ifaces[ifIndex];
    return i === undefined ? `if${ifIndex}` : `${i.name} (${u32ToIp(i.addr)})`;
  }
}

/** PacketMeta.addrFlags from the two addrtype LOCAL tests. */
const addrFlags = (srcLocal: boolean, dstLocal: boolean): number =>
  (srcLocal ? ADDR_SRC_LOCAL : 0) | (dstLocal ? ADDR_DST_LOCAL : 0);

const u32At = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** A copy of the IPv4 packet `b` with its TTL one lower and the header checksum fixed (RFC 1624). */
function decrementedTtl(b: Uint8Array): Uint8Array {
  const c = b.slice();
  c[8] = Math.max(0, c[8]! - 1);
  let s = (~((c[10]! << 8) | c[11]!) & 0xffff) + 0xfeff;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  c[10] = s >>> 8;
  c[11] = s & 0xff;
  return c;
}
