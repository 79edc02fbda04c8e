// An arriving TCP segment as the endpoint needs it: header fields plus the SYN
// options it negotiates (MSS, window scale). Built from an already classified packet.
import { TcpOptionKind } from '../../packet/index.ts';

export interface Segment {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /**
   * The packet, and where the segment text lies in it: no view is made per segment (the
   * packet goes back to the pool once read; whoever keeps text copies it, see input.ts).
   */
  bytes: Uint8Array;
  dataAt: number;
  dataLen: number;
  /** MSS option (SYN only), undefined when absent. */
  mss: number | undefined;
  /** Window scale shift (SYN only), undefined when absent. */
  wscale: number | undefined;
}

const EMPTY = new Uint8Array(0);

/** A Segment to be filled by readSegment (a host keeps one and refills it per packet). */
export function newSegment(): Segment {
  return {
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    bytes: EMPTY,
    dataAt: 0,
    dataLen: 0,
    mss: undefined,
    wscale: undefined,
  };
}

const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/**
 * Read the segment at pkt[off, off+len) (header already validated by classify) into `seg`
 * (a new Segment when not given). The text is bytes[dataAt, dataAt + dataLen).
 */
export function readSegment(
  pkt: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
  seg: Segment = newSegment(),
): Segment {
  const hl = (pkt[off + 12]! >>> 4) << 2;
  const flags = pkt[off + 13]!;
  seg.src = src;
  seg.dst = dst;
  seg.sport = u16(pkt, off);
  seg.dport = u16(pkt, off + 2);
  seg.seq = u32(pkt, off + 4);
  seg.ack = u32(pkt, off + 8);
  seg.flags = flags;
  seg.window = u16(pkt, off + 14);
  seg.bytes = pkt;
  seg.dataAt = off + hl;
  seg.dataLen = hl < len ? len - hl : 0;
  seg.mss = undefined;
  seg.wscale = undefined;
  if (flags & 0x02) readSynOptions(pkt, off + 20, off + hl, seg);
  return seg;
}

/** Linux tcp_parse_options: skip what is unknown, stop at EOL or a malformed length. */
function readSynOptions(b: Uint8Array, i: number, end: number, seg: Segment): void {
  while (i < end) {
    const kind = b[i]!;
    if (kind === TcpOptionKind.EOL) return;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) return;
    if (kind === TcpOptionKind.MSS && len === 4) seg.mss = u16(b, i + 2);
    // RFC 7323 §2.3: a shift above 14 is treated as 14.
    if (kind === TcpOptionKind.WINDOW_SCALE && len === 3) seg.wscale = Math.min(14, b[i + 2]!);
    i += len;
  }
}
