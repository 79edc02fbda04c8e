// IPv4 header (RFC 791 §3.1): field accessors over (bytes, offset), checks, checksum-updating
// setters. The Repr (build, test, log) is in ipv4-repr.ts.
import { applyDelta, delta16, delta32, fold, onesSum } from './checksum.ts';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |   DSCP    |ECN|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// (DSCP/ECN: RFC 2474, RFC 3168. Flags: bit 0 reserved, DF, MF.)

/** Byte offsets of IPv4 header fields. */
export const Ipv4Field = {
  /** Version (high nibble) and IHL in 32-bit words (low nibble). */
  VER_IHL: 0,
  /** DSCP (high 6 bits) and ECN (low 2 bits). */
  DSCP_ECN: 1,
  /** Total length of header + data, in bytes. */
  LENGTH: 2,
  /** Identification, for reassembly. */
  IDENT: 4,
  /** Flags (3 high bits) and fragment offset in 8-byte units (13 bits). */
  FLG_OFF: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC_ADDR: 12,
  DST_ADDR: 16,
  /** Options start here when IHL > 5. */
  OPTIONS: 20,
} as const;

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;

/** Bits of the 16-bit flags/fragment-offset word. */
export const Ipv4FlagBits = {
  RESERVED: 0x8000,
  DF: 0x4000,
  MF: 0x2000,
  OFFSET_MASK: 0x1fff,
} as const;

/** IANA protocol numbers this simulator speaks. */
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** Why an IPv4 header was refused; checks run in the order of Linux ip_rcv_core(). */
export const Ipv4Reason = {
  Ok: 0,
  /** Fewer than 20 bytes, or fewer than IHL*4. */
  Truncated: 1,
  BadVersion: 2,
  /** IHL < 5. */
  BadIhl: 3,
  BadHeaderChecksum: 4,
  /** Total Length larger than the bytes at hand. */
  TotalLengthBeyondBuffer: 5,
  /** Total Length smaller than the header itself. */
  TotalLengthTooSmall: 6,
} as const;
export type Ipv4Reason = (typeof Ipv4Reason)[keyof typeof Ipv4Reason];

const F = Ipv4Field;

// ---- Level 0: functions over (bytes, offset). No allocation, no throwing. ----

