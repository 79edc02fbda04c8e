// Reading classic pcap files into IPv4 packets. Never throws on bad input:
// whatever parsed cleanly is returned, plus an `error` saying where it stopped.
// Packet data are subarrays of the input (zero-copy). The IPv4 total length
// (2 bytes at offset 2) is the only field read above the link layer.

import {
  GlobalField,
  LinkType,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PCAP_RECORD_HEADER_LEN,
  RecordField,
} from './pcap.ts';
import type { PcapHeader } from './pcap.ts';

/** One IPv4 packet taken out of a record. */
export interface PcapPacket {
  /** Capture time, ns since the Unix epoch (us files give multiples of 1000). */
  tsNs: bigint;
  /**
   * Length of the IPv4 packet on the wire: orig_len minus the stripped link header
   * and FCS, or the IPv4 total length when a link layer padded the frame past it.
   */
  origLen: number;
  /** The IPv4 packet without link padding; shorter than origLen when snaplen cut it. */
  data: Uint8Array;
  /** Byte offset of the record header in the input, for messages. */
  offset: number;
}

export interface PcapReadResult {
  /** Absent only when the global header could not be read (then `error` is set). */
  header?: PcapHeader;
  packets: PcapPacket[];
  /** Records read but not returned: non-IPv4 ethertypes, IPv6, runt frames. */
  skipped: number;
  /** Why reading stopped early; absent when the whole input was consumed. */
  error?: string;
}

const PCAPNG_MAGIC = 0x0a0d0d0a;
const ETHERTYPE_IPV4 = 0x0800;
const SUPPORTED = [
  LinkType.ETHERNET,
  LinkType.RAW,
  LinkType.LINUX_SLL,
  LinkType.IPV4,
  LinkType.LINUX_SLL2,
];

const hex32 = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

/** Parse the 24-byte global header, or say why not. */
export function readPcapHeader(bytes: Uint8Array): PcapHeader | string {
  if (bytes.length < PCAP_GLOBAL_HEADER_LEN) {
    return `truncated global header: ${bytes.length} of ${PCAP_GLOBAL_HEADER_LEN} bytes`;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(GlobalField.MAGIC, true);
  const be = v.getUint32(GlobalField.MAGIC, false);
  let littleEndian: boolean;
  let magic: number;
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
    littleEndian = true;
    magic = le;
  } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
    littleEndian = false;
    magic = be;
  } else if (be === PCAPNG_MAGIC) {
    return `pcapng file (magic ${hex32(be)}); svclab reads classic pcap: convert with 'editcap -F pcap IN OUT'`;
  } else {
    return `bad magic ${hex32(be)} at offset 0: not a pcap file`;
  }
  const versionMajor = v.getUint16(GlobalField.VERSION_MAJOR, littleEndian);
  const versionMinor = v.getUint16(GlobalField.VERSION_MINOR, littleEndian);
  if (versionMajor !== 2) return `unsupported pcap version ${versionMajor}.${versionMinor}`;
  const rawLink = v.getUint32(GlobalField.LINKTYPE, littleEndian);
  // draft-ietf-opsawg-pcap: bit 26 says bits 28..31 hold the FCS length in 16-bit words.
  const fcsLen = rawLink & 0x04000000 ? ((rawLink >>> 28) & 0xf) * 2 : 0;
  return {
    magic,
    littleEndian,
    resolution: magic === PCAP_MAGIC_NS ? 'ns' : 'us',
    versionMajor,
    versionMinor,
    thiszone: v.getInt32(GlobalField.THISZONE, littleEndian),
    sigfigs: v.getUint32(GlobalField.SIGFIGS, littleEndian),
    snaplen: v.getUint32(GlobalField.SNAPLEN, littleEndian),
    linkType: rawLink & 0xffff,
    fcsLen,
  };
}

/**
 * Read a classic pcap file (either byte order, us or ns) and return its IPv4
 * packets. Link headers (Ethernet with 802.1Q/802.1ad tags, Linux cooked v1/v2)
 * are stripped; records that do not carry IPv4 are counted in `skipped`.
 */
