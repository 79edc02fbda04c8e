// A simulated host's IPv4 stack: one or more addresses, a transmit hook set by the
// topology, and receive(), which checks each packet like Linux's ip_rcv/tcp_v4_rcv/
// udp_rcv and hands it to a TCP connection or listener, a UDP socket, or ICMP.
// Bad packets are counted and dropped; receive() never throws on any bytes.
import type { VirtualClock } from '../control/clock.ts';
import { Rng } from '../control/rng.ts';
import {
  ClassifyFlags,
  DestUnreachableCode,
  IcmpType,
  IpProto,
  TcpFlags,
  addrU32,
  buildIcmp,
  buildIcmpError,
  buildTcp,
  classify,
  mayReplyWithIcmpError,
  newPacketInfo,
  reasonName,
  u32ToIp,
} from '../packet/index.ts';
import type { Addr, PacketInfo } from '../packet/index.ts';
import { recyclePacket } from '../packet/slab.ts';
import { DEFAULT_TCP_CONFIG } from './tcp/config.ts';
import type { TcpConfig } from './tcp/config.ts';
import { TcpConnection } from './tcp/connection.ts';
import type { TcpHostContext } from './tcp/connection.ts';
import { icmpToErrno, SocketError } from './tcp/errors.ts';
import { ConnList } from './tcp/conn-list.ts';
import { TcpListener } from './tcp/listener.ts';
import { newSegment, readSegment } from './tcp/segment.ts';
import type { Segment } from './tcp/segment.ts';
import { ConnIndex } from './conn-index.ts';
import { UdpSocket } from './udp.ts';
import type { UdpHostContext } from './udp.ts';

/**
 * What receive() reads a packet into, shared by all hosts: one per level of receives in
 * progress on the call stack (a link that delivers synchronously nests another host's),
 * so a packet's fields land in warm objects rather than in its host's own, cold in a run
 * with many hosts. Nothing keeps them past the packet.
 */
interface RxScratch {
  info: PacketInfo;
  seg: Segment;
}
const rxScratch: RxScratch[] = [];
let rxLevel = 0;

/** Linux net.ipv4.ip_local_port_range default. */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;
/** Virtual time 0 on the wall clock: 2022-07-26 11:18:20 UTC (ms since the epoch). */
export const DEFAULT_EPOCH_MS = 1658834300000;

export interface SimHostOptions {
  /** Host name (a pod's name): workloads print it, e.g. myapp's /hostname.html. */
  name: string;
  /** IPv4 addresses; the first is the source of outgoing packets. */
  addresses: readonly Addr[];
  clock: VirtualClock;
  /** Source of ISNs, IP IDs and ephemeral ports; default: a new Rng(seed). */
  rng?: Rng;
  seed?: number;
  tcp?: Partial<TcpConfig>;
  /** Wall-clock time of virtual time 0, in ms since the epoch. */
  epochMs?: number;
  /** How much of a bad packet an ICMP error quotes (default: header + 8 bytes, RFC 792). */
  icmpQuote?: 'rfc792' | 'linux';
}

export interface HostCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDropped: number;
  /** Dropped arrivals by reason (e.g. 'ipv4.BadHeaderChecksum', 'tcp.noSocket'). */
  drops: Record<string, number>;
  /** Everything else worth counting (e.g. 'icmp.echoReplied', 'tcp.rstSent'). */
  events: Record<string, number>;
}

