// High-level IPv4 header representation (smoltcp's `Ipv4Repr`): for building,
// tests and logging, never per packet on the forwarding path.
import {
  Ipv4Field as F,
  Ipv4FlagBits,
  Ipv4Reason,
  ipv4FillChecksum,
  ipv4Validate,
} from './ipv4.ts';
import type { Parsed } from './result.ts';

export interface Ipv4Repr {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** Identification field. */
  ident: number;
  dscp: number;
  ecn: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragmentOffset: number;
  /** Raw option bytes (IHL > 5), kept verbatim; length padded to 4 on emit. */
  options: Uint8Array;
  /** Bytes after the header. */
  payloadLength: number;
}

function headerLength(repr: Ipv4Repr): number {
  return 20 + ((repr.options.length + 3) & ~3);
}

export const Ipv4Repr = {
  /** Parse and validate the header of an IPv4 packet held in `bytes`. Options are copied. */
  parse(bytes: Uint8Array): Parsed<Ipv4Repr, Ipv4Reason> {
    const reason = ipv4Validate(bytes, 0, bytes.length);
    if (reason !== Ipv4Reason.Ok) return { ok: false, reason };
    const hl = (bytes[0]! & 0x0f) << 2;
    const flg = (bytes[F.FLG_OFF]! << 8) | bytes[F.FLG_OFF + 1]!;
    const u32 = (i: number) =>
      ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    return {
      ok: true,
      value: {
        src: u32(F.SRC_ADDR),
        dst: u32(F.DST_ADDR),
        protocol: bytes[F.PROTOCOL]!,
        ttl: bytes[F.TTL]!,
        ident: (bytes[F.IDENT]! << 8) | bytes[F.IDENT + 1]!,
        dscp: bytes[F.DSCP_ECN]! >>> 2,
        ecn: bytes[F.DSCP_ECN]! & 0x03,
        dontFragment: (flg & Ipv4FlagBits.DF) !== 0,
        moreFragments: (flg & Ipv4FlagBits.MF) !== 0,
        fragmentOffset: (flg & Ipv4FlagBits.OFFSET_MASK) << 3,
        options: bytes.slice(F.OPTIONS, hl),
        payloadLength: ((bytes[F.LENGTH]! << 8) | bytes[F.LENGTH + 1]!) - hl,
      },
    };
  },

  /** Header length + payload length. */
  bufferLength(repr: Ipv4Repr): number {
    return headerLength(repr) + repr.payloadLength;
  },

  headerLength,

  /** Write the header (with checksum) at out[0..headerLength). The payload is the caller's. */
  emit(repr: Ipv4Repr, out: Uint8Array): void {
    const hl = headerLength(repr);
    if (hl > 60) throw new RangeError(`IPv4 options too long: ${repr.options.length} > 40`);
    if (out.length < hl) throw new RangeError(`buffer ${out.length} < IPv4 header ${hl}`);
    const total = hl + repr.payloadLength;
    out[F.VER_IHL] = 0x40 | (hl >>> 2);
    out[F.DSCP_ECN] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 0x03);
    out[F.LENGTH] = total >>> 8;
    out[F.LENGTH + 1] = total & 0xff;
    out[F.IDENT] = (repr.ident >>> 8) & 0xff;
    out[F.IDENT + 1] = repr.ident & 0xff;
    const flg =
      (repr.dontFragment ? Ipv4FlagBits.DF : 0) |
      (repr.moreFragments ? Ipv4FlagBits.MF : 0) |
      ((repr.fragmentOffset >>> 3) & Ipv4FlagBits.OFFSET_MASK);
    out[F.FLG_OFF] = flg >>> 8;
    out[F.FLG_OFF + 1] = flg & 0xff;
    out[F.TTL] = repr.ttl & 0xff;
    out[F.PROTOCOL] = repr.protocol & 0xff;
    out[F.CHECKSUM] = 0;
    out[F.CHECKSUM + 1] = 0;
    for (let k = 0; k < 4; k++) {
      out[F.SRC_ADDR + k] = (repr.src >>> (24 - 8 * k)) & 0xff;
      out[F.DST_ADDR + k] = (repr.dst >>> (24 - 8 * k)) & 0xff;
    }
    out.set(repr.options, F.OPTIONS);
    out.fill(0, F.OPTIONS + repr.options.length, hl); // pad with End of Option List
    ipv4FillChecksum(out, 0);
  },
};
