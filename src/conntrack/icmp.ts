// ICMP tracking (net/netfilter/nf_conntrack_proto_icmp.c): queries (echo, timestamp, info,
// address mask) are flows keyed by id, with type<<8|code in the destination-port slot; errors
// (unreachable, time exceeded, ...) are RELATED to the flow whose header they quote.

import { CtDir, CtStatus, CtVerdict, IPPROTO_ICMP, IcmpType } from './constants.ts';
import type { ConntrackTable } from './table.ts';

/** The key word standing in for the destination port: type << 8 | code (the kernel's dst.u.all). */
export function icmpKey(type: number, code: number): number {
  return ((type & 0xff) << 8) | (code & 0xff);
}

// invmap: request <-> reply; 0 means "no inverse" (the kernel stores type + 1).
const INVMAP = new Int16Array(19).fill(-1);
for (const [a, b] of [
  [IcmpType.ECHO, IcmpType.ECHO_REPLY],
  [IcmpType.TIMESTAMP, IcmpType.TIMESTAMP_REPLY],
  [IcmpType.INFO_REQUEST, IcmpType.INFO_REPLY],
  [IcmpType.ADDRESS, IcmpType.ADDRESS_REPLY],
] as const) {
  INVMAP[a] = b;
  INVMAP[b] = a;
}

/** The type a reply to `type` carries (8 -> 0, 0 -> 8, ...), or -1 if it has none. */
export function icmpReplyType(type: number): number {
  return type >= 0 && type < INVMAP.length ? INVMAP[type]! : -1;
}

/** valid_new in nf_conntrack_icmp_packet: only requests may start a flow. */
export function icmpCanCreate(type: number): boolean {
  return (
    type === IcmpType.ECHO ||
    type === IcmpType.TIMESTAMP ||
    type === IcmpType.INFO_REQUEST ||
    type === IcmpType.ADDRESS
  );
}

/** icmp_is_err: errors quote the header of the packet that caused them. */
export function isIcmpError(type: number): boolean {
  return (
    type === IcmpType.DEST_UNREACH ||
    type === IcmpType.SOURCE_QUENCH ||
    type === IcmpType.REDIRECT ||
    type === IcmpType.TIME_EXCEEDED ||
    type === IcmpType.PARAMETER_PROB
  );
}

/** Track one ICMP query/reply of flow `ref`; `timeoutMs` is nf_conntrack_icmp_timeout in ms. */
export function icmpPacket(
  t: ConntrackTable,
  timeoutMs: number,
  ref: number,
  now: number,
  bytes: number,
): CtVerdict {
  const e = ref >> 1;
  const origType = (t.tuplePorts(e * 2) >>> 8) & 0xff;
  if (!icmpCanCreate(origType)) {
    t.stats.invalid++;
    if ((t.status[e]! & CtStatus.CONFIRMED) === 0) t.remove(e);
    return CtVerdict.INVALID;
  }
  t.refresh(ref, now, timeoutMs, bytes);
  t.status[e] =
    t.status[e]! | CtStatus.CONFIRMED | ((ref & 1) === CtDir.REPLY ? CtStatus.SEEN_REPLY : 0);
  return CtVerdict.ACCEPT;
}

/**
 * nf_conntrack_inet_error: find the flow an ICMP error is about. Give the tuple quoted in the
 * error (src, dst, ports of the embedded header as it sits there; for a quoted ICMP query sport
 * is its id and dport icmpKey(type, code)) and the error's outer destination. The quoted
 * tuple is inverted and looked up, so the ref's direction is the direction the ERROR travels:
 * NAT its outer header with natSrc/natDst(ref) and restore the quoted header to the tuple
 * stored at node ref ^ 1 (what that packet looked like on its own side of the NAT), as
 * nf_nat_icmp_reply_translation does. Returns the ref or -1 (counted as `error`). Related
 * packets do not refresh the flow's timeout.
 */
export function lookupRelated(
  t: ConntrackTable,
  proto: number,
  qsrc: number,
  qdst: number,
  qsport: number,
  qdport: number,
  outerDst: number,
  now: number,
): number {
  let sport = qdport;
  let dport = qsport;
  if (proto === IPPROTO_ICMP) {
    const inv = icmpReplyType((qdport >>> 8) & 0xff);
    if (inv < 0) {
      t.stats.error++;
      return -1;
    }
    sport = qsport; // the id stays; the type flips
    dport = icmpKey(inv, qdport & 0xff);
  }
  const ref = t.lookup(proto, qdst, qsrc, sport, dport, now);
  // The error must be heading where that direction's packets go (else: bogus, not RELATED).
  if (ref < 0 || t.tupleDst(ref) !== outerDst >>> 0) {
    t.stats.error++;
    return -1;
  }
  return ref;
}
