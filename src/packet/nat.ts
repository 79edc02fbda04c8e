// In-place NAT of IPv4 packets: the per-packet hot path of DNAT, SNAT/masquerade
// and reverse NAT. Checksums are updated incrementally (RFC 1624 eqn. 3), never
// recomputed: the IP header checksum for the address, the TCP/UDP checksum for
// address (pseudo-header) + port. UDP checksum 0 ("none", RFC 768) stays 0.
//
// Callers pass a packet already accepted by ipv4Validate + the L4 check. Nothing
// here allocates or throws; results are small integers. Plain byte arithmetic:
// see bytes.ts for why not DataView.

/** Pass as address or port to leave that field unchanged. */
export const KEEP = -1;

export const NatResult = {
  Ok: 0,
  /** Non-first fragment: the IP header was rewritten, the L4 header is not in this packet. */
  L4Absent: 1,
  /** A port was requested for a protocol without ports; nothing was changed. */
  NoPorts: 2,
  /** ICMP echo id rewrite asked of a packet that is not an ICMP echo; nothing changed. */
  NotEcho: 3,
  /** ICMP error rewrite: not an ICMP error, or no quoted IPv4 header + 8 bytes; nothing changed. */
  NoQuote: 4,
} as const;
export type NatResult = (typeof NatResult)[keyof typeof NatResult];

const SRC_ADDR = 12;
const DST_ADDR = 16;

/** ~HC + delta, folded, complemented (RFC 1624 eqn. 3), stored big-endian at b[i]. */
function applyAt(b: Uint8Array, i: number, delta: number): void {
  let s = (~((b[i]! << 8) | b[i + 1]!) & 0xffff) + delta;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  b[i] = s >>> 8;
  b[i + 1] = s & 0xff;
}

/** Same for a UDP checksum: 0 stays 0, a 0 result is stored as 0xffff. */
function applyAtUdp(b: Uint8Array, i: number, delta: number): void {
  const hc = (b[i]! << 8) | b[i + 1]!;
  if (hc === 0) return;
  let s = (~hc & 0xffff) + delta;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  if (s === 0) s = 0xffff;
  b[i] = s >>> 8;
  b[i + 1] = s & 0xff;
}

/** Write a u32 at b[i] and return the checksum delta of the change. */
function swapAddr(b: Uint8Array, i: number, addr: number): number {
  const oh = (b[i]! << 8) | b[i + 1]!;
  const ol = (b[i + 2]! << 8) | b[i + 3]!;
  const nh = (addr >>> 16) & 0xffff;
  const nl = addr & 0xffff;
  b[i] = nh >>> 8;
  b[i + 1] = nh & 0xff;
  b[i + 2] = nl >>> 8;
  b[i + 3] = nl & 0xff;
  return (~oh & 0xffff) + (~ol & 0xffff) + nh + nl;
}

/** Write a u16 at b[i] and return the checksum delta of the change. */
function swapPort(b: Uint8Array, i: number, port: number): number {
  const o = (b[i]! << 8) | b[i + 1]!;
  b[i] = (port >>> 8) & 0xff;
  b[i + 1] = port & 0xff;
  return (~o & 0xffff) + (port & 0xffff);
}

function rewrite(
  b: Uint8Array,
  off: number,
  addrAt: number,
  portAt: number,
  addr: number,
  port: number,
): NatResult {
  const proto = b[off + 9]!;
  const hasPorts = proto === 6 || proto === 17;
  if (port >= 0 && !hasPorts) return NatResult.NoPorts;
  let delta = 0;
  if (addr >= 0) {
    delta = swapAddr(b, off + addrAt, addr);
    applyAt(b, off + 10, delta);
  }
  // Only a first fragment (offset 0) carries the L4 header; its checksum covers the
  // whole datagram but an incremental update needs only the changed words.
  if ((((b[off + 6]! & 0x1f) << 8) | b[off + 7]!) !== 0) {
    return hasPorts || port >= 0 ? NatResult.L4Absent : NatResult.Ok;
  }
  if (!hasPorts) return NatResult.Ok; // ICMP: no pseudo-header
  const l4 = off + ((b[off]! & 0x0f) << 2);
  if (port >= 0) delta += swapPort(b, l4 + portAt, port);
  if (proto === 6) applyAt(b, l4 + 16, delta);
  else applyAtUdp(b, l4 + 6, delta);
  return NatResult.Ok;
}

