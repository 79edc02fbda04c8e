// A TCP segment in its IPv4 packet, written straight into one new buffer: the bytes
// buildTcp (src/packet/build.ts) produces for the same fields (IHL 5, DF, TTL 64, TOS 0,
// urgent 0), without its Repr objects, option arrays and closures. The simulated hosts
// send every segment through here, so this is the per-packet cost of the sending side.
import { fold, onesSum } from '../../packet/checksum.ts';

const NO_OPTIONS = new Uint8Array(0);

/** IPv4 + TCP packet (checksums filled) for one segment of a connection. */
export function tcpPacket(
  src: number,
  dst: number,
  ipId: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  payload: Uint8Array,
  options: Uint8Array = NO_OPTIONS,
): Uint8Array {
  const optLen = (options.length + 3) & ~3;
  if (optLen > 40) throw new RangeError(`TCP options too long: ${options.length} > 40`);
  const thl = 20 + optLen;
  const l4Len = thl + payload.length;
  const total = 20 + l4Len;
  if (total > 0xffff) throw new RangeError(`IPv4 packet too long: ${total}`);
  const b = new Uint8Array(total); // zero-filled: TOS, fragment offset, urgent, option padding
  // IPv4 (RFC 791): version 4, IHL 5, DF, TTL 64 (Linux ip_default_ttl), protocol 6.
  b[0] = 0x45;
  b[2] = total >>> 8;
  b[3] = total & 0xff;
  b[4] = (ipId >>> 8) & 0xff;
  b[5] = ipId & 0xff;
  b[6] = 0x40;
  b[8] = 64;
  b[9] = 6;
  b[12] = src >>> 24;
  b[13] = (src >>> 16) & 0xff;
  b[14] = (src >>> 8) & 0xff;
  b[15] = src & 0xff;
  b[16] = dst >>> 24;
  b[17] = (dst >>> 16) & 0xff;
  b[18] = (dst >>> 8) & 0xff;
  b[19] = dst & 0xff;
  // Header checksum over the ten 16-bit words (the checksum word is still zero).
  let ipSum = 0;
  for (let i = 0; i < 20; i += 2) ipSum += (b[i]! << 8) | b[i + 1]!;
  const ipCsum = ~fold(ipSum) & 0xffff;
  b[10] = ipCsum >>> 8;
  b[11] = ipCsum & 0xff;
  // TCP (RFC 9293 §3.1).
  b[20] = sport >>> 8;
  b[21] = sport & 0xff;
  b[22] = dport >>> 8;
  b[23] = dport & 0xff;
  b[24] = seq >>> 24;
  b[25] = (seq >>> 16) & 0xff;
  b[26] = (seq >>> 8) & 0xff;
  b[27] = seq & 0xff;
  b[28] = ack >>> 24;
  b[29] = (ack >>> 16) & 0xff;
  b[30] = (ack >>> 8) & 0xff;
  b[31] = ack & 0xff;
  b[32] = (thl >>> 2) << 4;
  b[33] = flags & 0xff;
  b[34] = (window >>> 8) & 0xff;
  b[35] = window & 0xff;
  if (options.length > 0) b.set(options, 40);
  if (payload.length > 0) b.set(payload, 20 + thl);
  // Pseudo-header (src, dst, protocol, TCP length) + segment; the checksum word is zero.
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + l4Len;
  const csum = ~fold(onesSum(b, 20, total, pseudo)) & 0xffff;
  b[36] = csum >>> 8;
  b[37] = csum & 0xff;
  return b;
}
