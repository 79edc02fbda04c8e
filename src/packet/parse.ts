// One entry for the dataplane: check IPv4, then the L4 header, and fill a
// reusable PacketInfo (no allocation per packet, never throws on any bytes).
import { l4ChecksumValid, onesSum } from './checksum.ts';
import { rd16, rd32 } from './bytes.ts';
import { IcmpReason, icmpIsError, icmpValidateWithChecksum } from './icmp.ts';
import { IpProto, Ipv4Reason } from './ipv4.ts';
import { TcpReason } from './tcp.ts';
import { UdpReason } from './udp.ts';

// Imported enum members read per packet, copied to module constants (an import would cost a
// module-binding load plus a property load each time).
const IPV4_OK = Ipv4Reason.Ok;
const PROTO_TCP = IpProto.TCP;
const PROTO_UDP = IpProto.UDP;
const PROTO_ICMP = IpProto.ICMP;

/** Reason codes of every header check, unique across headers (0 = Ok). */
export type PacketReason = Ipv4Reason | TcpReason | UdpReason | IcmpReason;

/** classify() flags. */
export const ClassifyFlags = {
  /** Also verify TCP/UDP/ICMP checksums (Linux nf_conntrack_checksum=1 does, in PREROUTING). */
  VERIFY_L4_CHECKSUM: 1,
} as const;
const VERIFY_L4 = ClassifyFlags.VERIFY_L4_CHECKSUM;

/** What the dataplane needs to know about a packet; one instance reused per worker. */
export interface PacketInfo {
  /** 0 = Ok, else the Ipv4Reason / TcpReason / UdpReason / IcmpReason code. */
  reason: PacketReason;
  /** IP protocol number. */
  proto: number;
  src: number;
  dst: number;
  ttl: number;
  /** MF set or fragment offset non-zero. */
  fragment: boolean;
  /** Offset of the L4 header in the buffer; -1 if the IPv4 check failed. */
  l4Offset: number;
  /** Bytes from l4Offset to Total Length. */
  l4Length: number;
  /** TCP/UDP ports; 0 when absent (other protocols, non-first fragments). */
  sport: number;
  dport: number;
  tcpFlags: number;
  /** ICMP type/code, -1 when not ICMP (or no header). */
  icmpType: number;
  icmpCode: number;
  /** ICMP echo identifier (conntrack's ICMP "port"), 0 otherwise. */
  icmpId: number;
  /** ICMP errors: offset of the quoted IPv4 header if 20+ bytes of it are present, else -1. */
  innerOffset: number;
}

export function newPacketInfo(): PacketInfo {
  return {
    reason: 0,
    proto: 0,
    src: 0,
    dst: 0,
    ttl: 0,
    fragment: false,
    l4Offset: -1,
    l4Length: 0,
    sport: 0,
    dport: 0,
    tcpFlags: 0,
    icmpType: -1,
    icmpCode: -1,
    icmpId: 0,
    innerOffset: -1,
  };
}

/**
 * Check the IPv4 packet at b[off, off+len) and its TCP/UDP/ICMP header; fill `out`.
 * Returns out.reason. Other protocols pass with only the IPv4 fields set.
 */
