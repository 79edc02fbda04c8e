// UDP tracking: nf_conntrack_udp_packet() from net/netfilter/nf_conntrack_proto_udp.c (Linux 6.1).
// UDP has no states, only status bits: [UNREPLIED] until a reply goes through, then ASSURED
// with the stream timeout once the flow is still talking 2 s after it started.

import { CtDir, CtStatus, CtVerdict } from './constants.ts';
import type { ConntrackTable } from './table.ts';

/** How long a replied flow must live before it counts as a stream (the kernel's 2 * HZ). */
export const UDP_STREAM_AFTER_MS = 2000;

/**
 * Track one UDP datagram of flow `ref`. `udpMs` / `streamMs` are nf_conntrack_udp_timeout and
 * nf_conntrack_udp_timeout_stream in ms; `bytes` is the IP packet length.
 */
export function udpPacket(
  t: ConntrackTable,
  udpMs: number,
  streamMs: number,
  ref: number,
  now: number,
  bytes: number,
): CtVerdict {
  const e = ref >> 1;
  const status = t.status[e]!;
  // SEEN_REPLY is set after this packet (by the core), so the first reply itself still gets
  // the short timeout; the packet after it decides stream or not.
  if (status & CtStatus.SEEN_REPLY) {
    let timeout = udpMs;
    let stream = false;
    if (now > t.created[e]! + UDP_STREAM_AFTER_MS) {
      timeout = streamMs;
      stream = (status & CtStatus.ASSURED) === 0;
    }
    t.refresh(ref, now, timeout, bytes);
    if (stream) t.status[e] = t.status[e]! | CtStatus.ASSURED;
  } else {
    t.refresh(ref, now, udpMs, bytes);
  }
  t.status[e] =
    t.status[e]! | CtStatus.CONFIRMED | ((ref & 1) === CtDir.REPLY ? CtStatus.SEEN_REPLY : 0);
  return CtVerdict.ACCEPT;
}
