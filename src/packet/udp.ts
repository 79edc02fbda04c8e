// UDP header (RFC 768): offsets, checks, accessors over (bytes, offset), and the Repr.
import { l4Checksum, l4ChecksumValid, udpChecksumFinal } from './checksum.ts';
import type { Parsed } from './result.ts';

//  0      7 8     15 16    23 24    31
// +--------+--------+--------+--------+
// |     Source      |   Destination   |
// |      Port       |      Port       |
// +--------+--------+--------+--------+
// |                 |                 |
// |     Length      |    Checksum     |
// +--------+--------+--------+--------+
// |          data octets ...

/** Byte offsets of UDP header fields. */
export const UdpField = {
  SRC_PORT: 0,
  DST_PORT: 2,
  /** Header + data length in bytes (>= 8). */
  LENGTH: 4,
  /** 0 = no checksum was computed (RFC 768). */
  CHECKSUM: 6,
  PAYLOAD: 8,
} as const;

export const UDP_HEADER_LEN = 8;

/** Why a UDP datagram was refused (codes distinct from other headers' reasons). */
export const UdpReason = {
  Ok: 0,
  /** Fewer than 8 bytes. */
  Truncated: 32,
  /** Length field < 8 or larger than the IP payload (Linux __udp4_lib_rcv: short_packet). */
  LengthMismatch: 33,
  /** Non-zero checksum that does not verify (only when asked to verify). */
  BadChecksum: 34,
} as const;
export type UdpReason = (typeof UdpReason)[keyof typeof UdpReason];

const F = UdpField;

export function udpSrcPort(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}
export function udpDstPort(b: Uint8Array, off: number): number {
  return (b[off + 2]! << 8) | b[off + 3]!;
}
export function udpLength(b: Uint8Array, off: number): number {
  return (b[off + 4]! << 8) | b[off + 5]!;
}
export function udpChecksum(b: Uint8Array, off: number): number {
  return (b[off + 6]! << 8) | b[off + 7]!;
}

/**
 * Validate a datagram at b[off, off+len) (len = IP payload length). A Length
 * shorter than the IP payload is accepted (Linux trims the excess), longer is not.
 */
export function udpValidate(b: Uint8Array, off: number, len: number): UdpReason {
  if (!(off >= 0 && off + len <= b.length) || !(len >= UDP_HEADER_LEN)) {
    return UdpReason.Truncated;
  }
  const ulen = (b[off + 4]! << 8) | b[off + 5]!;
  if (ulen < UDP_HEADER_LEN || ulen > len) return UdpReason.LengthMismatch;
  return UdpReason.Ok;
}

/** Validate, then verify a non-zero checksum against the pseudo-header src -> dst. */
export function udpValidateWithChecksum(
  b: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
): UdpReason {
  const r = udpValidate(b, off, len);
  if (r !== UdpReason.Ok) return r;
  if (udpChecksum(b, off) === 0) return UdpReason.Ok;
  return l4ChecksumValid(b, off, udpLength(b, off), src, dst, 17)
    ? UdpReason.Ok
    : UdpReason.BadChecksum;
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export const UdpRepr = {
  /** Parse a datagram (IP payload); with `verify`, a non-zero checksum must be right. */
  parse(dgram: Uint8Array, src: number, dst: number, verify = true): Parsed<UdpRepr, UdpReason> {
    const reason = verify
      ? udpValidateWithChecksum(dgram, 0, dgram.length, src, dst)
      : udpValidate(dgram, 0, dgram.length);
    if (reason !== UdpReason.Ok) return { ok: false, reason };
    return {
      ok: true,
      value: {
        srcPort: udpSrcPort(dgram, 0),
        dstPort: udpDstPort(dgram, 0),
        payload: dgram.slice(F.PAYLOAD, udpLength(dgram, 0)),
      },
    };
  },

  bufferLength(repr: UdpRepr): number {
    return UDP_HEADER_LEN + repr.payload.length;
  },

  /** Write header, payload and checksum (or 0 when `checksum` is false) into out[0..len). */
  emit(repr: UdpRepr, out: Uint8Array, src: number, dst: number, checksum = true): void {
    const len = UDP_HEADER_LEN + repr.payload.length;
    if (len > 0xffff) throw new RangeError(`UDP datagram too long: ${len}`);
    if (out.length < len) throw new RangeError(`buffer ${out.length} < UDP datagram ${len}`);
    const put16 = (i: number, v: number) => ((out[i] = (v >>> 8) & 0xff), (out[i + 1] = v & 0xff));
    put16(F.SRC_PORT, repr.srcPort);
    put16(F.DST_PORT, repr.dstPort);
    put16(F.LENGTH, len);
    put16(F.CHECKSUM, 0);
    out.set(repr.payload, F.PAYLOAD);
    if (checksum) put16(F.CHECKSUM, udpChecksumFinal(l4Checksum(out, 0, len, src, dst, 17, 6)));
  },
};
