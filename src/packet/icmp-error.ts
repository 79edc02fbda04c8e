// Building ICMP error replies to an offending packet, the way Linux icmp_send()
// does (RFC 1812 §4.3.2): who may get one, how much is quoted, the reply's TOS.
import { buildIcmp } from './build.ts';
import type { Addr } from './build.ts';
import { DestUnreachableCode, IcmpType, TimeExceededCode, icmpIsError } from './icmp.ts';
import {
  IpProto,
  Ipv4Reason,
  ipv4Dst,
  ipv4FragOffset,
  ipv4HeaderLen,
  ipv4Src,
  ipv4TotalLen,
  ipv4Validate,
} from './ipv4.ts';

/** RFC 1812 §4.3.2.3 / Linux: the whole error datagram stays within 576 bytes. */
export const ICMP_ERROR_MAX_LEN = 576;

function isMulticastOrBroadcast(a: number): boolean {
  return a >>> 28 === 0xe || a === 0xffffffff;
}

/**
 * May an ICMP error be sent about this packet? (RFC 1812 §4.3.2.7, Linux __icmp_send):
 * not about an ICMP error (or an unknown ICMP type > 18), a non-first fragment,
 * a multicast/broadcast destination, or a source that does not name one host.
 */
export function mayReplyWithIcmpError(pkt: Uint8Array): boolean {
  if (ipv4Validate(pkt, 0, pkt.length) !== Ipv4Reason.Ok) return false;
  if (ipv4FragOffset(pkt, 0) !== 0) return false;
  if (isMulticastOrBroadcast(ipv4Dst(pkt, 0))) return false;
  const src = ipv4Src(pkt, 0);
  if (src === 0 || isMulticastOrBroadcast(src) || src >>> 24 === 127) return false;
  if (pkt[9] === IpProto.ICMP) {
    const hl = ipv4HeaderLen(pkt, 0);
    if (ipv4TotalLen(pkt, 0) <= hl) return false;
    const t = pkt[hl]!;
    if (t > 18 || icmpIsError(t)) return false;
  }
  return true;
}

export interface IcmpErrorOptions {
  /** Address of the replying router/node: the error's source. */
  src: Addr;
  /**
   * How much of the offending datagram to quote: 'linux' (default) quotes as much as
   * fits in 576 bytes (RFC 1812 §4.3.2.3); 'rfc792' quotes its IP header + 8 bytes.
   */
  quote?: 'linux' | 'rfc792';
  /** IPv4 Identification of the reply; default 0. */
  id?: number;
  /** Default 64. */
  ttl?: number;
}

/** Quoted part of the offending packet: its bytes up to Total Length, cut per `quote`. */
function quoted(pkt: Uint8Array, quote: 'linux' | 'rfc792'): Uint8Array {
  const total = Math.min(ipv4TotalLen(pkt, 0), pkt.length);
  const limit = quote === 'rfc792' ? ipv4HeaderLen(pkt, 0) + 8 : ICMP_ERROR_MAX_LEN - 20 - 8;
  return pkt.slice(0, Math.min(total, limit));
}

/**
 * Build an ICMP error (any type/code) about `pkt`, addressed to pkt's source.
 * Like Linux: TOS = (original TOS & 0x1e) | 0xc0 (precedence "internetwork control"),
 * DF clear, TTL 64. IP options of the original are not echoed.
 */
export function buildIcmpError(
  pkt: Uint8Array,
  type: number,
  code: number,
  opts: IcmpErrorOptions,
  rest = 0,
): Uint8Array {
  const tos = (pkt[1]! & 0x1e) | 0xc0;
  const data = quoted(pkt, opts.quote ?? 'linux');
  return buildIcmp({
    src: opts.src,
    dst: ipv4Src(pkt, 0),
    ttl: opts.ttl ?? 64,
    id: opts.id ?? 0,
    dscp: tos >>> 2,
    ecn: tos & 3,
    df: false,
    message:
      type === IcmpType.DEST_UNREACHABLE
        ? { kind: 'destUnreachable', code, nextHopMtu: rest & 0xffff, data }
        : type === IcmpType.TIME_EXCEEDED && rest === 0
          ? { kind: 'timeExceeded', code, data }
          : { kind: 'other', type, code, rest, data },
  });
}

/** Destination Unreachable / Port Unreachable (what kube-proxy's REJECT rules send). */
export function buildPortUnreachable(pkt: Uint8Array, opts: IcmpErrorOptions): Uint8Array {
  return buildIcmpError(pkt, IcmpType.DEST_UNREACHABLE, DestUnreachableCode.PORT, opts);
}

/** Time Exceeded / TTL exceeded in transit (RFC 1812 §5.3.1), source = the router. */
export function buildTimeExceeded(pkt: Uint8Array, opts: IcmpErrorOptions): Uint8Array {
  return buildIcmpError(pkt, IcmpType.TIME_EXCEEDED, TimeExceededCode.TTL, opts);
}
