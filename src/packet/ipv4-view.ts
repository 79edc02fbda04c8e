// Zero-copy IPv4 header view (smoltcp's `Packet<T>` level). Plain accessors
// read/write the field only; `...WithChecksum` methods keep the header checksum
// right incrementally (gVisor header.IPv4). Call `check()` once before trusting it.
import {
  Ipv4FlagBits,
  Ipv4Field as F,
  checkIpv4,
  ipv4DecTtlWithChecksum,
  ipv4FillChecksum,
  ipv4SetDstWithChecksum,
  ipv4SetSrcWithChecksum,
  ipv4SetTtlWithChecksum,
} from './ipv4.ts';
import type { Ipv4Check } from './ipv4.ts';

export class Ipv4View {
  bytes: Uint8Array;
  private dv: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Point the view at other bytes; the DataView is rebuilt only if they differ. */
  bind(bytes: Uint8Array): this {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this;
  }

  check(): Ipv4Check {
    return checkIpv4(this.bytes);
  }

  get version(): number {
    return this.dv.getUint8(F.VER_IHL) >>> 4;
  }
  set version(v: number) {
    this.dv.setUint8(F.VER_IHL, ((v & 0x0f) << 4) | (this.dv.getUint8(F.VER_IHL) & 0x0f));
  }
  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.dv.getUint8(F.VER_IHL) & 0x0f;
  }
  set ihl(v: number) {
    this.dv.setUint8(F.VER_IHL, (this.dv.getUint8(F.VER_IHL) & 0xf0) | (v & 0x0f));
  }
  /** Header length in bytes (IHL * 4). */
  get headerLength(): number {
    return (this.dv.getUint8(F.VER_IHL) & 0x0f) << 2;
  }
  get dscp(): number {
    return this.dv.getUint8(F.DSCP_ECN) >>> 2;
  }
  set dscp(v: number) {
    this.dv.setUint8(F.DSCP_ECN, ((v & 0x3f) << 2) | (this.dv.getUint8(F.DSCP_ECN) & 0x03));
  }
  get ecn(): number {
    return this.dv.getUint8(F.DSCP_ECN) & 0x03;
  }
  set ecn(v: number) {
    this.dv.setUint8(F.DSCP_ECN, (this.dv.getUint8(F.DSCP_ECN) & 0xfc) | (v & 0x03));
  }
  get totalLength(): number {
    return this.dv.getUint16(F.LENGTH);
  }
  set totalLength(v: number) {
    this.dv.setUint16(F.LENGTH, v);
  }
  get ident(): number {
    return this.dv.getUint16(F.IDENT);
  }
  set ident(v: number) {
    this.dv.setUint16(F.IDENT, v);
  }
  /** Same field as `ident` (the name builders use). */
  get id(): number {
    return this.dv.getUint16(F.IDENT);
  }
  set id(v: number) {
    this.dv.setUint16(F.IDENT, v);
  }
  get reservedFlag(): boolean {
    return (this.dv.getUint16(F.FLG_OFF) & Ipv4FlagBits.RESERVED) !== 0;
  }
  set reservedFlag(v: boolean) {
    this.setFlag(Ipv4FlagBits.RESERVED, v);
  }
  get dontFragment(): boolean {
    return (this.dv.getUint16(F.FLG_OFF) & Ipv4FlagBits.DF) !== 0;
  }
  set dontFragment(v: boolean) {
    this.setFlag(Ipv4FlagBits.DF, v);
  }
  get moreFragments(): boolean {
    return (this.dv.getUint16(F.FLG_OFF) & Ipv4FlagBits.MF) !== 0;
  }
  set moreFragments(v: boolean) {
    this.setFlag(Ipv4FlagBits.MF, v);
  }
  /** Fragment offset in bytes (the field counts 8-byte units). */
  get fragmentOffset(): number {
    return (this.dv.getUint16(F.FLG_OFF) & Ipv4FlagBits.OFFSET_MASK) << 3;
  }
  set fragmentOffset(bytes: number) {
    const w = this.dv.getUint16(F.FLG_OFF) & ~Ipv4FlagBits.OFFSET_MASK;
    this.dv.setUint16(F.FLG_OFF, w | ((bytes >>> 3) & Ipv4FlagBits.OFFSET_MASK));
  }
  /** MF set or offset non-zero. */
  get isFragment(): boolean {
    return (this.dv.getUint16(F.FLG_OFF) & (Ipv4FlagBits.MF | Ipv4FlagBits.OFFSET_MASK)) !== 0;
  }
  get ttl(): number {
    return this.dv.getUint8(F.TTL);
  }
  set ttl(v: number) {
    this.dv.setUint8(F.TTL, v);
  }
  get protocol(): number {
    return this.dv.getUint8(F.PROTOCOL);
  }
  set protocol(v: number) {
    this.dv.setUint8(F.PROTOCOL, v);
  }
  get checksum(): number {
    return this.dv.getUint16(F.CHECKSUM);
  }
  set checksum(v: number) {
    this.dv.setUint16(F.CHECKSUM, v);
  }
  /** Source address as u32. */
  get src(): number {
    return this.dv.getUint32(F.SRC_ADDR);
  }
  set src(v: number) {
    this.dv.setUint32(F.SRC_ADDR, v >>> 0);
  }
  /** Destination address as u32. */
  get dst(): number {
    return this.dv.getUint32(F.DST_ADDR);
  }
  set dst(v: number) {
    this.dv.setUint32(F.DST_ADDR, v >>> 0);
  }
  /** Option bytes (IHL > 5), a subarray sharing memory. */
  get options(): Uint8Array {
    return this.bytes.subarray(F.OPTIONS, this.headerLength);
  }
  /** Bytes after the header up to Total Length (a subarray sharing memory). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }

  /** Recompute the header checksum from scratch (building, not forwarding). */
  fillChecksum(): void {
    ipv4FillChecksum(this.bytes, 0);
  }
  setSrcWithChecksum(addr: number): void {
    ipv4SetSrcWithChecksum(this.bytes, 0, addr >>> 0);
  }
  setDstWithChecksum(addr: number): void {
    ipv4SetDstWithChecksum(this.bytes, 0, addr >>> 0);
  }
  setTtlWithChecksum(ttl: number): void {
    ipv4SetTtlWithChecksum(this.bytes, 0, ttl);
  }
  /** Decrement TTL (RFC 1812 §5.3.1); returns the new TTL, 0 = expired (untouched). */
  decTtlWithChecksum(): number {
    return ipv4DecTtlWithChecksum(this.bytes, 0);
  }

  private setFlag(bit: number, on: boolean): void {
    const w = this.dv.getUint16(F.FLG_OFF);
    this.dv.setUint16(F.FLG_OFF, on ? w | bit : w & ~bit);
  }
}
