// ipvs mode as the node dataplane sees it (DataplaneProxier): the few iptables rules
// kube-proxy still writes, read through ipset lookups (masquerade.ts), and IPVS itself —
// the virtual-service hash and the scheduler — for a new connection's first packet.
//
// Kernel order for a packet to a service address: PREROUTING (nat KUBE-SERVICES may mark
// 0x4000) → routing says local (the VIP sits on kube-ipvs0) → filter INPUT (source-range
// firewall, KUBE-IPVS-FILTER) → IPVS at LOCAL_IN schedules and NATs to the real server →
// POSTROUTING masquerades marked or hairpin traffic. The node's own packets: nat OUTPUT →
// IPVS at LOCAL_OUT → filter OUTPUT (KUBE-IPVS-OUT-FILTER) → POSTROUTING. The dataplane asks for all of it at
// PREROUTING, where it applies DNAT for every mode.
import type { EndpointSlice, Service } from '../../api/types.ts';
import { u32ToIp } from '../../packet/addr.ts';
import { Verdict, newEvalResult, resetEvalResult } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { TABLE_FILTER, TABLE_NAT } from '../hooks.ts';
import type { DataplaneProxier } from '../hooks.ts';
import { CtState, Hook } from '../netfilter.ts';
import { ADDR_DST_LOCAL, ADDR_SRC_LOCAL } from '../packet-meta.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { TraceEvent } from '../trace.ts';
import type { NodeViews } from '../views.ts';
import {
  ConnFlag,
  DestFlag,
  IPPROTO_TCP,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TcpState,
} from './constants.ts';
import { F_INBYTES, F_INPKTS, F_OUTBYTES, F_OUTPKTS, R_FLAGS, REC, REC64 } from './arena.ts';
import { IpvsVerdict } from './ipvs.ts';
import { FilterVerdict, inputFilter, postroutingMasquerades } from './masquerade.ts';
import type { IpvsProxier } from './proxier.ts';
import { IpvsNodeViews } from './views.ts';

const MASQ_MARK = 0x4000;
// Imported constants as module constants: read per packet.
const CT_NEW = CtState.NEW;
const HOOK_PREROUTING = Hook.Prerouting;
const HOOK_OUTPUT = Hook.Output;
const NO_DEST = IpvsVerdict.NO_DEST;
const TCP_ESTABLISHED = TcpState.ESTABLISHED;
const F_TEMPLATE = ConnFlag.TEMPLATE;
const F_NOOUTPUT = ConnFlag.NOOUTPUT;
const DEST_AVAILABLE = DestFlag.AVAILABLE;
/**
 * A trace step: one of kube-proxy's ipvs-mode iptables rules in `chain` took the packet
 * (an ipset match; KUBE-IPVS-OUT-FILTER's is `-m ipvs`, printed the same way as before).
 */
const ruleStep = (chain: string): TraceEvent => ({
  table: 'ipvs',
  chain,
  ruleNum: 1,
  kind: 'rule',
  text: 'set match',
});
/** A trace step: the virtual-service lookup; `slot` is the new connection's (-1: none). */
const lookup = (slot: number, realServer: string | undefined): TraceEvent => ({
  table: 'ipvs',
  chain: 'IPVS',
  ruleNum: slot,
  kind: 'rule',
  text:
    slot >= 0
      ? 'virtual service hit, scheduled a real server'
      : 'virtual service without a usable real server',
  ...(realServer !== undefined ? { result: realServer } : {}),
});

export class IpvsDataplaneProxier implements DataplaneProxier {
  private readonly result = newEvalResult();
  /**
   * The IPVS connection slot the last new packet's classify found or made, -1 if none: what a
   * caller that ends connections itself (bench/classify.ts) expires, without a lookup.
   */
  lastConn = -1;
  /** What the masquerade rules ask about a packet, reused (no object per packet). */
  private readonly ctx = { srcLocal: false, dstLocal: false, fromBridge: false };
  private nodeViews: NodeViews | undefined;

  constructor(
    readonly ipvs: IpvsProxier,
    private readonly nowMs: () => number,
  ) {}

