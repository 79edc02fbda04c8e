// TCP header (RFC 9293 §3.1): field offsets, flags, checks, level-0 accessors.
import { l4ChecksumValid } from './checksum.ts';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |       |       |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           [Options]                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/** Byte offsets of TCP header fields. */
export const TcpField = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ_NUM: 4,
  ACK_NUM: 8,
  /** Data offset in 32-bit words (high nibble); low nibble reserved (bit 0: RFC 3540 NS). */
  DATA_OFF: 12,
  /** The flags byte, see TcpFlags. */
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

export const TCP_MIN_HEADER_LEN = 20;

/** TCP control bits (byte 13 of the header); CWR/ECE per RFC 3168. */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Why a TCP segment was refused (codes distinct from other headers' reasons). */
export const TcpReason = {
  Ok: 0,
  /** Fewer than 20 bytes, or fewer than the data offset claims. */
  Truncated: 16,
  /** Data offset < 5 words (Linux tcp_v4_rcv: bad_packet). */
  DataOffsetTooSmall: 17,
  /** Checksum over pseudo-header + segment is wrong (only when asked to verify). */
  BadChecksum: 18,
} as const;
export type TcpReason = (typeof TcpReason)[keyof typeof TcpReason];

/** Format flags the way tcpdump does: "[S.]" style letters (S F R P . U E W). */
export function formatTcpFlags(flags: number): string {
  let s = '';
  if (flags & TcpFlags.SYN) s += 'S';
  if (flags & TcpFlags.FIN) s += 'F';
  if (flags & TcpFlags.RST) s += 'R';
  if (flags & TcpFlags.PSH) s += 'P';
  if (flags & TcpFlags.URG) s += 'U';
  if (flags & TcpFlags.ECE) s += 'E';
  if (flags & TcpFlags.CWR) s += 'W';
  if (flags & TcpFlags.ACK) s += '.';
  return s === '' ? 'none' : s;
}

// ---- Level 0: functions over (bytes, offset of the TCP header). ----

export function tcpSrcPort(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}
export function tcpDstPort(b: Uint8Array, off: number): number {
  return (b[off + 2]! << 8) | b[off + 3]!;
}
export function tcpSeq(b: Uint8Array, off: number): number {
  return ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
}
export function tcpAck(b: Uint8Array, off: number): number {
  return ((b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!) >>> 0;
}
export function tcpHeaderLen(b: Uint8Array, off: number): number {
  return (b[off + TcpField.DATA_OFF]! >>> 4) << 2;
}
export function tcpFlags(b: Uint8Array, off: number): number {
  return b[off + TcpField.FLAGS]!;
}

/** Validate a segment at b[off, off+len) (len = IP payload length). Linux tcp_v4_rcv order. */
export function tcpValidate(b: Uint8Array, off: number, len: number): TcpReason {
  if (!(off >= 0 && off + len <= b.length) || !(len >= TCP_MIN_HEADER_LEN)) {
    return TcpReason.Truncated;
  }
  const hl = (b[off + TcpField.DATA_OFF]! >>> 4) << 2;
  if (hl < TCP_MIN_HEADER_LEN) return TcpReason.DataOffsetTooSmall;
  if (hl > len) return TcpReason.Truncated;
  return TcpReason.Ok;
}

/** Validate and also verify the checksum with the pseudo-header of src -> dst. */
export function tcpValidateWithChecksum(
  b: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
): TcpReason {
  const r = tcpValidate(b, off, len);
  if (r !== TcpReason.Ok) return r;
  return l4ChecksumValid(b, off, len, src, dst, 6) ? TcpReason.Ok : TcpReason.BadChecksum;
}