export function readPcap(bytes: Uint8Array): PcapReadResult {
  const packets: PcapPacket[] = [];
  const header = readPcapHeader(bytes);
  if (typeof header === 'string') return { packets, skipped: 0, error: header };
  if (!(SUPPORTED as readonly number[]).includes(header.linkType)) {
    return {
      header,
      packets,
      skipped: 0,
      error: `unsupported link type ${header.linkType} (svclab reads ${SUPPORTED.join(', ')})`,
    };
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = header.littleEndian;
  const fracNs = header.resolution === 'ns' ? 1n : 1000n;
  let skipped = 0;
  let off = PCAP_GLOBAL_HEADER_LEN;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < PCAP_RECORD_HEADER_LEN) {
      const error = `truncated record header at offset ${off}: ${left} of ${PCAP_RECORD_HEADER_LEN} bytes`;
      return { header, packets, skipped, error };
    }
    const incl = v.getUint32(off + RecordField.INCL_LEN, le);
    const orig = v.getUint32(off + RecordField.ORIG_LEN, le);
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (incl > bytes.length - start) {
      const error = `truncated record data at offset ${off}: record claims ${incl} bytes, ${bytes.length - start} left`;
      return { header, packets, skipped, error };
    }
    let frame = bytes.subarray(start, start + incl);
    let fcs = 0;
    if (header.fcsLen > 0 && incl === orig && incl >= header.fcsLen) {
      fcs = header.fcsLen;
      frame = frame.subarray(0, incl - fcs);
    }
    const l3 = ipv4Start(frame, header.linkType);
    if (l3 < 0) {
      skipped++;
    } else {
      const sec = BigInt(v.getUint32(off + RecordField.TS_SEC, le));
      const frac = BigInt(v.getUint32(off + RecordField.TS_FRAC, le));
      let data = frame.subarray(l3);
      let wire = Math.max(data.length, orig - l3 - fcs);
      // Ethernet pads frames to 60 bytes: after a link header, trust a sane IPv4
      // total length over the frame's. Raw IP records come back verbatim.
      const totalLen = u16(data, 2);
      if (l3 > 0 && data.length >= 4 && totalLen >= 20 && totalLen < wire) {
        wire = totalLen;
        if (data.length > totalLen) data = data.subarray(0, totalLen);
      }
      packets.push({
        tsNs: sec * 1_000_000_000n + frac * fracNs,
        origLen: wire,
        data,
        offset: off,
      });
    }
    off = start + incl;
  }
  return { header, packets, skipped };
}

const u16 = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);

/** Offset of the IPv4 header inside a link-layer frame, or -1 if it carries none. */
function ipv4Start(frame: Uint8Array, linkType: number): number {
  switch (linkType) {
    case LinkType.RAW:
      // Raw IP may be IPv4 or IPv6: look at the version nibble.
      return frame.length > 0 && (frame[0] ?? 0) >> 4 === 4 ? 0 : -1;
    case LinkType.IPV4:
      return frame.length > 0 ? 0 : -1;
    case LinkType.ETHERNET:
      return frame.length < 14 ? -1 : afterVlanTags(frame, u16(frame, 12), 14);
    case LinkType.LINUX_SLL:
      // packet type, ARPHRD, addr len, 8-byte addr, then the ethertype at 14.
      return frame.length < 16 ? -1 : afterVlanTags(frame, u16(frame, 14), 16);
    case LinkType.LINUX_SLL2:
      // SLL2 puts the ethertype first, then ifindex, ARPHRD, type, addr len, addr.
      return frame.length < 20 ? -1 : afterVlanTags(frame, u16(frame, 0), 20);
    default:
      return -1;
  }
}

/** Skip 802.1Q / 802.1ad / legacy QinQ tags; return where IPv4 starts, or -1. */
function afterVlanTags(frame: Uint8Array, ethertype: number, at: number): number {
  let type = ethertype;
  let p = at;
  while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && p + 4 <= frame.length) {
    type = u16(frame, p + 2);
    p += 4;
  }
  return type === ETHERTYPE_IPV4 && p < frame.length ? p : -1;
}
