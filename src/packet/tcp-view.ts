// Zero-copy TCP segment view over the IP payload (segment = header + data).
// Validate with `check()` (or tcpValidate) before trusting length-derived fields.
import { applyDelta, delta16, l4Checksum, l4ChecksumValid } from './checksum.ts';
import { TcpField as F, TcpFlags, tcpValidate } from './tcp.ts';
import type { TcpReason } from './tcp.ts';

export class TcpView {
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

  check(): TcpReason {
    return tcpValidate(this.bytes, 0, this.bytes.length);
  }

  get srcPort(): number {
    return this.dv.getUint16(F.SRC_PORT);
  }
  set srcPort(v: number) {
    this.dv.setUint16(F.SRC_PORT, v);
  }
  get dstPort(): number {
    return this.dv.getUint16(F.DST_PORT);
  }
  set dstPort(v: number) {
    this.dv.setUint16(F.DST_PORT, v);
  }
  get seqNumber(): number {
    return this.dv.getUint32(F.SEQ_NUM);
  }
  set seqNumber(v: number) {
    this.dv.setUint32(F.SEQ_NUM, v >>> 0);
  }
  get ackNumber(): number {
    return this.dv.getUint32(F.ACK_NUM);
  }
  set ackNumber(v: number) {
    this.dv.setUint32(F.ACK_NUM, v >>> 0);
  }
  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.dv.getUint8(F.DATA_OFF) >>> 4;
  }
  set dataOffset(v: number) {
    this.dv.setUint8(F.DATA_OFF, ((v & 0x0f) << 4) | (this.dv.getUint8(F.DATA_OFF) & 0x0f));
  }
  /** Header length in bytes (data offset * 4). */
  get headerLength(): number {
    return (this.dv.getUint8(F.DATA_OFF) >>> 4) << 2;
  }
  /** The flags byte (TcpFlags bits). */
  get flags(): number {
    return this.dv.getUint8(F.FLAGS);
  }
  set flags(v: number) {
    this.dv.setUint8(F.FLAGS, v);
  }
  get fin(): boolean {
    return (this.flags & TcpFlags.FIN) !== 0;
  }
  get syn(): boolean {
    return (this.flags & TcpFlags.SYN) !== 0;
  }
  get rst(): boolean {
    return (this.flags & TcpFlags.RST) !== 0;
  }
  get psh(): boolean {
    return (this.flags & TcpFlags.PSH) !== 0;
  }
  get ack(): boolean {
    return (this.flags & TcpFlags.ACK) !== 0;
  }
  get urg(): boolean {
    return (this.flags & TcpFlags.URG) !== 0;
  }
  get ece(): boolean {
    return (this.flags & TcpFlags.ECE) !== 0;
  }
  get cwr(): boolean {
    return (this.flags & TcpFlags.CWR) !== 0;
  }
  get window(): number {
    return this.dv.getUint16(F.WINDOW);
  }
  set window(v: number) {
    this.dv.setUint16(F.WINDOW, v);
  }
  get checksum(): number {
    return this.dv.getUint16(F.CHECKSUM);
  }
  set checksum(v: number) {
    this.dv.setUint16(F.CHECKSUM, v);
  }
  get urgentPointer(): number {
    return this.dv.getUint16(F.URGENT);
  }
  set urgentPointer(v: number) {
    this.dv.setUint16(F.URGENT, v);
  }
  /** Option bytes (a subarray sharing memory). */
  get options(): Uint8Array {
    return this.bytes.subarray(F.OPTIONS, this.headerLength);
  }
  /** Segment data after the header (a subarray sharing memory). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }

  /** Compute and store the checksum for the pseudo-header src -> dst. */
  fillChecksum(src: number, dst: number): void {
    this.checksum = l4Checksum(this.bytes, 0, this.bytes.length, src, dst, 6, F.CHECKSUM);
  }
  checksumValid(src: number, dst: number): boolean {
    return l4ChecksumValid(this.bytes, 0, this.bytes.length, src, dst, 6);
  }
  setSrcPortWithChecksum(port: number): void {
    this.checksum = applyDelta(this.checksum, delta16(this.srcPort, port));
    this.srcPort = port;
  }
  setDstPortWithChecksum(port: number): void {
    this.checksum = applyDelta(this.checksum, delta16(this.dstPort, port));
    this.dstPort = port;
  }
}
