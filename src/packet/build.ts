// Builders for complete IPv4 packets with correct checksums, for tests, the
// simulator's workloads and ICMP replies. Not for the forwarding path.
import { ipToU32 } from './addr.ts';
import { IcmpRepr } from './icmp-repr.ts';
import { IpProto } from './ipv4.ts';
import { Ipv4Repr } from './ipv4-repr.ts';
import { emitTcpOptions } from './tcp-options.ts';
import type { TcpOption } from './tcp-options.ts';
import { TcpRepr } from './tcp-repr.ts';
import { UdpRepr } from './udp.ts';

/** An address: u32, or a dotted string (convenience for tests; parsed strictly). */
export type Addr = number | string;

/** The last dotted address parsed, and its value: callers tend to repeat one. */
let lastText = '';
let lastValue = 0;

export function addrU32(a: Addr): number {
  if (typeof a === 'number') return a >>> 0;
  if (a === lastText) return lastValue;
  const v = ipToU32(a);
  lastText = a;
  lastValue = v;
  return v;
}

/** IPv4 header fields common to every builder. */
export interface IpOptions {
  src: Addr;
  dst: Addr;
  /** Default 64 (Linux net.ipv4.ip_default_ttl). */
  ttl?: number;
  /** Identification; default 0. */
  id?: number;
  dscp?: number;
  ecn?: number;
  /** Don't Fragment; default true for TCP (Linux PMTU discovery), false otherwise. */
  df?: boolean;
  /** Raw IPv4 option bytes (padded to 4). */
  ipOptions?: Uint8Array;
}

/** Build an IPv4 packet around an L4 message written by `emitL4` into the payload area. */
export function buildIpv4(
  ip: IpOptions & { protocol: number },
  l4Length: number,
  emitL4: (out: Uint8Array, src: number, dst: number) => void,
  dfDefault = false,
): Uint8Array {
  const repr: Ipv4Repr = {
    src: addrU32(ip.src),
    dst: addrU32(ip.dst),
    protocol: ip.protocol,
    ttl: ip.ttl ?? 64,
    ident: ip.id ?? 0,
    dscp: ip.dscp ?? 0,
    ecn: ip.ecn ?? 0,
    dontFragment: ip.df ?? dfDefault,
    moreFragments: false,
    fragmentOffset: 0,
    options: ip.ipOptions ?? new Uint8Array(0),
    payloadLength: l4Length,
  };
  const hl = Ipv4Repr.headerLength(repr);
  const total = hl + l4Length;
  if (total > 0xffff) throw new RangeError(`IPv4 packet too long: ${total}`);
  const out = new Uint8Array(total);
  Ipv4Repr.emit(repr, out);
  emitL4(out.subarray(hl), repr.src, repr.dst);
  return out;
}

/** Any IPv4 packet with the given payload (no L4 processing). */
export function buildRawIpv4(
  opts: IpOptions & { protocol: number; payload: Uint8Array },
): Uint8Array {
  return buildIpv4(opts, opts.payload.length, (out) => out.set(opts.payload));
}

export interface TcpBuild extends IpOptions {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** TcpFlags bits; default 0. */
  flags?: number;
  /** Default 64240 (what Linux advertises in a SYN on a 1500-byte MTU). */
  window?: number;
  urgent?: number;
  /** Raw option bytes or decoded options. */
  options?: Uint8Array | readonly TcpOption[];
  payload?: Uint8Array;
}

export function buildTcp(o: TcpBuild): Uint8Array {
  const options =
    o.options === undefined
      ? new Uint8Array(0)
      : o.options instanceof Uint8Array
        ? o.options
        : emitTcpOptions(o.options);
  const repr: TcpRepr = {
    srcPort: o.sport,
    dstPort: o.dport,
    seq: o.seq ?? 0,
    ack: o.ack ?? 0,
    flags: o.flags ?? 0,
    window: o.window ?? 64240,
    urgent: o.urgent ?? 0,
    options,
    payload: o.payload ?? new Uint8Array(0),
  };
  return buildIpv4(
    { ...o, protocol: IpProto.TCP },
    TcpRepr.bufferLength(repr),
    (out, src, dst) => TcpRepr.emit(repr, out, src, dst),
    true,
  );
}

export interface UdpBuild extends IpOptions {
  sport: number;
  dport: number;
  payload?: Uint8Array;
  /** false sends checksum 0 ("none", RFC 768). Default true. */
  checksum?: boolean;
}

export function buildUdp(o: UdpBuild): Uint8Array {
  const repr: UdpRepr = {
    srcPort: o.sport,
    dstPort: o.dport,
    payload: o.payload ?? new Uint8Array(0),
  };
  return buildIpv4({ ...o, protocol: IpProto.UDP }, UdpRepr.bufferLength(repr), (out, src, dst) =>
    UdpRepr.emit(repr, out, src, dst, o.checksum ?? true),
  );
}

export interface IcmpEchoBuild extends IpOptions {
  /** Echo identifier. */
  echoId: number;
  /** Echo sequence number. */
  seq: number;
  data?: Uint8Array;
  /** Build an Echo Reply (type 0) instead of a Request (type 8). */
  reply?: boolean;
}

export function buildIcmpEcho(o: IcmpEchoBuild): Uint8Array {
  const repr: IcmpRepr = {
    kind: o.reply ? 'echoReply' : 'echoRequest',
    ident: o.echoId,
    seqNo: o.seq,
    data: o.data ?? new Uint8Array(0),
  };
  return buildIcmp({ ...o, message: repr });
}

/** Any ICMP message inside an IPv4 packet. */
export function buildIcmp(o: IpOptions & { message: IcmpRepr }): Uint8Array {
  return buildIpv4({ ...o, protocol: IpProto.ICMP }, IcmpRepr.bufferLength(o.message), (out) =>
    IcmpRepr.emit(o.message, out),
  );
}
