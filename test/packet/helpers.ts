// Shared test helpers: hex <-> bytes, an independent reference checksum, and the
// captured fixtures (see fixtures/capture.py: Linux 6.18 via a TUN device in a
// throw-away netns, no offloads, so every checksum was computed by the kernel).
import { rd16, wr16 } from '../../src/packet/bytes.ts';
import { Ipv4Field, Ipv4FlagBits, ipv4FillChecksum } from '../../src/packet/ipv4.ts';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Naive RFC 1071 checksum written independently of src/packet/checksum.ts. */
export function refChecksum(parts: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < parts.length; i += 2) sum += parts[i]! * 256 + (parts[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

/** Reference L4 checksum with the pseudo-header, checksum field at `csumAt` taken as zero. */
export function refL4Checksum(
  seg: Uint8Array,
  src: number,
  dst: number,
  proto: number,
  csumAt: number,
): number {
  const bytes = [...seg];
  bytes[csumAt] = 0;
  bytes[csumAt + 1] = 0;
  const pseudo = [src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255];
  pseudo.push(dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255);
  pseudo.push(0, proto, seg.length >>> 8, seg.length & 255);
  // Pad the segment to even length before appending, so words stay aligned.
  if (bytes.length % 2) bytes.push(0);
  return refChecksum([...pseudo, ...bytes]);
}

/** Reference IPv4 header checksum (field at 10 taken as zero). */
export function refIpChecksum(pkt: Uint8Array): number {
  const hl = (pkt[0]! & 15) * 4;
  const h = [...pkt.subarray(0, hl)];
  h[10] = 0;
  h[11] = 0;
  return refChecksum(h);
}

/** Place `bytes` at `offset` inside a larger zero-filled buffer; return the buffer and the view. */
export function embed(
  bytes: Uint8Array,
  offset = 37,
  size = 200,
): { buf: Uint8Array; view: Uint8Array } {
  const buf = new Uint8Array(Math.max(size, offset + bytes.length + 16));
  buf.fill(0xee);
  buf.set(bytes, offset);
  return { buf, view: buf.subarray(offset, offset + bytes.length) };
}

/** The IPv4 header checksum field of the packet at b[off]. */
export function ipChecksum(b: Uint8Array, off = 0): number {
  return rd16(b, off + Ipv4Field.CHECKSUM);
}

/**
 * Rewrite fields of the IPv4 header at b[0] as a test needs (MF, fragment offset in bytes,
 * protocol, total length), then recompute its checksum from scratch.
 */
export function setIpv4(
  b: Uint8Array,
  f: { moreFragments?: boolean; fragmentOffset?: number; protocol?: number; totalLength?: number },
): void {
  let w = rd16(b, Ipv4Field.FLG_OFF);
  if (f.moreFragments !== undefined)
    w = f.moreFragments ? w | Ipv4FlagBits.MF : w & ~Ipv4FlagBits.MF;
  if (f.fragmentOffset !== undefined)
    w = (w & ~Ipv4FlagBits.OFFSET_MASK) | ((f.fragmentOffset >>> 3) & Ipv4FlagBits.OFFSET_MASK);
  wr16(b, Ipv4Field.FLG_OFF, w);
  if (f.protocol !== undefined) b[Ipv4Field.PROTOCOL] = f.protocol;
  if (f.totalLength !== undefined) wr16(b, Ipv4Field.LENGTH, f.totalLength);
  ipv4FillChecksum(b, 0);
}

export const FIXTURES = {
  /** curl http://10.0.0.2:8080/ — SYN with MSS 1460, SACK-permitted, TS, NOP, WS 10. */
  tcpSyn:
    '4500003c67a740004006bf120a0000010a000002' +
    '95b01f90161ead7f00000000a002faf0f9ab0000' +
    '020405b40402080a1d22a95d000000000103030a',
  /** dig @10.0.0.2 +noedns kubernetes.default.svc.cluster.local A */
  dnsQuery:
    '45000052867600004011e0220a0000010a000002' +
    '8ac10035003e38d4' +
    '659f01200001000000000000' +
    '0a6b756265726e657465730764656661756c740373766307636c7573746572056c6f63616c0000010001',
  /** UDP "options" to 10.0.0.2:9 sent with IP_OPTIONS = Record Route: IHL 15. */
  udpRecordRoute:
    '4f00004b94d84000401177960a0000010a000002' +
    '0727080a000001000000000000000000000000000000000000000000000000000000000000000000' +
    '85940009000f9fe7' +
    '6f7074696f6e73',
  /** The UDP probe we wrote into the TUN: 10.0.0.2:53000 -> 10.0.0.1:33434 "svclab-probe". */
  udpProbe:
    '45000028123440004011148f0a0000020a000001' + 'cf08829a00145f96' + '7376636c61622d70726f6265',
  /** Linux's ICMP port unreachable answering udpProbe (quotes the whole probe). */
  icmpPortUnreachable:
    '45c00044d84d000040018da90a0000010a000002' +
    '0303112500000000' +
    '45000028123440004011148f0a0000020a000001cf08829a00145f967376636c61622d70726f6265',
} as const;