export class SimHost implements TcpHostContext, UdpHostContext {
  readonly name: string;
  readonly addresses: number[];
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly tcpConfig: TcpConfig;
  readonly epochMs: number;
  /** Set by the topology: put a packet on this host's link. */
  transmit: ((packet: Uint8Array) => void) | undefined;
  /**
   * Set by the topology: where packets to the host's own addresses go, when they must
   * cross a dataplane first (a node in userspace mode: its portal rules DNAT the node's own
   * connections to kube-proxy's port). Default: straight back in.
   */
  loopback: ((packet: Uint8Array) => void) | undefined;
  /**
   * Give each received packet's buffer back for reuse (packet/slab.ts recyclePacket) once
   * it has been read. Only where whoever delivers a packet lets go of it: SimNetwork sets
   * it (its captures copy); a harness that logs the packets it delivers must not.
   */
  recyclePackets = false;
  readonly counters: HostCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxDropped: 0,
    drops: {},
    events: {},
  };
  private readonly icmpQuote: 'rfc792' | 'linux';
  /** addresses[0] as an int32: a small integer in the host object, not a boxed u32. */
  private readonly primary: number;
  /** Every TCP connection in creation order (views, shutdown); lookups go through connIndex. */
  private readonly conns = new ConnList();
  /** The same connections by 4-tuple, for the per-packet lookup (a flat hash table). */
  private readonly connIndex = new ConnIndex<TcpConnection>();
  /** receive(), bound once: a packet deferred to the same instant is queued with it. */
  private readonly receiveLater = (packet: Uint8Array): void => this.receive(packet);
  /** The deferred start of an active open (see tcpConnect). */
  private readonly openLater = (conn: TcpConnection): void => {
    if (conn.state === 'CLOSED' && conn.listed) conn.openActive();
  };
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly tcpPorts = new Map<number, number>();
  private readonly udpSockets = new Map<number, UdpSocket[]>();
  private ipId: number;
  /** Nesting of receive()/transmit() on the call stack (see receive()). */
  private depth = 0;

  constructor(o: SimHostOptions) {
    if (o.addresses.length === 0) throw new Error(`host ${o.name}: no address`);
    this.name = o.name;
    this.addresses = o.addresses.map(addrU32);
    this.primary = this.addresses[0]! | 0;
    this.clock = o.clock;
    this.rng = o.rng ?? new Rng(o.seed ?? 1);
    this.tcpConfig = { ...DEFAULT_TCP_CONFIG, ...o.tcp };
    this.epochMs = o.epochMs ?? DEFAULT_EPOCH_MS;
    this.icmpQuote = o.icmpQuote ?? 'rfc792';
    this.ipId = this.rng.int(0x10000);
  }

  /** The primary address, dotted. */
  get address(): string {
    return u32ToIp(this.addresses[0]!);
  }

  /** Wall-clock time now, ms since the epoch (for Date headers and dig's WHEN). */
  wallClockMs(): number {
    return this.epochMs + Math.floor(this.clock.now() / 1e6);
  }

  isLocal(ip: number): boolean {
    if ((ip | 0) === this.primary || ip >>> 24 === 127) return true;
    const a = this.addresses;
    return a.length > 1 && a.includes(ip);
  }

  /** Source address toward `dst`: loopback for 127/8, the address itself if local. */
  sourceFor(dst: number): number {
    if (dst >>> 24 === 127) return dst === 0x7f000001 ? dst : 0x7f000001;
    return this.addresses.includes(dst) ? dst : this.addresses[0]!;
  }

  toU32(a: Addr): number {
    return addrU32(a);
  }

  count(name: string): void {
    this.counters.events[name] = (this.counters.events[name] ?? 0) + 1;
  }

  private drop(reason: string): void {
    this.counters.rxDropped++;
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /** Out to the wire, or back in through loopback for a local destination. */
  sendPacket(pkt: Uint8Array): void {
    this.counters.txPackets++;
    this.counters.txBytes += pkt.length;
    const dst = ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0;
    if (this.isLocal(dst)) {
      this.count('tx.loopback');
      const loopback = this.loopback;
      if (loopback !== undefined) loopback(pkt);
      else this.clock.postArg(0, this.receiveLater, pkt);
    } else if (this.transmit === undefined) {
      this.count('tx.noTransmit');
    } else {
      this.depth++;
      try {
        this.transmit(pkt);
      } finally {
        this.depth--;
      }
    }
  }

  // ---- sockets ----

  /** Listen on a TCP port (0.0.0.0 unless `ip` is given). */
  tcpListen(
    port: number,
    onConnection: (conn: TcpConnection) => void,
    opts: { ip?: Addr } = {},
  ): TcpListener {
    const ip = opts.ip === undefined ? 0 : addrU32(opts.ip);
    const list = this.listeners.get(port) ?? [];
    if (list.some((l) => l.ip === ip || l.ip === 0 || ip === 0)) {
      throw new Error(`${this.name}: EADDRINUSE tcp port ${port}`);
    }
    const l = new TcpListener(ip, port, onConnection);
    list.push(l);
    this.listeners.set(port, list);
    this.holdPort(this.tcpPorts, port, 1);
    l.unbind = () => {
      const left = (this.listeners.get(port) ?? []).filter((x) => x !== l);
      if (left.length > 0) this.listeners.set(port, left);
      else this.listeners.delete(port);
      this.holdPort(this.tcpPorts, port, -1);
    };
    return l;
  }

  /** Open a TCP connection; the SYN leaves at the current virtual instant. */
  tcpConnect(dstIp: Addr, dstPort: number, opts: { srcPort?: number } = {}): TcpConnection {
    const dst = addrU32(dstIp);
    const src = this.sourceFor(dst);
    const sport = opts.srcPort ?? this.ephemeralPort(this.tcpPorts);
    if (this.connIndex.get(src, sport, dst, dstPort) !== undefined) {
      throw new Error(`${this.name}: EADDRNOTAVAIL ${u32ToIp(src)}:${sport}`);
    }
    const conn = new TcpConnection(this, src, sport, dst, dstPort);
    this.conns.add(conn);
    this.connIndex.set(src, sport, dst, dstPort, conn);
    this.holdPort(this.tcpPorts, sport, 1);
    // Deferred so the caller can set callbacks before anything can come back.
    this.clock.postArg(0, this.openLater, conn);
    return conn;
  }

  /**
   * The container's processes exit (a pod being deleted): listeners close, open TCP
   * connections are reset as the kernel resets the sockets of a killed process, UDP
   * sockets close. The address stays until the topology detaches the host.
   */
  shutdown(): void {
    for (const list of [...this.listeners.values()]) for (const l of [...list]) l.close();
    for (const c of this.conns.toArray()) c.destroy();
    for (const socks of [...this.udpSockets.values()]) for (const u of [...socks]) u.close();
  }

  /** All TCP connections this host still knows (including TIME-WAIT), for `ss`-like views. */
  tcpConnections(): TcpConnection[] {
    return this.conns.toArray();
  }

  /** Bind a UDP socket; no port = an ephemeral one. */
  udpBind(port?: number, opts: { ip?: Addr } = {}): UdpSocket {
    const ip = opts.ip === undefined ? 0 : addrU32(opts.ip);
    const p = port ?? this.ephemeralPort(this.udpPorts());
    const list = this.udpSockets.get(p) ?? [];
    if (list.some((s) => s.localIp === ip || s.localIp === 0 || ip === 0)) {
      throw new Error(`${this.name}: EADDRINUSE udp port ${p}`);
    }
    const sock = new UdpSocket(this, ip, p);
    list.push(sock);
    this.udpSockets.set(p, list);
    return sock;
  }

  udpUnbind(sock: UdpSocket): void {
    const left = (this.udpSockets.get(sock.localPort) ?? []).filter((s) => s !== sock);
    if (left.length > 0) this.udpSockets.set(sock.localPort, left);
    else this.udpSockets.delete(sock.localPort);
  }

  tcpForget(conn: TcpConnection): void {
    if (!this.conns.remove(conn)) return;
    this.connIndex.delete(conn.localIp, conn.localPort, conn.remoteIp, conn.remotePort);
    this.holdPort(this.tcpPorts, conn.localPort, -1);
  }

  private findConn(
    lip: number,
    lport: number,
    rip: number,
    rport: number,
  ): TcpConnection | undefined {
    return this.connIndex.get(lip, lport, rip, rport);
  }

  private udpPorts(): Map<number, number> {
    const m = new Map<number, number>();
    for (const p of this.udpSockets.keys()) m.set(p, 1);
    return m;
  }

  private holdPort(ports: Map<number, number>, port: number, d: number): void {
    const n = (ports.get(port) ?? 0) + d;
    if (n > 0) ports.set(port, n);
    else ports.delete(port);
  }

  /** A random free port in 32768-60999, probing upward from a seeded random start. */
  private ephemeralPort(inUse: Map<number, number>): number {
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const start = this.rng.int(span);
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_LOW + ((start + i) % span);
      if (!inUse.has(p)) return p;
    }
    throw new Error(`${this.name}: EADDRNOTAVAIL (no ephemeral port left)`);
  }

  // ---- receive path ----

  /** A packet from the link. Never throws on malformed input: it is counted and dropped. */
  receive(packet: Uint8Array): void {
    // A link that delivers synchronously must not re-enter the stack mid-send or
    // mid-receive: such a packet is taken at the same virtual instant, just after.
    if (this.depth > 0) {
      this.clock.postArg(0, this.receiveLater, packet);
      return;
    }
    this.depth++;
    const level = rxLevel++;
    const rx = (rxScratch[level] ??= { info: newPacketInfo(), seg: newSegment() });
    try {
      this.receivePacket(packet, rx.info, rx.seg);
    } finally {
      this.depth--;
      rxLevel--;
    }
    // Read to the end, and nothing here keeps a view of it (TCP and UDP hand out copies).
    if (this.recyclePackets) recyclePacket(packet);
  }

  private receivePacket(packet: Uint8Array, info: PacketInfo, seg: Segment): void {
    this.counters.rxPackets++;
    this.counters.rxBytes += packet.length;
    // Hosts verify L4 checksums (tcp_v4_rcv / __udp4_lib_rcv drop csum errors).
    const r = classify(packet, 0, packet.length, info, ClassifyFlags.VERIFY_L4_CHECKSUM);
    if (r !== 0) return this.drop(reasonName(r));
    if (!this.isLocal(info.dst)) return this.drop('notLocal');
    // No reassembly in the simulated stack: fragments are dropped.
    if (info.fragment) return this.drop('fragment');
    if (info.proto === IpProto.TCP) return this.tcpReceive(packet, info, seg);
    if (info.proto === IpProto.UDP) return this.udpReceive(packet, info);
    if (info.proto === IpProto.ICMP) return this.icmpReceive(packet, info);
    this.drop('unknownProtocol');
    this.icmpError(packet, info, IcmpType.DEST_UNREACHABLE, DestUnreachableCode.PROTOCOL);
  }

  private tcpReceive(packet: Uint8Array, i: PacketInfo, into: Segment): void {
    const seg = readSegment(packet, i.l4Offset, i.l4Length, i.src, i.dst, into);
    const conn = this.findConn(i.dst, seg.dport, i.src, seg.sport);
    if (conn !== undefined && !conn.input(seg)) return;
    const l = this.listeners.get(seg.dport)?.find((x) => x.ip === 0 || x.ip === i.dst);
    const flags = seg.flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST);
    if (l !== undefined && flags === TcpFlags.SYN) return this.acceptSyn(l, seg);
    if (seg.flags & TcpFlags.RST) return this.drop('tcp.rstNoSocket');
    this.drop(l === undefined ? 'tcp.noSocket' : 'tcp.noRequest');
    this.sendReset(seg);
  }

  private acceptSyn(l: TcpListener, seg: Segment): void {
    if (l.halfOpen >= this.tcpConfig.backlog) {
      l.droppedSyns++;
      return this.drop('tcp.backlogFull');
    }
    const conn = new TcpConnection(this, seg.dst, seg.dport, seg.src, seg.sport);
    this.conns.add(conn);
    this.connIndex.set(seg.dst, seg.dport, seg.src, seg.sport, conn);
    this.holdPort(this.tcpPorts, seg.dport, 1);
    l.adopt(conn);
    conn.openPassive(seg);
  }

  /** RFC 9293 §3.10.7.1: the reset for a segment that matches no connection. */
  private sendReset(seg: Segment): void {
    const ack = seg.flags & TcpFlags.ACK;
    const len =
      seg.dataLen + (seg.flags & TcpFlags.SYN ? 1 : 0) + (seg.flags & TcpFlags.FIN ? 1 : 0);
    this.count('tcp.rstSent');
    this.sendPacket(
      buildTcp({
        src: seg.dst,
        dst: seg.src,
        sport: seg.dport,
        dport: seg.sport,
        seq: ack ? seg.ack : 0,
        ack: ack ? 0 : (seg.seq + len) >>> 0,
        flags: ack ? TcpFlags.RST : TcpFlags.RST | TcpFlags.ACK,
        window: 0,
      }),
    );
  }

  private udpReceive(packet: Uint8Array, i: PacketInfo): void {
    const ulen = (packet[i.l4Offset + 4]! << 8) | packet[i.l4Offset + 5]!;
    const sock = this.udpSockets.get(i.dport)?.find((s) => s.localIp === 0 || s.localIp === i.dst);
    if (sock === undefined) {
      this.drop('udp.noSocket');
      return this.icmpError(packet, i, IcmpType.DEST_UNREACHABLE, DestUnreachableCode.PORT);
    }
    const payload = packet.slice(i.l4Offset + 8, i.l4Offset + ulen);
    sock.deliver(payload, i.src, i.sport, i.dst);
  }

  /** Send an ICMP error about `packet` when RFC 1812 allows one. */
  private icmpError(packet: Uint8Array, info: PacketInfo, type: number, code: number): void {
    if (!mayReplyWithIcmpError(packet)) return this.count('icmp.errorSuppressed');
    this.count(`icmp.sent.${type}.${code}`);
    this.sendPacket(buildIcmpError(packet, type, code, { src: info.dst, quote: this.icmpQuote }));
  }

  private icmpReceive(packet: Uint8Array, i: PacketInfo): void {
    if (i.icmpType === IcmpType.ECHO_REQUEST) {
      // icmp_echo(): the reply carries the same identifier, sequence and data.
      this.count('icmp.echoReplied');
      const data = packet.slice(i.l4Offset + 8, i.l4Offset + i.l4Length);
      const seq = (packet[i.l4Offset + 6]! << 8) | packet[i.l4Offset + 7]!;
      this.sendPacket(
        buildIcmp({
          src: i.dst,
          dst: i.src,
          id: this.nextIpId(),
          message: { kind: 'echoReply', ident: i.icmpId, seqNo: seq, data },
        }),
      );
      return;
    }
    if (i.icmpType === IcmpType.ECHO_REPLY) return this.drop('icmp.unexpectedEchoReply');
    if (i.innerOffset < 0) return this.drop('icmp.unhandled');
    this.icmpErrorArrives(packet, i);
  }

  /** Match an ICMP error's quoted header to the socket that sent it (tcp_v4_err, udp_err). */
  private icmpErrorArrives(packet: Uint8Array, i: PacketInfo): void {
    const inner = i.innerOffset;
    const ihl = (packet[inner]! & 0x0f) << 2;
    const l4 = inner + ihl;
    if (ihl < 20 || l4 + 8 > i.l4Offset + i.l4Length) return this.drop('icmp.shortQuote');
    const rd32 = (at: number) =>
      ((packet[at]! << 24) | (packet[at + 1]! << 16) | (packet[at + 2]! << 8) | packet[at + 3]!) >>>
      0;
    const proto = packet[inner + 9]!;
    const src = rd32(inner + 12);
    const dst = rd32(inner + 16);
    const sport = (packet[l4]! << 8) | packet[l4 + 1]!;
    const dport = (packet[l4 + 2]! << 8) | packet[l4 + 3]!;
    const type = i.icmpType;
    const code = i.icmpCode;
    if (proto === IpProto.TCP) {
      const conn = this.findConn(src, sport, dst, dport);
      if (conn === undefined) return this.drop('icmp.noSocket');
      this.count('icmp.toTcp');
      return conn.icmpError(type, code, i.src, rd32(l4 + 4));
    }
    if (proto === IpProto.UDP) {
      const sock = this.udpSockets.get(sport)?.find((s) => s.localIp === 0 || s.localIp === src);
      const e = icmpToErrno(type, code);
      if (sock === undefined || e === undefined) return this.drop('icmp.noSocket');
      this.count('icmp.toUdp');
      return sock.deliverError(new SocketError(e.code, { type, code, from: i.src }), dst, dport);
    }
    this.drop('icmp.noSocket');
  }

  private nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
}
