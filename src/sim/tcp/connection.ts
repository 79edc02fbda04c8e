// One TCP connection (RFC 9293): the socket-like API, the send side (segmentation to
// MSS, RFC 5681 congestion window, RFC 6298 retransmission timer) and the timers.
// Arriving segments are processed in input.ts.
import { Timer } from '../../control/clock.ts';
import type { VirtualClock } from '../../control/clock.ts';
import type { Rng } from '../../control/rng.ts';
import { TcpFlags, emitTcpOptions, u32ToIp } from '../../packet/index.ts';
import { ByteQueue } from './byte-queue.ts';
import type { TcpConfig } from './config.ts';
import { SocketError } from './errors.ts';
import type { SocketErrorCode } from './errors.ts';
import { icmpArrives, segmentArrives } from './input.ts';
import { isSynchronized } from './state.ts';
import type { TcpState, TcpStats } from './state.ts';
import type { Reassembly } from './reassembly.ts';
import type { TcpListener } from './listener.ts';
import {
  BYTES_RETRANSMITTED,
  BYTES_SENT,
  CLOSED_AT,
  ESTABLISHED_AT,
  IRS,
  ISS,
  LAST_RTT_NS,
  OPENED_AT,
  RCV_NXT,
  RETRANSMITS,
  RTO,
  RTO_NS,
  RTTVAR,
  RTTVAR_NS,
  RTT_LAST,
  RTT_SEQ,
  RTT_START,
  SEGMENTS_RECEIVED,
  SEGMENTS_SENT,
  SND_BUF_SEQ,
  SND_MAX,
  SND_NXT,
  SND_UNA,
  SRTT,
  SRTT_NS,
  SSTHRESH,
  TIMEOUTS,
  SND_WL1,
  SND_WL2,
  TcpStatsView,
  add,
  newRecord,
  recordChunk,
} from './record.ts';
import { rttCurrent, rttInit, rttSample } from './rtt.ts';
import type { Segment } from './segment.ts';
import { seqAdd, seqDiff, seqGt, seqInRange, seqLt } from './seq.ts';
import { tcpPacket, tcpPacketFromQueue } from './wire.ts';

const EMPTY = new Uint8Array(0);

/** SYN options by MSS and offered window scale (+ 1; 0 = none): the same bytes each time. */
const synOptions = new Map<number, Uint8Array>();

/** MSS, and NOP + window scale when `shift` >= 0 (tcp_options_write's SYN layout here). */
function synOptionBytes(mss: number, shift: number): Uint8Array {
  const k = mss * 64 + (shift + 1);
  let b = synOptions.get(k);
  if (b === undefined) {
    b = emitTcpOptions(
      shift >= 0
        ? [{ kind: 'mss', mss }, { kind: 'nop' }, { kind: 'windowScale', shift }]
        : [{ kind: 'mss', mss }],
    );
    synOptions.set(k, b);
  }
  return b;
}

export type { TcpState, TcpStats } from './state.ts';

/** Every connection's timer function (Timer.of passes the connection). */
function onConnectionTimer(c: TcpConnection): void {
  c.onTimer();
}

/** A socket's application callbacks as one object (TcpConnection.events). */
export interface TcpEvents {
  tcpConnect(): void;
  tcpData(bytes: Uint8Array): void;
  tcpEnd(): void;
  tcpClose(error?: SocketError): void;
}

/**
 * What a TCP connection needs from the host it lives on (an interface, so tcp/ does not
 * import host.ts; it lives here, beside its one user, so the two files need no cycle).
 */
export interface TcpHostContext {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly tcpConfig: TcpConfig;
  /** Put a packet on the wire (the host counts it). */
  sendPacket(pkt: Uint8Array): void;
  /** The connection reached CLOSED: forget its 4-tuple. */
  tcpForget(conn: TcpConnection): void;
  /** Bump a host counter. */
  count(name: string): void;
}

