// A connection's numbers that are not small integers (sequence numbers, times in ns, the
// RTT estimator's doubles, the counters) in one record of a shared Float64Array: a
// connection holds the chunk and its offset, so it carries no view, estimator or stats
// object of its own, and no heap number per field (a u32 sequence number or a virtual time
// past 2^31 ns is outside V8's small integers, and a field holding one is a box of its
// own that every scavenge copies). Chunks are never reused: one is freed when no
// connection holding it is left.
import type { TcpStats } from './state.ts';

// Sequence numbers (u32) and the slow-start threshold.
export const ISS = 0;
export const SND_UNA = 1;
export const SND_NXT = 2;
export const SND_MAX = 3;
export const SND_WL1 = 4;
export const SND_WL2 = 5;
export const SND_BUF_SEQ = 6;
export const IRS = 7;
export const RCV_NXT = 8;
export const SSTHRESH = 9;
/** Sequence whose acknowledgement ends the running RTT measurement, and when it began. */
export const RTT_SEQ = 10;
export const RTT_START = 11;
// RFC 6298 state (rtt.ts).
export const SRTT = 12;
export const RTTVAR = 13;
export const RTT_LAST = 14;
export const RTT_MIN = 15;
export const RTT_SAMPLES = 16;
export const RTO = 17;
// TcpStats, in its order (establishedAt / closedAt: NaN = undefined).
export const SEGMENTS_SENT = 18;
export const SEGMENTS_RECEIVED = 19;
export const BYTES_SENT = 20;
export const BYTES_RETRANSMITTED = 21;
export const BYTES_ACKED = 22;
export const BYTES_RECEIVED = 23;
export const RETRANSMITS = 24;
export const TIMEOUTS = 25;
export const FAST_RETRANSMITS = 26;
export const SRTT_NS = 27;
export const RTTVAR_NS = 28;
export const RTO_NS = 29;
export const LAST_RTT_NS = 30;
export const OPENED_AT = 31;
export const ESTABLISHED_AT = 32;
export const CLOSED_AT = 33;
const SLOTS = 34;

const CHUNK_RECORDS = 128;
let chunk = new Float64Array(SLOTS * CHUNK_RECORDS);
let chunkAt = 0;

/** The chunk the next newRecord() carves from (take it before calling newRecord). */
export function recordChunk(): Float64Array {
  if (chunkAt + SLOTS > chunk.length) {
    chunk = new Float64Array(SLOTS * CHUNK_RECORDS);
    chunkAt = 0;
  }
  return chunk;
}

/** Offset of a fresh record in recordChunk(): counters zero, the times not yet set. */
export function newRecord(): number {
  const at = chunkAt;
  chunkAt += SLOTS;
  chunk[at + RTT_MIN] = Infinity;
  chunk[at + ESTABLISHED_AT] = NaN;
  chunk[at + CLOSED_AT] = NaN;
  return at;
}

/** TcpStats read from (and written to) a connection's record. */
export class TcpStatsView implements TcpStats {
  constructor(
    private readonly r: Float64Array,
    private readonly at: number,
  ) {}
  get segmentsSent(): number {
    return this.r[this.at + SEGMENTS_SENT]!;
  }
  set segmentsSent(v: number) {
    this.r[this.at + SEGMENTS_SENT] = v;
  }
  get segmentsReceived(): number {
    return this.r[this.at + SEGMENTS_RECEIVED]!;
  }
  set segmentsReceived(v: number) {
    this.r[this.at + SEGMENTS_RECEIVED] = v;
  }
  get bytesSent(): number {
    return this.r[this.at + BYTES_SENT]!;
  }
  set bytesSent(v: number) {
    this.r[this.at + BYTES_SENT] = v;
  }
  get bytesRetransmitted(): number {
    return this.r[this.at + BYTES_RETRANSMITTED]!;
  }
  set bytesRetransmitted(v: number) {
    this.r[this.at + BYTES_RETRANSMITTED] = v;
  }
  get bytesAcked(): number {
    return this.r[this.at + BYTES_ACKED]!;
  }
  set bytesAcked(v: number) {
    this.r[this.at + BYTES_ACKED] = v;
  }
  get bytesReceived(): number {
    return this.r[this.at + BYTES_RECEIVED]!;
  }
  set bytesReceived(v: number) {
    this.r[this.at + BYTES_RECEIVED] = v;
  }
  get retransmits(): number {
    return this.r[this.at + RETRANSMITS]!;
  }
  set retransmits(v: number) {
    this.r[this.at + RETRANSMITS] = v;
  }
  get timeouts(): number {
    return this.r[this.at + TIMEOUTS]!;
  }
  set timeouts(v: number) {
    this.r[this.at + TIMEOUTS] = v;
  }
  get fastRetransmits(): number {
    return this.r[this.at + FAST_RETRANSMITS]!;
  }
  set fastRetransmits(v: number) {
    this.r[this.at + FAST_RETRANSMITS] = v;
  }
  get srttNs(): number {
    return this.r[this.at + SRTT_NS]!;
  }
  set srttNs(v: number) {
    this.r[this.at + SRTT_NS] = v;
  }
  get rttvarNs(): number {
    return this.r[this.at + RTTVAR_NS]!;
  }
  set rttvarNs(v: number) {
    this.r[this.at + RTTVAR_NS] = v;
  }
  get rtoNs(): number {
    return this.r[this.at + RTO_NS]!;
  }
  set rtoNs(v: number) {
    this.r[this.at + RTO_NS] = v;
  }
  get lastRttNs(): number {
    return this.r[this.at + LAST_RTT_NS]!;
  }
  set lastRttNs(v: number) {
    this.r[this.at + LAST_RTT_NS] = v;
  }
  get openedAt(): number {
    return this.r[this.at + OPENED_AT]!;
  }
  set openedAt(v: number) {
    this.r[this.at + OPENED_AT] = v;
  }
  get establishedAt(): number | undefined {
    const v = this.r[this.at + ESTABLISHED_AT]!;
    return Number.isNaN(v) ? undefined : v;
  }
  set establishedAt(v: number | undefined) {
    this.r[this.at + ESTABLISHED_AT] = v ?? NaN;
  }
  get closedAt(): number | undefined {
    const v = this.r[this.at + CLOSED_AT]!;
    return Number.isNaN(v) ? undefined : v;
  }
  set closedAt(v: number | undefined) {
    this.r[this.at + CLOSED_AT] = v ?? NaN;
  }

  /** The counters as a plain object (what the fields were before they moved here). */
  toJSON(): TcpStats {
    return {
      segmentsSent: this.segmentsSent,
      segmentsReceived: this.segmentsReceived,
      bytesSent: this.bytesSent,
      bytesRetransmitted: this.bytesRetransmitted,
      bytesAcked: this.bytesAcked,
      bytesReceived: this.bytesReceived,
      retransmits: this.retransmits,
      timeouts: this.timeouts,
      fastRetransmits: this.fastRetransmits,
      srttNs: this.srttNs,
      rttvarNs: this.rttvarNs,
      rtoNs: this.rtoNs,
      lastRttNs: this.lastRttNs,
      openedAt: this.openedAt,
      establishedAt: this.establishedAt,
      closedAt: this.closedAt,
    };
  }
}

/** r[i] += n (a counter in a record). */
export function add(r: Float64Array, i: number, n: number): void {
  r[i] = r[i]! + n;
}
