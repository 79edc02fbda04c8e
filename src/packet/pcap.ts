// Classic pcap (libpcap) files: the global header, record headers and an
// in-memory writer. Reading lives in pcap-read.ts, file/stream output in
// pcap-file.ts. Format: https://wiki.wireshark.org/Development/LibpcapFileFormat
// and draft-ietf-opsawg-pcap.
//
// Global header (24 bytes)             Record header (16 bytes)
//  0  magic_number   u32                0  ts_sec    u32
//  4  version_major  u16 (2)            4  ts_frac   u32  (us or ns, per magic)
//  6  version_minor  u16 (4)            8  incl_len  u32  (bytes stored)
//  8  thiszone       i32 (0)           12  orig_len  u32  (bytes on the wire)
// 12  sigfigs        u32 (0)
// 16  snaplen        u32
// 20  linktype       u32  (low 16 bits; bits 26..31 carry FCS info)
//
// Timestamps are nanoseconds since the Unix epoch as `bigint`: a u64 ns clock
// does not fit a double past 2^53 ns (~104 days), so `number` would lose ns.

/** Byte offsets inside the 24-byte global header. */
export const GlobalField = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  VERSION_MINOR: 6,
  THISZONE: 8,
  SIGFIGS: 12,
  SNAPLEN: 16,
  LINKTYPE: 20,
} as const;

/** Byte offsets inside the 16-byte record header. */
export const RecordField = {
  TS_SEC: 0,
  TS_FRAC: 4,
  INCL_LEN: 8,
  ORIG_LEN: 12,
} as const;

export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** Magic for microsecond timestamps, as read in the writer's byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Magic for nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** tcpdump's default snapshot length. */
export const PCAP_DEFAULT_SNAPLEN = 262144;

/** Link-layer header types (https://www.tcpdump.org/linktypes.html) svclab knows. */
export const LinkType = {
  ETHERNET: 1,
  /** Raw IP: each packet starts with an IPv4 or IPv6 header. What svclab writes. */
  RAW: 101,
  /** Linux "cooked" capture v1, 16-byte header (`tcpdump -i any`). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Linux cooked capture v2, 20-byte header (`tcpdump -i any` on libpcap >= 1.10). */
  LINUX_SLL2: 276,
} as const;

export type PcapResolution = 'us' | 'ns';

export interface PcapWriteOptions {
  /** Timestamp resolution in the file; default 'us' (readable by every pcap tool). */
  resolution?: PcapResolution;
  /** Longer packets are truncated to this many bytes (orig_len keeps the full length). */
  snaplen?: number;
  /** Link type written into the header; default LinkType.RAW. */
  linkType?: number;
}

/** A parsed global header. */
export interface PcapHeader {
  magic: number;
  /** True when the file's multi-byte fields are little-endian. */
  littleEndian: boolean;
  resolution: PcapResolution;
  versionMajor: number;
  versionMinor: number;
  thiszone: number;
  sigfigs: number;
  snaplen: number;
  /** Link type (low 16 bits of the field). */
  linkType: number;
  /** FCS bytes at the end of each frame (from the field's F bit and FCS length), usually 0. */
  fcsLen: number;
}

interface ResolvedOptions {
  resolution: PcapResolution;
  snaplen: number;
  linkType: number;
}

const NS_PER_SEC = 1_000_000_000n;
const MAX_TS_NS = 0x1_0000_0000n * NS_PER_SEC - 1n;

function resolve(opts: PcapWriteOptions): ResolvedOptions {
  const resolution = opts.resolution ?? 'us';
  const snaplen = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  const linkType = opts.linkType ?? LinkType.RAW;
  if (resolution !== 'us' && resolution !== 'ns') {
    throw new RangeError(`pcap: resolution must be 'us' or 'ns', got ${String(resolution)}`);
  }
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
    throw new RangeError(`pcap: snaplen must be an integer in 1..2^31-1, got ${snaplen}`);
  }
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new RangeError(`pcap: linkType must be an integer in 0..65535, got ${linkType}`);
  }
  return { resolution, snaplen, linkType };
}

/** Encode a 24-byte little-endian global header. Throws RangeError on bad options. */
export function encodePcapGlobalHeader(opts: PcapWriteOptions = {}): Uint8Array {
  const o = resolve(opts);
  const out = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  writeGlobalHeader(new DataView(out.buffer), o);
  return out;
}

function writeGlobalHeader(v: DataView, o: ResolvedOptions): void {
  v.setUint32(GlobalField.MAGIC, o.resolution === 'ns' ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
  v.setUint16(GlobalField.VERSION_MAJOR, 2, true);
  v.setUint16(GlobalField.VERSION_MINOR, 4, true);
  v.setInt32(GlobalField.THISZONE, 0, true);
  v.setUint32(GlobalField.SIGFIGS, 0, true);
  v.setUint32(GlobalField.SNAPLEN, o.snaplen, true);
  v.setUint32(GlobalField.LINKTYPE, o.linkType, true);
}

/**
 * Write a little-endian record header at `offset` of `v`. Timestamps below the
 * file's resolution are truncated (floor), as libpcap does. Throws RangeError
 * when `tsNs` is negative or past 2106 (ts_sec is a u32).
 */
export function writePcapRecordHeader(
  v: DataView,
  offset: number,
  tsNs: bigint,
  inclLen: number,
  origLen: number,
  resolution: PcapResolution,
): void {
  if (tsNs < 0n || tsNs > MAX_TS_NS) {
    throw new RangeError(`pcap: timestamp ${tsNs} ns is outside 0..2^32 s`);
  }
  const sec = tsNs / NS_PER_SEC;
  const ns = Number(tsNs - sec * NS_PER_SEC);
  v.setUint32(offset + RecordField.TS_SEC, Number(sec), true);
  v.setUint32(offset + RecordField.TS_FRAC, resolution === 'ns' ? ns : Math.floor(ns / 1000), true);
  v.setUint32(offset + RecordField.INCL_LEN, inclLen, true);
  v.setUint32(offset + RecordField.ORIG_LEN, origLen, true);
}

/**
 * Collects packets into one growing buffer; `toBytes()` gives the whole file.
 * Packets are copied on `write`, so callers may reuse their buffers.
 */
export class PcapWriter {
  readonly resolution: PcapResolution;
  readonly snaplen: number;
  readonly linkType: number;
  /** Records written so far. */
  count = 0;
  private buf: Uint8Array;
  private view: DataView;
  private len: number;

  constructor(opts: PcapWriteOptions = {}) {
    const o = resolve(opts);
    this.resolution = o.resolution;
    this.snaplen = o.snaplen;
    this.linkType = o.linkType;
    this.buf = new Uint8Array(4096);
    this.view = new DataView(this.buf.buffer);
    writeGlobalHeader(this.view, o);
    this.len = PCAP_GLOBAL_HEADER_LEN;
  }

  /** Append one packet captured at `tsNs` (ns since the epoch). */
  write(tsNs: bigint, packet: Uint8Array): void {
    const incl = Math.min(packet.length, this.snaplen);
    this.reserve(PCAP_RECORD_HEADER_LEN + incl);
    writePcapRecordHeader(this.view, this.len, tsNs, incl, packet.length, this.resolution);
    this.buf.set(
      incl === packet.length ? packet : packet.subarray(0, incl),
      this.len + PCAP_RECORD_HEADER_LEN,
    );
    this.len += PCAP_RECORD_HEADER_LEN + incl;
    this.count++;
  }

  /** Bytes written so far, header included. */
  get byteLength(): number {
    return this.len;
  }

  /** The file so far (a copy; the writer stays usable). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