export class TcpConnection {
  readonly localIp: number;
  readonly localPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
  state: TcpState = 'CLOSED';
  /** Active open completed (client side). */
  onConnect: (() => void) | undefined;
  /** In-order bytes from the peer. */
  onData: ((bytes: Uint8Array) => void) | undefined;
  /** The peer sent FIN: no more data will come. */
  onEnd: (() => void) | undefined;
  /** The connection is over; `error` when it failed (refused, reset, timed out...). */
  onClose: ((error?: SocketError) => void) | undefined;
  /**
   * The same four callbacks as one object's methods, used instead of them when set (an
   * HTTP connection object is its socket's events: no closure per callback per socket).
   */
  events: TcpEvents | undefined;
  /** Counters and times (a view of the record, made on first use). */
  get stats(): TcpStats {
    return (this.statsView ??= new TcpStatsView(this.rec, this.at));
  }
  private statsView: TcpStatsView | undefined;

  // ---- internal state shared with input.ts (not part of the API) ----
  /** @internal */ readonly ctx: TcpHostContext;
  /** @internal Passive open: established connections go to their listener, not onConnect. */
  passive = false;
  /** @internal The listener a passive open is half-open on (until accepted or closed). */
  listener: TcpListener | undefined;
  /** @internal Peer's window in bytes (already scaled). */
  sndWnd = 0;
  /** @internal */ sndWscale = 0;
  /** @internal */ rcvWscale = 0;
  /** @internal Effective send MSS. */
  mss: number;
  /** @internal Unacknowledged application bytes; the first one has sequence sndBufSeq. */
  readonly sendQ = new ByteQueue();
  /** @internal The application called end(): a FIN follows the last byte. */
  finQueued = false;
  /** @internal Out-of-order bytes; made on the first segment beyond a hole (most connections never see one). */
  ooo: Reassembly | undefined;
  /** @internal */ cwnd = 0;
  /** @internal */ dupAcks = 0;
  /** @internal NewReno recovery point (RFC 6582), undefined outside fast recovery. */
  recover: number | undefined;
  /** @internal The record (record.ts) holding this connection's numbers, and its offset. */
  readonly rec: Float64Array;
  /** @internal */ readonly at: number;
  /** @internal Consecutive timeouts (RTO doublings). */
  retries = 0;
  /** @internal An ACK is owed to the peer. */
  ackPending = false;
  /** @internal In its host's ConnList (conn-list.ts), and its neighbours there. */
  listed = false;
  /** @internal */ listPrev: TcpConnection | undefined;
  /** @internal */ listNext: TcpConnection | undefined;
  /** @internal Last ICMP error while connected: reported if the connection times out. */
  softError:
    { code: SocketErrorCode; icmp: { type: number; code: number; from: number } } | undefined;
  private localText: string | undefined;
  private remoteText: string | undefined;
  /**
   * The one timer of this connection, re-armed in place: the RTO, or TIME-WAIT's end (see
   * onTimer). Made on the first arming.
   */
  private timer: Timer | undefined;
  private ipId: number;

  // ---- sequence numbers (internal, shared with input.ts) ----
  // In the record (record.ts), not fields: a u32 sequence number is out of V8's small-integer
  // range half the time, and as a field it is a heap number of its own. Stored as u32.
  /** @internal */ get iss(): number {
    return this.rec[this.at + ISS]!;
  }
  set iss(v: number) {
    this.rec[this.at + ISS] = v >>> 0;
  }
  /** @internal */ get sndUna(): number {
    return this.rec[this.at + SND_UNA]!;
  }
  set sndUna(v: number) {
    this.rec[this.at + SND_UNA] = v >>> 0;
  }
  /** @internal */ get sndNxt(): number {
    return this.rec[this.at + SND_NXT]!;
  }
  set sndNxt(v: number) {
    this.rec[this.at + SND_NXT] = v >>> 0;
  }
  /** @internal */ get sndMax(): number {
    return this.rec[this.at + SND_MAX]!;
  }
  set sndMax(v: number) {
    this.rec[this.at + SND_MAX] = v >>> 0;
  }
  /** @internal */ get sndWl1(): number {
    return this.rec[this.at + SND_WL1]!;
  }
  set sndWl1(v: number) {
    this.rec[this.at + SND_WL1] = v >>> 0;
  }
  /** @internal */ get sndWl2(): number {
    return this.rec[this.at + SND_WL2]!;
  }
  set sndWl2(v: number) {
    this.rec[this.at + SND_WL2] = v >>> 0;
  }
  /** @internal */ get sndBufSeq(): number {
    return this.rec[this.at + SND_BUF_SEQ]!;
  }
  set sndBufSeq(v: number) {
    this.rec[this.at + SND_BUF_SEQ] = v >>> 0;
  }
  /** @internal */ get irs(): number {
    return this.rec[this.at + IRS]!;
  }
  set irs(v: number) {
    this.rec[this.at + IRS] = v >>> 0;
  }
  /** @internal */ get rcvNxt(): number {
    return this.rec[this.at + RCV_NXT]!;
  }
  set rcvNxt(v: number) {
    this.rec[this.at + RCV_NXT] = v >>> 0;
  }
  /** @internal An RTT measurement is running: the ACK of the record's RTT_SEQ ends it. */
  private timing = false;
  /** Time the segment ending at `seq` (no sequence boxed as an optional number). */
  private startTiming(seq: number): void {
    this.timing = true;
    this.rec[this.at + RTT_SEQ] = seq >>> 0;
  }
  /** @internal When the running RTT measurement began, ns. */
  get rttStart(): number {
    return this.rec[this.at + RTT_START]!;
  }
  set rttStart(v: number) {
    this.rec[this.at + RTT_START] = v;
  }
  /** @internal Slow-start threshold, bytes (0x7fffffff = none yet). */
  get ssthresh(): number {
    return this.rec[this.at + SSTHRESH]!;
  }
  set ssthresh(v: number) {
    this.rec[this.at + SSTHRESH] = v;
  }