export function classify(
  b: Uint8Array,
  off: number,
  len: number,
  out: PacketInfo,
  flags = 0,
): PacketReason {
  out.sport = 0;
  out.dport = 0;
  out.tcpFlags = 0;
  out.icmpType = -1;
  out.icmpCode = -1;
  out.icmpId = 0;
  out.innerOffset = -1;
  // IPv4 checks, fused with field extraction; same order and codes as ipv4Validate
  // (Linux ip_rcv_core), which the tests hold it to.
  let r: PacketReason = IPV4_OK;
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let src = 0;
  let dst = 0;
  if (!(off >= 0 && off + len <= b.length) || !(len >= 20)) r = Ipv4Reason.Truncated;
  else {
    const b0 = b[off]!;
    const hl = (b0 & 0x0f) << 2;
    if (b0 >>> 4 !== 4) r = Ipv4Reason.BadVersion;
    else if (hl < 20) r = Ipv4Reason.BadIhl;
    else if (len < hl) r = Ipv4Reason.Truncated;
    else {
      // Each header byte is loaded once; the checksum adds even and odd bytes apart.
      const b1 = b[off + 1]!;
      const b2 = b[off + 2]!;
      const b3 = b[off + 3]!;
      const b4 = b[off + 4]!;
      const b5 = b[off + 5]!;
      const b6 = b[off + 6]!;
      const b7 = b[off + 7]!;
      const b8 = b[off + 8]!;
      const b9 = b[off + 9]!;
      const b10 = b[off + 10]!;
      const b11 = b[off + 11]!;
      const b12 = b[off + 12]!;
      const b13 = b[off + 13]!;
      const b14 = b[off + 14]!;
      const b15 = b[off + 15]!;
      const b16 = b[off + 16]!;
      const b17 = b[off + 17]!;
      const b18 = b[off + 18]!;
      const b19 = b[off + 19]!;
      w0 = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
      w1 = (b4 << 24) | (b5 << 16) | (b6 << 8) | b7;
      w2 = (b8 << 24) | (b9 << 16) | (b10 << 8) | b11;
      src = ((b12 << 24) | (b13 << 16) | (b14 << 8) | b15) >>> 0;
      dst = ((b16 << 24) | (b17 << 16) | (b18 << 8) | b19) >>> 0;
      let s =
        ((b0 + b2 + b4 + b6 + b8 + b10 + b12 + b14 + b16 + b18) << 8) +
        (b1 + b3 + b5 + b7 + b9 + b11 + b13 + b15 + b17 + b19);
      if (hl > 20) s = onesSum(b, off + 20, off + hl, s);
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      const tl = (b2 << 8) | b3;
      if (s !== 0xffff) r = Ipv4Reason.BadHeaderChecksum;
      else if (tl > len) r = Ipv4Reason.TotalLengthBeyondBuffer;
      else if (tl < hl) r = Ipv4Reason.TotalLengthTooSmall;
    }
  }
  if (r !== IPV4_OK) {
    out.reason = r;
    out.proto = 0;
    out.src = 0;
    out.dst = 0;
    out.ttl = 0;
    out.fragment = false;
    out.l4Offset = -1;
    out.l4Length = 0;
    return r;
  }
  const hl = (w0 >>> 22) & 0x3c;
  const l4 = off + hl;
  const l4len = (w0 & 0xffff) - hl;
  const proto = (w2 >>> 16) & 0xff;
  const fragWord = w1 & 0x3fff;
  const nonFirst = (w1 & 0x1fff) !== 0;
  out.proto = proto;
  out.src = src;
  out.dst = dst;
  out.ttl = w2 >>> 24;
  out.fragment = fragWord !== 0;
  out.l4Offset = l4;
  out.l4Length = l4len;
  // A non-first fragment has no L4 header; a first fragment's L4 lengths and
  // checksums refer to the whole datagram, so only the header presence is checked.
  const verify = (flags & VERIFY_L4) !== 0 && fragWord === 0;
  let reason: PacketReason = 0;
  if (nonFirst) {
    // nothing to check
  } else if (proto === PROTO_TCP) {
    if (l4len < 20) reason = TcpReason.Truncated;
    else {
      const thl = (b[l4 + 12]! >>> 4) << 2;
      if (thl < 20) reason = TcpReason.DataOffsetTooSmall;
      else if (thl > l4len) reason = TcpReason.Truncated;
      else if (verify && !l4ChecksumValid(b, l4, l4len, src, dst, 6)) {
        reason = TcpReason.BadChecksum;
      }
      if (reason === 0) {
        const ports = rd32(b, l4);
        out.sport = ports >>> 16;
        out.dport = ports & 0xffff;
        out.tcpFlags = b[l4 + 13]!;
      }
    }
  } else if (proto === PROTO_UDP) {
    if (l4len < 8) reason = UdpReason.Truncated;
    else {
      const ulen = rd16(b, l4 + 4);
      if (fragWord === 0 && (ulen < 8 || ulen > l4len)) reason = UdpReason.LengthMismatch;
      else if (verify && rd16(b, l4 + 6) !== 0 && !l4ChecksumValid(b, l4, ulen, src, dst, 17)) {
        reason = UdpReason.BadChecksum;
      }
      if (reason === 0) {
        const ports = rd32(b, l4);
        out.sport = ports >>> 16;
        out.dport = ports & 0xffff;
      }
    }
  } else if (proto === PROTO_ICMP) {
    reason = verify ? icmpValidateWithChecksum(b, l4, l4len) : l4len < 8 ? IcmpReason.Truncated : 0;
    if (reason === 0) {
      const t = b[l4]!;
      out.icmpType = t;
      out.icmpCode = b[l4 + 1]!;
      if (t === 0 || t === 8) out.icmpId = (b[l4 + 4]! << 8) | b[l4 + 5]!;
      else if (icmpIsError(t) && l4len >= 28 && b[l4 + 8]! >>> 4 === 4) out.innerOffset = l4 + 8;
    }
  }
  out.reason = reason;
  return reason;
}

/** Convenience (allocates): classify a whole buffer holding one IPv4 packet. */
export function parsePacket(b: Uint8Array, flags = 0): PacketInfo {
  const info = newPacketInfo();
  classify(b, 0, b.length, info, flags);
  return info;
}

const NAMES: Record<number, string> = {};
for (const [layer, table] of [
  ['ipv4', Ipv4Reason],
  ['tcp', TcpReason],
  ['udp', UdpReason],
  ['icmp', IcmpReason],
] as const) {
  for (const [name, code] of Object.entries(table))
    if (code !== 0) NAMES[code] = `${layer}.${name}`;
}

/** Name of a reason code for logs and counters, e.g. 'ipv4.BadHeaderChecksum' ('ok' for 0). */
export function reasonName(code: number): string {
  return code === 0 ? 'ok' : (NAMES[code] ?? `unknown(${code})`);
}