export function ipv4Ihl(b: Uint8Array, off: number): number {
  return b[off + F.VER_IHL]! & 0x0f;
}
export function ipv4HeaderLen(b: Uint8Array, off: number): number {
  return (b[off + F.VER_IHL]! & 0x0f) << 2;
}
export function ipv4TotalLen(b: Uint8Array, off: number): number {
  return (b[off + F.LENGTH]! << 8) | b[off + F.LENGTH + 1]!;
}
export function ipv4Protocol(b: Uint8Array, off: number): number {
  return b[off + F.PROTOCOL]!;
}
export function ipv4Src(b: Uint8Array, off: number): number {
  const i = off + F.SRC_ADDR;
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
export function ipv4Dst(b: Uint8Array, off: number): number {
  const i = off + F.DST_ADDR;
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
/** The flags/fragment word; a packet is a fragment if MF is set or the offset is non-zero. */
export function ipv4IsFragment(b: Uint8Array, off: number): boolean {
  return ((b[off + F.FLG_OFF]! << 8) & 0x3f00) + b[off + F.FLG_OFF + 1]! !== 0;
}
/** The fragment offset in 8-byte units, as the field holds it; non-zero: no L4 header. */
export function ipv4FragOffset(b: Uint8Array, off: number): number {
  return ((b[off + F.FLG_OFF]! & 0x1f) << 8) | b[off + F.FLG_OFF + 1]!;
}

/** Header checksum as it would be computed now (field treated as zero). */
export function ipv4ComputeChecksum(b: Uint8Array, off: number, headerLen: number): number {
  const acc = onesSum(b, off, off + F.CHECKSUM, onesSum(b, off + F.CHECKSUM + 2, off + headerLen));
  return ~fold(acc) & 0xffff;
}

/** Recompute and store the header checksum (for building; NAT updates incrementally). */
export function ipv4FillChecksum(b: Uint8Array, off: number): void {
  const c = ipv4ComputeChecksum(b, off, ipv4HeaderLen(b, off));
  b[off + F.CHECKSUM] = c >>> 8;
  b[off + F.CHECKSUM + 1] = c & 0xff;
}

/**
 * Validate the header at b[off, off+len). Returns Ipv4Reason.Ok or why not.
 * After Ok, every field getter reads inside the header and payload bounds.
 */
export function ipv4Validate(b: Uint8Array, off: number, len: number): Ipv4Reason {
  // Written so that NaN or negative offsets also land here.
  if (!(off >= 0 && off + len <= b.length) || !(len >= IPV4_MIN_HEADER_LEN)) {
    return Ipv4Reason.Truncated;
  }
  const vi = b[off]!;
  if (vi >>> 4 !== 4) return Ipv4Reason.BadVersion;
  const hl = (vi & 0x0f) << 2;
  if (hl < IPV4_MIN_HEADER_LEN) return Ipv4Reason.BadIhl;
  if (len < hl) return Ipv4Reason.Truncated;
  // A correct header sums to all ones (RFC 1071 §1(3)). Sums every header word
  // (options too); even and odd bytes are added apart, then combined.
  let hi = 0;
  let lo = 0;
  for (let i = off; i < off + hl; i += 2) {
    hi += b[i]!;
    lo += b[i + 1]!;
  }
  let s = (hi << 8) + lo;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  if (s !== 0xffff) return Ipv4Reason.BadHeaderChecksum;
  const tl = (b[off + 2]! << 8) | b[off + 3]!;
  if (tl > len) return Ipv4Reason.TotalLengthBeyondBuffer;
  if (tl < hl) return Ipv4Reason.TotalLengthTooSmall;
  return Ipv4Reason.Ok;
}

/** Result of `checkIpv4`: shared frozen objects, so checking allocates nothing. */
export interface Ipv4Check {
  readonly ok: boolean;
  readonly reason: Ipv4Reason;
  /** MF set or fragment offset non-zero (only meaningful when ok). */
  readonly fragment: boolean;
}

const CHECKS: readonly Ipv4Check[] = Object.values(Ipv4Reason).flatMap((reason) =>
  [false, true].map((fragment) =>
    Object.freeze({ ok: reason === Ipv4Reason.Ok, reason, fragment }),
  ),
);

/** Check an IPv4 packet occupying bytes (or bytes[off, off+len)); never throws. */
export function checkIpv4(b: Uint8Array, off = 0, len = b.length - off): Ipv4Check {
  const reason = ipv4Validate(b, off, len);
  const fragment = reason === Ipv4Reason.Ok && ipv4IsFragment(b, off);
  return CHECKS[reason * 2 + (fragment ? 1 : 0)]!;
}

// ---- Checksum-updating setters (gVisor SetSourceAddressWithChecksumUpdate) ----

function putU16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8;
  b[i + 1] = v & 0xff;
}
function getU16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function putU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/** Apply a checksum delta (RFC 1624) to the header checksum. */
export function ipv4ApplyDelta(b: Uint8Array, off: number, delta: number): void {
  const i = off + F.CHECKSUM;
  putU16(b, i, applyDelta(getU16(b, i), delta));
}

/** Set the source address, updating the header checksum only (L4: see nat.ts). */
export function ipv4SetSrcWithChecksum(b: Uint8Array, off: number, addr: number): void {
  const d = delta32(ipv4Src(b, off), addr);
  putU32(b, off + F.SRC_ADDR, addr);
  ipv4ApplyDelta(b, off, d);
}

/** Set the destination address, updating the header checksum only (L4: see nat.ts). */
export function ipv4SetDstWithChecksum(b: Uint8Array, off: number, addr: number): void {
  const d = delta32(ipv4Dst(b, off), addr);
  putU32(b, off + F.DST_ADDR, addr);
  ipv4ApplyDelta(b, off, d);
}

/** Set the TTL (shares a word with Protocol), updating the header checksum. */
export function ipv4SetTtlWithChecksum(b: Uint8Array, off: number, ttl: number): void {
  const i = off + F.TTL;
  const old = getU16(b, i);
  b[i] = ttl & 0xff;
  ipv4ApplyDelta(b, off, delta16(old, getU16(b, i)));
}

/**
 * Forwarding step: decrement TTL and update the checksum (RFC 1812 §5.3.1).
 * Returns the new TTL; 0 means the router must drop and send Time Exceeded.
 * A packet arriving with TTL 0 or 1 is left untouched and 0 is returned.
 */
export function ipv4DecTtlWithChecksum(b: Uint8Array, off: number): number {
  const ttl = b[off + F.TTL]!;
  if (ttl <= 1) return 0;
  ipv4SetTtlWithChecksum(b, off, ttl - 1);
  return ttl - 1;
}

/** Set Total Length, updating the header checksum. */
export function ipv4SetTotalLenWithChecksum(b: Uint8Array, off: number, len: number): void {
  const i = off + F.LENGTH;
  const old = getU16(b, i);
  putU16(b, i, len);
  ipv4ApplyDelta(b, off, delta16(old, len & 0xffff));
}