  constructor(
    ctx: TcpHostContext,
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
  ) {
    this.ctx = ctx;
    this.localIp = localIp;
    this.localPort = localPort;
    this.remoteIp = remoteIp;
    this.remotePort = remotePort;
    const cfg = ctx.tcpConfig;
    this.mss = cfg.mss;
    const rec = recordChunk();
    const at = newRecord();
    this.rec = rec;
    this.at = at;
    rttInit(rec, at, cfg.initialRtoNs);
    this.ipId = ctx.rng.int(0x10000);
    rec[at + OPENED_AT] = ctx.clock.now();
    rec[at + RTO_NS] = cfg.initialRtoNs;
    rec[at + SSTHRESH] = 0x7fffffff;
  }

  get localAddress(): string {
    return (this.localText ??= u32ToIp(this.localIp));
  }
  get remoteAddress(): string {
    return (this.remoteText ??= u32ToIp(this.remoteIp));
  }
  /** Bytes written and not yet acknowledged. */
  get bufferedAmount(): number {
    return this.sendQ.length;
  }

  /** Queue a copy of bytes for sending. False when the sending side is already closed. */
  write(bytes: Uint8Array): boolean {
    return this.queue(bytes, true);
  }

  /**
   * write() without the copy: the connection keeps `bytes` until they are acknowledged,
   * so nothing may write to them again (for bytes made once and shared, e.g. a remembered
   * HTTP response).
   */
  writeShared(bytes: Uint8Array): boolean {
    return this.queue(bytes, false);
  }