  onServiceAdd(s: Service): void {
    this.ipvs.onServiceAdd(s);
  }
  onServiceUpdate(o: Service, s: Service): void {
    this.ipvs.onServiceUpdate(o, s);
  }
  onServiceDelete(s: Service): void {
    this.ipvs.onServiceDelete(s);
  }
  onServiceSynced(): void {
    this.ipvs.onServiceSynced();
  }
  onEndpointSliceAdd(s: EndpointSlice): void {
    this.ipvs.onEndpointSliceAdd(s);
  }
  onEndpointSliceUpdate(o: EndpointSlice, s: EndpointSlice): void {
    this.ipvs.onEndpointSliceUpdate(o, s);
  }
  onEndpointSliceDelete(s: EndpointSlice): void {
    this.ipvs.onEndpointSliceDelete(s);
  }
  onEndpointSlicesSynced(): void {
    this.ipvs.onEndpointSlicesSynced();
  }
  sync(): void {
    this.ipvs.sync();
  }

  isLocalAddress(ip: number): boolean {
    return this.ipvs.isLocalAddress(ip);
  }

  classify(
    m: PacketMeta,
    hook: Hook,
    tables: number,
    out: EvalResult = this.result,
    trace?: (e: TraceEvent) => void,
  ): EvalResult {
    resetEvalResult(out, m.mark);
    const px = this.ipvs;
    const sets = px.ipsets;
    const isNew = (m.ctstate & CT_NEW) !== 0;
    if ((tables & TABLE_NAT) !== 0 && (hook === HOOK_PREROUTING || hook === HOOK_OUTPUT)) {
      const ctx = this.ctx;
      const dstLocal = (m.addrFlags & ADDR_DST_LOCAL) !== 0;
      ctx.srcLocal = (m.addrFlags & ADDR_SRC_LOCAL) !== 0;
      ctx.dstLocal = dstLocal;
      out.rulesVisited++;
      if (px.marksForMasquerade(m.proto, m.src, m.dst, m.dport, ctx)) {
        out.mark = (out.mark | MASQ_MARK) >>> 0;
        if (trace !== undefined) trace(ruleStep('KUBE-SERVICES'));
      }
      if (dstLocal && hook === HOOK_PREROUTING) {
        // filter INPUT runs before IPVS sees a packet for a local (kube-ipvs0) address.
        const f = inputFilter(sets, m.proto, m.src, m.dst, m.dport, isNew);
        out.rulesVisited++;
        if (f !== FilterVerdict.Accept) {
          out.verdict = f === FilterVerdict.Drop ? Verdict.Drop : Verdict.Reject;
          if (trace !== undefined) trace(ruleStep('KUBE-IPVS-FILTER'));
          return out;
        }
      }
      if (isNew) {
        // IPVS itself (IpvsProxier.classify without the hop): the new connection's slot.
        const ipvs = px.ipvs;
        const id = ipvs.classify(
          m.proto,
          m.src,
          m.sport,
          m.dst,
          m.dport,
          m.tcpFlags,
          m.len,
          this.nowMs(),
        );
        out.rulesVisited++;
        this.lastConn = id;
        if (id >= 0) {
          out.dnat = true;
          out.dnatIp = ipvs.conns.daddr[id]!;
          out.dnatPort = ipvs.conns.dport[id]!;
          if (trace !== undefined) trace(lookup(id, `${u32ToIp(out.dnatIp)}:${out.dnatPort}`));
        } else if (id === NO_DEST) {
          // ip_vs_leave(): no usable real server → ICMP port unreachable.
          out.verdict = Verdict.Reject;
          if (trace !== undefined) trace(lookup(-1, undefined));
        }
      }
    }
    if (tables & TABLE_FILTER && out.verdict === Verdict.Accept) {
      // KUBE-FORWARD: drop ctstate INVALID, accept the rest.
      if (hook === Hook.Forward && m.ctstate & CtState.INVALID) out.verdict = Verdict.Drop;
      // filter OUTPUT runs after IPVS (LOCAL_OUT): KUBE-IPVS-OUT-FILTER's `-m ipvs` drops the
      // node's own connections to an LB IP whose source ranges leave the node out.
      if (hook === Hook.Output && out.dnat) {
        out.rulesVisited++;
        if (px.dropsNodeToLoadBalancer(m.proto, m.src, m.dst, m.dport)) {
          out.verdict = Verdict.Drop;
          trace?.(ruleStep('KUBE-IPVS-OUT-FILTER'));
        }
      }
    }
    if (tables & TABLE_NAT && hook === Hook.Postrouting) {
      out.masquerade = postroutingMasquerades(
        sets,
        m.proto,
        m.src,
        m.dst,
        m.dport,
        (m.mark & MASQ_MARK) !== 0,
      );
      out.masqueradeRandomFully = out.masquerade;
    }
    return out;
  }