/**
 * SNAT / masquerade: set source address and/or port (KEEP = unchanged) of the
 * IPv4 packet at b[off], fixing both checksums.
 */
export function natRewriteSrc(b: Uint8Array, off: number, addr: number, port: number): NatResult {
  return rewrite(b, off, SRC_ADDR, 0, addr, port);
}

/** DNAT: set destination address and/or port (KEEP = unchanged), fixing both checksums. */
export function natRewriteDst(b: Uint8Array, off: number, addr: number, port: number): NatResult {
  return rewrite(b, off, DST_ADDR, 2, addr, port);
}

/** Rewrite the identifier of an ICMP echo request/reply (the "port" of ICMP conntrack). */
export function natRewriteIcmpEchoId(b: Uint8Array, off: number, ident: number): NatResult {
  const l4 = off + ((b[off]! & 0x0f) << 2);
  const t = b[l4]!;
  if (b[off + 9] !== 1 || (t !== 0 && t !== 8)) return NatResult.NotEcho;
  applyAt(b, l4 + 2, swapPort(b, l4 + 4, ident));
  return NatResult.Ok;
}

/**
 * Rewrite the packet quoted inside an ICMP error (Linux nf_nat_icmp_reply_translation):
 * its source (`inner` = 'src') or destination address/port, fixing the quoted IP
 * header checksum, the quoted UDP/TCP checksum when it lies within the quote, and
 * the outer ICMP checksum. The outer IP header is left to natRewriteSrc/Dst.
 * `len` is the outer packet's length (Total Length) so the quote is bounds-checked.
 */
export function natRewriteIcmpInner(
  b: Uint8Array,
  off: number,
  len: number,
  inner: 'src' | 'dst',
  addr: number,
  port: number,
): NatResult {
  const end = Math.min(off + len, b.length);
  if (!(off >= 0 && off + 20 <= end)) return NatResult.NoQuote;
  const icmp = off + ((b[off]! & 0x0f) << 2);
  const q = icmp + 8; // quoted IPv4 header
  if (b[off + 9] !== 1 || q + 20 > end) return NatResult.NoQuote;
  const type = b[icmp]!;
  if (type !== 3 && type !== 4 && type !== 5 && type !== 11 && type !== 12)
    return NatResult.NoQuote;
  const qhl = (b[q]! & 0x0f) << 2;
  if (b[q]! >>> 4 !== 4 || qhl < 20 || q + qhl + 8 > end) return NatResult.NoQuote;
  const proto = b[q + 9]!;
  const hasPorts = proto === 6 || proto === 17;
  if (port >= 0 && !hasPorts) return NatResult.NoPorts;
  const l4 = q + qhl;
  let outer = 0; // delta of every changed word of the ICMP message
  let pseudo = 0;
  if (addr >= 0) {
    pseudo = swapAddr(b, q + (inner === 'src' ? SRC_ADDR : DST_ADDR), addr);
    const oldCs = (b[q + 10]! << 8) | b[q + 11]!;
    applyAt(b, q + 10, pseudo);
    outer = pseudo + ((~oldCs & 0xffff) + ((b[q + 10]! << 8) | b[q + 11]!));
  }
  if (hasPorts && (((b[q + 6]! & 0x1f) << 8) | b[q + 7]!) === 0) {
    let l4delta = pseudo;
    if (port >= 0) {
      const d = swapPort(b, l4 + (inner === 'src' ? 0 : 2), port);
      l4delta += d;
      outer += d;
    }
    // TCP's checksum (offset 16) is only present if the quote reaches it (Linux
    // tcp_manip_pkt: 8 bytes guaranteed); UDP's (offset 6) always is.
    const csAt = proto === 6 ? l4 + 16 : l4 + 6;
    if (csAt + 2 <= end) {
      const oldCs = (b[csAt]! << 8) | b[csAt + 1]!;
      if (proto === 6) applyAt(b, csAt, l4delta);
      else applyAtUdp(b, csAt, l4delta);
      outer += (~oldCs & 0xffff) + ((b[csAt]! << 8) | b[csAt + 1]!);
    }
  }
  applyAt(b, icmp + 2, outer);
  return NatResult.Ok;
}