  private queue(bytes: Uint8Array, copy: boolean): boolean {
    if (this.finQueued || this.over || this.state === 'TIME-WAIT') return false;
    if (this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2') return false;
    if (this.state === 'CLOSING' || this.state === 'LAST-ACK') return false;
    if (copy) this.sendQ.push(bytes);
    else this.sendQ.pushShared(bytes);
    this.output();
    return true;
  }

  /** Close the sending side: FIN after the queued bytes (shutdown(SHUT_WR)). */
  end(): void {
    if (this.finQueued || this.over || this.state === 'TIME-WAIT') return;
    this.finQueued = true;
    this.enterFinState();
    this.output();
  }

  /** Abort: send RST (unless still in SYN-SENT, as Linux) and close at once. */
  destroy(): void {
    if (this.over) return;
    if (isSynchronized(this.state) || this.state === 'SYN-RECEIVED') {
      this.sendControl(this.sndNxt, this.rcvNxt, TcpFlags.RST | TcpFlags.ACK);
    }
    this.finish(undefined);
  }

  /** CLOSED after having been open (a connection not yet started is CLOSED too). */
  private get over(): boolean {
    return this.state === 'CLOSED' && this.closeNotified;
  }

  // ---- opening ----

  /** @internal Active open: send SYN (RFC 9293 §3.10.1). */
  openActive(): void {
    this.initSend();
    this.state = 'SYN-SENT';
    this.sendSyn(false);
    this.armRto();
  }

  /** @internal Passive open from a listener's SYN: answer SYN/ACK. */
  openPassive(seg: Segment): void {
    this.passive = true;
    this.initSend();
    this.takeSynOptions(seg, true);
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndWnd = seg.window;
    this.state = 'SYN-RECEIVED';
    this.sendSyn(true);
    this.armRto();
  }

  private initSend(): void {
    this.iss = this.ctx.rng.nextU32();
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.sndBufSeq = this.sndNxt;
    this.startTiming(this.iss);
    this.rttStart = this.ctx.clock.now();
  }

  /** @internal Peer's SYN options: MSS (536 when absent, RFC 9293 §3.7.1), window scale. */
  takeSynOptions(seg: Segment, offerIfPeerDid: boolean): void {
    this.mss = Math.max(64, Math.min(this.ctx.tcpConfig.mss, seg.mss ?? 536));
    const ws = this.ctx.tcpConfig.windowScale;
    if (ws !== false && seg.wscale !== undefined && offerIfPeerDid) {
      this.sndWscale = seg.wscale;
      this.rcvWscale = ws;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
  }

  /** @internal SYN (active open) or SYN/ACK (passive open), with our options. */
  sendSyn(withAck: boolean): void {
    const cfg = this.ctx.tcpConfig;
    // A SYN/ACK carries window scale only if the SYN did (RFC 7323 §1.3).
    const scale =
      cfg.windowScale !== false && (!withAck || this.rcvWscale !== 0 || this.sndWscale !== 0);
    const options = synOptionBytes(cfg.mss, scale ? (cfg.windowScale as number) : -1);
    const flags = TcpFlags.SYN | (withAck ? TcpFlags.ACK : 0);
    if (flags & TcpFlags.ACK) this.ackPending = false;
    add(this.rec, this.at + SEGMENTS_SENT, 1);
    this.ctx.sendPacket(
      tcpPacket(
        this.localIp,
        this.remoteIp,
        this.ipId,
        this.localPort,
        this.remotePort,
        this.iss >>> 0,
        (withAck ? this.rcvNxt : 0) >>> 0,
        flags,
        Math.min(0xffff, cfg.rcvBuf),
        EMPTY,
        options,
      ),
    );
    this.ipId = (this.ipId + 1) & 0xffff;
  }

  /** @internal Handshake done: ESTABLISHED, hand the connection to the application. */
  established(): void {
    this.state = 'ESTABLISHED';
    this.rec[this.at + ESTABLISHED_AT] = this.ctx.clock.now();
    this.cwnd = this.ctx.tcpConfig.initialCwnd * this.mss;
    this.retries = 0;
    this.cancelRto();
    if (this.passive) {
      const l = this.listener;
      this.listener = undefined;
      l?.accept(this);
    } else if (this.events !== undefined) this.events.tcpConnect();
    else this.onConnect?.();
    if (this.finQueued) this.enterFinState();
  }

  private enterFinState(): void {
    if (this.state === 'ESTABLISHED') this.state = 'FIN-WAIT-1';
    else if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
  }

  // ---- sending ----

  /** @internal Our receive window in bytes, as the peer sees it after scaling. */
  rcvWnd(): number {
    const w = Math.min(this.ctx.tcpConfig.rcvBuf, 0xffff << this.rcvWscale);
    return (w >>> this.rcvWscale) << this.rcvWscale;
  }

  /** @internal Send what the windows allow; ends with a pure ACK if one is still owed. */
  output(): void {
    if (!isSynchronized(this.state)) return;
    for (;;) {
      const sndEnd = seqAdd(this.sndBufSeq, this.sendQ.length);
      const unsent = seqDiff(sndEnd, this.sndNxt);
      const room = Math.min(this.sndWnd, this.cwnd) - seqDiff(this.sndNxt, this.sndUna);
      const len = Math.max(0, Math.min(this.mss, unsent, room));
      const fin = this.finQueued && unsent >= 0 && len === unsent;
      if (len === 0 && !fin) break;
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): no runt while more waits and
      // something is in flight — the next ACK opens room for a full segment.
      if (len < this.mss && len < unsent && this.sndNxt !== this.sndUna) break;
      this.sendData(this.sndNxt, len, fin);
      this.sndNxt = seqAdd(this.sndNxt, len + (fin ? 1 : 0));
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    }
    if (this.ackPending) this.sendControl(this.sndNxt, this.rcvNxt, TcpFlags.ACK);
  }

  /** @internal Resend the first unacknowledged segment (fast retransmit, RFC 5681 §3.2). */
  retransmitHead(): void {
    const sndEnd = seqAdd(this.sndBufSeq, this.sendQ.length);
    const unacked = seqDiff(sndEnd, this.sndUna);
    const len = Math.max(0, Math.min(this.mss, unacked));
    const fin = this.finQueued && unacked >= 0 && len === unacked;
    if (len > 0 || fin) this.sendData(this.sndUna, len, fin);
  }

  /** A data/FIN segment at `seq`; ACK always, PSH on the last byte queued (tcp_push). */
  private sendData(seq: number, len: number, fin: boolean): void {
    const sndEnd = seqAdd(this.sndBufSeq, this.sendQ.length);
    let flags = TcpFlags.ACK;
    if (len > 0 && seqAdd(seq, len) === sndEnd) flags |= TcpFlags.PSH;
    if (fin) flags |= TcpFlags.FIN;
    if (seqLt(seq, this.sndMax)) {
      add(this.rec, this.at + RETRANSMITS, 1);
      add(this.rec, this.at + BYTES_RETRANSMITTED, len);
      // Karn's algorithm: no RTT sample from anything sent twice.
      const end = seqAdd(seq, Math.max(1, len + (fin ? 1 : 0)));
      if (this.timing && seqInRange(this.rec[this.at + RTT_SEQ]!, seq, end)) this.timing = false;
    } else {
      add(this.rec, this.at + BYTES_SENT, len);
      if (!this.timing) {
        this.startTiming(seqAdd(seq, Math.max(len, 1) - 1));
        this.rttStart = this.ctx.clock.now();
      }
    }
    this.ackPending = false;
    add(this.rec, this.at + SEGMENTS_SENT, 1);
    this.ctx.sendPacket(
      tcpPacketFromQueue(
        this.localIp,
        this.remoteIp,
        this.ipId,
        this.localPort,
        this.remotePort,
        seq >>> 0,
        this.rcvNxt >>> 0,
        flags,
        this.rcvWnd() >>> this.rcvWscale,
        this.sendQ,
        seqDiff(seq, this.sndBufSeq),
        len,
      ),
    );
    this.ipId = (this.ipId + 1) & 0xffff;
    if (this.timer === undefined || !this.timer.armed) this.armRto();
  }

  /** @internal A segment without data (ACK, RST) from this connection. */
  sendControl(seq: number, ack: number, flags: number): void {
    if (flags & TcpFlags.ACK) this.ackPending = false;
    const window = (flags & TcpFlags.RST) !== 0 ? 0 : this.rcvWnd() >>> this.rcvWscale;
    add(this.rec, this.at + SEGMENTS_SENT, 1);
    this.ctx.sendPacket(
      tcpPacket(
        this.localIp,
        this.remoteIp,
        this.ipId,
        this.localPort,
        this.remotePort,
        seq >>> 0,
        ack >>> 0,
        flags,
        window,
        EMPTY,
      ),
    );
    this.ipId = (this.ipId + 1) & 0xffff;
  }

  // ---- timers ----

  /** @internal (Re)start the retransmission timer with the current backed-off RTO. */
  armRto(): void {
    const cfg = this.ctx.tcpConfig;
    const rto = rttCurrent(this.rec, this.at, this.retries, cfg.minRtoNs, cfg.maxRtoNs);
    this.rec[this.at + RTO_NS] = rto;
    // arm() replaces a pending arming, as cancel + after did (one object per connection).
    this.ctx.clock.arm((this.timer ??= Timer.of(onConnectionTimer, this)), rto);
  }

  /** @internal */
  cancelRto(): void {
    if (this.timer !== undefined) this.ctx.clock.disarm(this.timer);
  }

  /**
   * The RTO and TIME-WAIT's timer share one function (no closure per TIME-WAIT socket):
   * entering TIME-WAIT cancels the RTO and nothing re-arms it there, so a timer firing in
   * TIME-WAIT is TIME-WAIT's.
   */
  /** @internal */
  onTimer(): void {
    if (this.state === 'TIME-WAIT') this.finish();
    else this.onRto();
  }

  private onRto(): void {
    const cfg = this.ctx.tcpConfig;
    add(this.rec, this.at + TIMEOUTS, 1);
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECEIVED') {
      const limit = this.state === 'SYN-SENT' ? cfg.synRetries : cfg.synAckRetries;
      // An unanswered passive open just disappears (the request sock is dropped).
      if (this.retries >= limit) return this.passive ? this.finish(undefined) : this.fail();
      this.retries++;
      add(this.rec, this.at + RETRANSMITS, 1);
      this.timing = false;
      this.sendSyn(this.state === 'SYN-RECEIVED');
      return this.armRto();
    }
    if (!isSynchronized(this.state) || this.sndUna === this.sndMax) return;
    if (this.retries >= cfg.dataRetries) return this.fail();
    this.retries++;
    // RFC 5681 §3.1 (4): on a timeout, ssthresh = FlightSize/2 and cwnd = 1 segment.
    this.ssthresh = Math.max(seqDiff(this.sndMax, this.sndUna) >>> 1, 2 * this.mss);
    this.cwnd = this.mss;
    this.dupAcks = 0;
    this.recover = undefined;
    this.sndNxt = this.sndUna;
    this.output();
    this.armRto();
  }

