// High-level ICMPv4 message representation: echo, destination unreachable,
// time exceeded, and a catch-all keeping type/code/rest-of-header verbatim.
import {
  IcmpField as F,
  IcmpReason,
  IcmpType,
  icmpFillChecksum,
  icmpValidate,
  icmpValidateWithChecksum,
} from './icmp.ts';
import type { Parsed } from './result.ts';

export type IcmpRepr =
  | { kind: 'echoRequest'; ident: number; seqNo: number; data: Uint8Array }
  | { kind: 'echoReply'; ident: number; seqNo: number; data: Uint8Array }
  /** `data` is the quoted original datagram (its IP header + leading payload bytes). */
  | { kind: 'destUnreachable'; code: number; nextHopMtu: number; data: Uint8Array }
  | { kind: 'timeExceeded'; code: number; data: Uint8Array }
  /** Any other type; `rest` is bytes 4..8 as a u32. */
  | { kind: 'other'; type: number; code: number; rest: number; data: Uint8Array };

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

export const IcmpRepr = {
  /** Parse a whole message (IP payload); with `verify` the checksum must be right. Data is copied. */
  parse(msg: Uint8Array, verify = true): Parsed<IcmpRepr, IcmpReason> {
    const reason = verify
      ? icmpValidateWithChecksum(msg, 0, msg.length)
      : icmpValidate(msg, 0, msg.length);
    if (reason !== IcmpReason.Ok) return { ok: false, reason };
    const type = msg[F.TYPE]!;
    const code = msg[F.CODE]!;
    const data = msg.slice(F.DATA);
    let value: IcmpRepr;
    if ((type === IcmpType.ECHO_REQUEST || type === IcmpType.ECHO_REPLY) && code === 0) {
      const kind = type === IcmpType.ECHO_REQUEST ? 'echoRequest' : 'echoReply';
      value = { kind, ident: u16(msg, F.ECHO_IDENT), seqNo: u16(msg, F.ECHO_SEQNO), data };
    } else if (type === IcmpType.DEST_UNREACHABLE && u16(msg, 4) === 0) {
      value = { kind: 'destUnreachable', code, nextHopMtu: u16(msg, F.NEXT_HOP_MTU), data };
    } else if (type === IcmpType.TIME_EXCEEDED && u16(msg, 4) === 0 && u16(msg, 6) === 0) {
      value = { kind: 'timeExceeded', code, data };
    } else {
      const rest = ((msg[4]! << 24) | (msg[5]! << 16) | (msg[6]! << 8) | msg[7]!) >>> 0;
      value = { kind: 'other', type, code, rest, data };
    }
    return { ok: true, value };
  },

  bufferLength(repr: IcmpRepr): number {
    return F.DATA + repr.data.length;
  },

  /** Write the message with its checksum into out[0..bufferLength). */
  emit(repr: IcmpRepr, out: Uint8Array): void {
    const len = F.DATA + repr.data.length;
    if (out.length < len) throw new RangeError(`buffer ${out.length} < ICMP message ${len}`);
    let type: number;
    let code = 0;
    let hi = 0; // bytes 4..5
    let lo = 0; // bytes 6..7
    switch (repr.kind) {
      case 'echoRequest':
      case 'echoReply':
        type = repr.kind === 'echoRequest' ? IcmpType.ECHO_REQUEST : IcmpType.ECHO_REPLY;
        hi = repr.ident;
        lo = repr.seqNo;
        break;
      case 'destUnreachable':
        type = IcmpType.DEST_UNREACHABLE;
        code = repr.code;
        lo = repr.nextHopMtu;
        break;
      case 'timeExceeded':
        type = IcmpType.TIME_EXCEEDED;
        code = repr.code;
        break;
      case 'other':
        type = repr.type;
        code = repr.code;
        hi = repr.rest >>> 16;
        lo = repr.rest & 0xffff;
        break;
    }
    out[F.TYPE] = type & 0xff;
    out[F.CODE] = code & 0xff;
    out[4] = (hi >>> 8) & 0xff;
    out[5] = hi & 0xff;
    out[6] = (lo >>> 8) & 0xff;
    out[7] = lo & 0xff;
    out.set(repr.data, F.DATA);
    icmpFillChecksum(out, 0, len);
  },
};