  /** What filterEstablished() and isLocalAddress() answer changes only with kube-ipvs0's addresses. */
  flowGeneration(): number {
    return this.ipvs.localGeneration;
  }

  /** The filter walk of an established packet: deterministic, and no rule counters to repeat. */
  filterEstablished(m: PacketMeta, hook: Hook, out: EvalResult): number {
    this.classify(m, hook, TABLE_FILTER, out);
    return 0;
  }

  countPath(): void {}

  trace(
    m: PacketMeta,
    hook: Hook,
    onStep: (e: TraceEvent) => void,
    tables = TABLE_NAT | TABLE_FILTER,
  ): EvalResult {
    return this.classify(m, hook, tables, newEvalResult(), onStep);
  }

  /**
   * Established packets keep IPVS's connection states and counters (ActiveConn/InActConn).
   * Returns the connection's slot, the `hint` for the flow's next packet (or -1).
   */
  onTracked(
    proto: number,
    client: number,
    cport: number,
    vaddr: number,
    vport: number,
    tcpFlags: number,
    bytes: number,
    reply: boolean,
    hint = -1,
  ): number {
    const now = this.nowMs();
    const ipvs = this.ipvs.ipvs;
    const c = ipvs.conns;
    // The common case, a few integer compares: the flow's remembered slot is its live
    // connection, in ESTABLISHED, unexpired, and the segment is a plain ACK (no SYN, FIN or
    // RST), so the state table maps ESTABLISHED to itself in either direction and only the
    // counters and the timer move. Same result as lookupIn + packetIn/packetOut below.
    if (
      (tcpFlags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) === TCP_ACK &&
      c.isConnIn(hint, proto, client, cport, vaddr, vport) &&
      proto === IPPROTO_TCP &&
      c.state[hint] === TCP_ESTABLISHED &&
      (c.flags[hint]! & (F_TEMPLATE | F_NOOUTPUT)) === 0 &&
      c.expires[hint]! > now
    ) {
      // The server's and the service's records (arena.ts): counters by slot, no object.
      const d = c.destSlot[hint]!;
      const a = ipvs.services.arena;
      if (d >= 0 && (a.i32[d * REC + R_FLAGS]! & DEST_AVAILABLE) !== 0) {
        const f64 = a.f64;
        const s = c.svcSlot[hint]!;
        const pk = reply ? F_OUTPKTS : F_INPKTS;
        const by = reply ? F_OUTBYTES : F_INBYTES;
        f64[d * REC64 + pk] = f64[d * REC64 + pk]! + 1;
        f64[d * REC64 + by] = f64[d * REC64 + by]! + bytes;
        if (s >= 0) {
          f64[s * REC64 + pk] = f64[s * REC64 + pk]! + 1;
          f64[s * REC64 + by] = f64[s * REC64 + by]! + bytes;
        }
        const timeout = ipvs.tcpTimeouts[TCP_ESTABLISHED]! * 1000;
        c.timeoutMs[hint] = timeout;
        c.expires[hint] = now + timeout;
        return hint;
      }
    }
    const id = ipvs.lookupIn(proto, client, cport, vaddr, vport, now, hint);
    if (id < 0) return -1;
    if (reply) ipvs.packetOut(id, tcpFlags, bytes, now);
    else ipvs.packetIn(id, tcpFlags, bytes, now);
    return id;
  }

  /** The node's tools in ipvs mode: ipvsadm, ipset, its iptables rules (src/proxy/views.ts). */
  views(): NodeViews {
    return (this.nodeViews ??= new IpvsNodeViews(this.ipvs));
  }
}
