// A TCP segment in its IPv4 packet, written straight into a new buffer: the bytes
// buildTcp (src/packet/build.ts) produces for the same fields (IHL 5, DF, TTL 64, TOS 0,
// urgent 0), without its Repr objects, option arrays and closures. The simulated hosts
// send every segment through here, so this is the per-packet cost of the sending side.
//
// Buffers come from packetBytes (src/packet/slab.ts): a recycled packet's buffer of the same
// length when there is one, so every byte is written here, zeros included.
import { fold, onesSum } from '../../packet/checksum.ts';
import { packetBytes } from '../../packet/slab.ts';
import type { ByteQueue } from './byte-queue.ts';

const NO_OPTIONS = new Uint8Array(0);

/**
 * Write the IPv4 and TCP headers and options of a `total`-byte packet whose TCP header is
 * `thl` bytes; the payload goes at 20 + thl, then finishChecksum().
 */
function headers(
  b: Uint8Array,
  total: number,
  thl: number,
  src: number,
  dst: number,
  ipId: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  options: Uint8Array,
): void {
  // IPv4 (RFC 791): version 4, IHL 5, DF, TTL 64 (Linux ip_default_ttl), protocol 6.
  b[0] = 0x45;
  b[1] = 0;
  b[2] = total >>> 8;
  b[3] = total & 0xff;
  b[4] = (ipId >>> 8) & 0xff;
  b[5] = ipId & 0xff;
  b[6] = 0x40;
  b[7] = 0;
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
  // Header checksum over the ten 16-bit words (the checksum word is still zero): the
  // constant words 0x4500, 0x4000 and 0x4006 (TTL 64, TCP), and the variable ones.
  const ipSum =
    0x4500 +
    total +
    (ipId & 0xffff) +
    0x4000 +
    0x4006 +
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff);
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
  b[36] = 0; // checksum, summed as zero
  b[37] = 0;
  b[38] = 0; // urgent pointer
  b[39] = 0;
  if (thl > 20) {
    b.set(options, 40);
    b.fill(0, 40 + options.length, 20 + thl); // option padding
  }
}

/** The TCP checksum: pseudo-header (src, dst, protocol, TCP length) + segment. */
function finishChecksum(b: Uint8Array, src: number, dst: number, total: number): Uint8Array {
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + total - 20;
  const csum = ~fold(onesSum(b, 20, total, pseudo)) & 0xffff;
  b[36] = csum >>> 8;
  b[37] = csum & 0xff;
  return b;
}

function sizes(optionBytes: number, payloadLen: number): number {
  const optLen = (optionBytes + 3) & ~3;
  if (optLen > 40) throw new RangeError(`TCP options too long: ${optionBytes} > 40`);
  const total = 40 + optLen + payloadLen;
  if (total > 0xffff) throw new RangeError(`IPv4 packet too long: ${total}`);
  return total;
}

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
  const total = sizes(options.length, payload.length);
  const thl = total - payload.length - 20;
  const b = packetBytes(total);
  headers(b, total, thl, src, dst, ipId, sport, dport, seq, ack, flags, window, options);
  if (payload.length > 0) b.set(payload, 20 + thl);
  return finishChecksum(b, src, dst, total);
}

/** tcpPacket() whose payload is `len` bytes of a send queue from `offset`, copied once. */
export function tcpPacketFromQueue(
  src: number,
  dst: number,
  ipId: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  queue: ByteQueue,
  offset: number,
  len: number,
): Uint8Array {
  len = Math.max(0, Math.min(len, queue.length - offset)); // as ByteQueue.peek clamps
  const total = sizes(0, len);
  const b = packetBytes(total);
  headers(b, total, 20, src, dst, ipId, sport, dport, seq, ack, flags, window, NO_OPTIONS);
  if (len > 0) queue.copyTo(b, 40, offset, len);
  return finishChecksum(b, src, dst, total);
}
