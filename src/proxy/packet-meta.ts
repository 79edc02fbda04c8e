// What a proxy mode reads of a packet: numbers only (addresses are u32), filled by the
// dataplane from the parsed headers, conntrack and routing. Every mode's classify()
// takes one; none of them sees the bytes.

/** addrtype bits of PacketMeta.addrFlags, computed by the caller's local-address test. */
export const ADDR_SRC_LOCAL = 1;
export const ADDR_DST_LOCAL = 2;

export interface PacketMeta {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** skb->mark on entry. */
  mark: number;
  /** CtState bits. */
  ctstate: number;
  /** ADDR_SRC_LOCAL | ADDR_DST_LOCAL. */
  addrFlags: number;
  /** Bytes, for the byte counters. */
  len: number;
  /** TCP flags of the packet (0 for other protocols); ipvs scheduling needs the SYN. */
  tcpFlags: number;
  inIface: string;
  outIface: string;
}

export function newPacketMeta(init: Partial<PacketMeta> = {}): PacketMeta {
  return {
    proto: 6,
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    mark: 0,
    ctstate: 0,
    addrFlags: 0,
    len: 0,
    tcpFlags: 0,
    inIface: '',
    outIface: '',
    ...init,
  };
}

/** Copy every field of `from` into `to` (a mode's scratch meta after DNAT); returns `to`. */
export function copyPacketMeta(to: PacketMeta, from: PacketMeta): PacketMeta {
  to.proto = from.proto;
  to.src = from.src;
  to.dst = from.dst;
  to.sport = from.sport;
  to.dport = from.dport;
  to.mark = from.mark;
  to.ctstate = from.ctstate;
  to.addrFlags = from.addrFlags;
  to.len = from.len;
  to.tcpFlags = from.tcpFlags;
  to.inIface = from.inIface;
  to.outIface = from.outIface;
  return to;
}
