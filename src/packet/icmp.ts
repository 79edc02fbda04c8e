// ICMPv4 (RFC 792, RFC 1812 §4.3): offsets, types/codes, checks, accessors over (bytes, offset).
import { fold, internetChecksum, onesSum } from './checksum.ts';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Identifier          |        Sequence Number        |  echo (types 8, 0)
// |             unused            |   Next-Hop MTU (RFC 1191)     |  errors (3, 11, ...)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Data (echo) / Internet Header + leading octets of the      |
// |                  original datagram (errors)                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/** Byte offsets of ICMP fields. */
export const IcmpField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  ECHO_IDENT: 4,
  ECHO_SEQNO: 6,
  /** Destination Unreachable, code 4: MTU of the next hop (RFC 1191). */
  NEXT_HOP_MTU: 6,
  /** Echo data, or the quoted original datagram of an error. */
  DATA: 8,
} as const;

export const ICMP_HEADER_LEN = 8;

export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
} as const;

/** Destination Unreachable codes (RFC 792, RFC 1122, RFC 1812 §5.2.7.1). */
export const DestUnreachableCode = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  NET_UNKNOWN: 6,
  HOST_UNKNOWN: 7,
  HOST_ISOLATED: 8,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  NET_TOS: 11,
  HOST_TOS: 12,
  ADMIN_PROHIBITED: 13,
  HOST_PRECEDENCE: 14,
  PRECEDENCE_CUTOFF: 15,
} as const;

export const TimeExceededCode = { TTL: 0, REASSEMBLY: 1 } as const;

/** Why an ICMP message was refused (codes distinct from other headers' reasons). */
export const IcmpReason = {
  Ok: 0,
  /** Fewer than 8 bytes. */
  Truncated: 48,
  /** Checksum over the message is wrong (only when asked to verify). */
  BadChecksum: 49,
} as const;
export type IcmpReason = (typeof IcmpReason)[keyof typeof IcmpReason];

/** Error messages quote an original datagram; Linux icmp_pointers[].error. */
export function icmpIsError(type: number): boolean {
  return (
    type === IcmpType.DEST_UNREACHABLE ||
    type === IcmpType.SOURCE_QUENCH ||
    type === IcmpType.REDIRECT ||
    type === IcmpType.TIME_EXCEEDED ||
    type === IcmpType.PARAMETER_PROBLEM
  );
}

// ---- Level 0: functions over (bytes, offset of the ICMP header). ----

export function icmpType(b: Uint8Array, off: number): number {
  return b[off]!;
}
export function icmpCode(b: Uint8Array, off: number): number {
  return b[off + 1]!;
}
export function icmpEchoIdent(b: Uint8Array, off: number): number {
  return (b[off + 4]! << 8) | b[off + 5]!;
}
export function icmpEchoSeq(b: Uint8Array, off: number): number {
  return (b[off + 6]! << 8) | b[off + 7]!;
}

/** Validate a message at b[off, off+len) (len = IP payload length). */
export function icmpValidate(b: Uint8Array, off: number, len: number): IcmpReason {
  if (!(off >= 0 && off + len <= b.length) || !(len >= ICMP_HEADER_LEN)) {
    return IcmpReason.Truncated;
  }
  return IcmpReason.Ok;
}

/** Validate and verify the checksum (RFC 792: over the whole ICMP message, no pseudo-header). */
export function icmpValidateWithChecksum(b: Uint8Array, off: number, len: number): IcmpReason {
  const r = icmpValidate(b, off, len);
  if (r !== IcmpReason.Ok) return r;
  return fold(onesSum(b, off, off + len)) === 0xffff ? IcmpReason.Ok : IcmpReason.BadChecksum;
}

/** Compute and store the checksum of the message b[off, off+len). */
export function icmpFillChecksum(b: Uint8Array, off: number, len: number): void {
  b[off + 2] = 0;
  b[off + 3] = 0;
  const c = internetChecksum(b, off, off + len);
  b[off + 2] = c >>> 8;
  b[off + 3] = c & 0xff;
}