  /** @internal Enter TIME-WAIT (2*MSL): the application sees the socket closed now. */
  enterTimeWait(): void {
    this.state = 'TIME-WAIT';
    // Replaces the RTO's arming (or an earlier TIME-WAIT's): cancel + after, as before.
    this.ctx.clock.arm(
      (this.timer ??= Timer.of(onConnectionTimer, this)),
      this.ctx.tcpConfig.timeWaitNs,
    );
    this.notifyClose(undefined);
  }

  // ---- closing ----

  /** @internal Abort with an error (ETIMEDOUT unless an ICMP error explains it better). */
  fail(code?: SocketErrorCode, icmp?: { type: number; code: number; from: number }): void {
    if (code === undefined && this.softError !== undefined) {
      return this.fail(this.softError.code, this.softError.icmp);
    }
    this.finish(new SocketError(code ?? 'ETIMEDOUT', icmp));
  }

  /** @internal CLOSED: stop timers, leave the host's table, tell the application once. */
  finish(error?: SocketError): void {
    this.state = 'CLOSED';
    this.cancelRto();
    this.ooo = undefined;
    this.ctx.tcpForget(this);
    this.notifyClose(error);
  }

  /** @internal */ closeNotified = false;
  private notifyClose(error: SocketError | undefined): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.rec[this.at + CLOSED_AT] = this.ctx.clock.now();
    const onClose = this.onClose;
    const events = this.events;
    const listener = this.listener;
    // Nothing calls the application after this: let go of it (a socket in TIME-WAIT stays
    // in its host's table for 60 s of virtual time, and need not keep its client alive).
    this.onConnect = undefined;
    this.onData = undefined;
    this.onEnd = undefined;
    this.onClose = undefined;
    this.events = undefined;
    this.listener = undefined;
    // A handshake that never completed leaves its listener's backlog.
    if (listener !== undefined) listener.halfOpen--;
    if (events !== undefined) events.tcpClose(error);
    else onClose?.(error);
  }

  /** @internal An arriving segment for this 4-tuple; true = hand it to a listener instead. */
  input(seg: Segment): boolean {
    add(this.rec, this.at + SEGMENTS_RECEIVED, 1);
    return segmentArrives(this, seg);
  }

  /** @internal An ICMP error quoting one of our segments (Linux tcp_v4_err). */
  icmpError(type: number, code: number, from: number, quotedSeq: number): void {
    icmpArrives(this, type, code, from, quotedSeq);
  }

  /** @internal Update the RTT estimate from an ACK covering the timed segment. */
  sampleRtt(ack: number): void {
    const r = this.rec;
    const at = this.at;
    if (!this.timing || !seqGt(ack, r[at + RTT_SEQ]!)) return;
    const cfg = this.ctx.tcpConfig;
    rttSample(r, at, this.ctx.clock.now() - r[at + RTT_START]!, cfg.minRtoNs, cfg.maxRtoNs);
    this.timing = false;
    r[at + SRTT_NS] = Math.round(r[at + SRTT]!);
    r[at + RTTVAR_NS] = Math.round(r[at + RTTVAR]!);
    r[at + LAST_RTT_NS] = r[at + RTT_LAST]!;
    r[at + RTO_NS] = r[at + RTO]!;
  }
}
