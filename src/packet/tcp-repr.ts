// High-level TCP segment representation (smoltcp's `TcpRepr`): build, test, log.
import { l4Checksum, l4ChecksumValid } from './checksum.ts';
import { TcpField as F, TcpReason, tcpValidate } from './tcp.ts';
import type { Parsed } from './result.ts';

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The flags byte (TcpFlags bits). */
  flags: number;
  window: number;
  urgent: number;
  /** Raw option bytes, kept verbatim; padded to a multiple of 4 with EOL on emit. */
  options: Uint8Array;
  payload: Uint8Array;
}

function headerLength(repr: TcpRepr): number {
  return 20 + ((repr.options.length + 3) & ~3);
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export const TcpRepr = {
  /**
   * Parse a whole segment (IP payload). With `verify`, the checksum must be right
   * for the pseudo-header src -> dst. Options and payload are copied.
   */
  parse(seg: Uint8Array, src: number, dst: number, verify = true): Parsed<TcpRepr, TcpReason> {
    const reason = tcpValidate(seg, 0, seg.length);
    if (reason !== TcpReason.Ok) return { ok: false, reason };
    if (verify && !l4ChecksumValid(seg, 0, seg.length, src, dst, 6)) {
      return { ok: false, reason: TcpReason.BadChecksum };
    }
    const hl = (seg[F.DATA_OFF]! >>> 4) << 2;
    return {
      ok: true,
      value: {
        srcPort: u16(seg, F.SRC_PORT),
        dstPort: u16(seg, F.DST_PORT),
        seq: u32(seg, F.SEQ_NUM),
        ack: u32(seg, F.ACK_NUM),
        flags: seg[F.FLAGS]!,
        window: u16(seg, F.WINDOW),
        urgent: u16(seg, F.URGENT),
        options: seg.slice(F.OPTIONS, hl),
        payload: seg.slice(hl),
      },
    };
  },

  headerLength,

  bufferLength(repr: TcpRepr): number {
    return headerLength(repr) + repr.payload.length;
  },

  /** Write header, options, payload and checksum (pseudo-header src -> dst) into out[0..len). */
  emit(repr: TcpRepr, out: Uint8Array, src: number, dst: number): void {
    const hl = headerLength(repr);
    const len = hl + repr.payload.length;
    if (hl > 60) throw new RangeError(`TCP options too long: ${repr.options.length} > 40`);
    if (out.length < len) throw new RangeError(`buffer ${out.length} < TCP segment ${len}`);
    const put16 = (i: number, v: number) => ((out[i] = (v >>> 8) & 0xff), (out[i + 1] = v & 0xff));
    const put32 = (i: number, v: number) => (put16(i, v >>> 16), put16(i + 2, v & 0xffff));
    put16(F.SRC_PORT, repr.srcPort);
    put16(F.DST_PORT, repr.dstPort);
    put32(F.SEQ_NUM, repr.seq >>> 0);
    put32(F.ACK_NUM, repr.ack >>> 0);
    out[F.DATA_OFF] = (hl >>> 2) << 4;
    out[F.FLAGS] = repr.flags & 0xff;
    put16(F.WINDOW, repr.window);
    put16(F.CHECKSUM, 0);
    put16(F.URGENT, repr.urgent);
    out.set(repr.options, F.OPTIONS);
    out.fill(0, F.OPTIONS + repr.options.length, hl);
    out.set(repr.payload, hl);
    put16(F.CHECKSUM, l4Checksum(out, 0, len, src, dst, 6, F.CHECKSUM));
  },
};
