// Segment arrival (RFC 9293 §3.10.7): SYN-SENT, then for the synchronized states the
// checks in RFC order — sequence, RST (RFC 5961), SYN, ACK, text, FIN — and TIME-WAIT.
import { TcpFlags } from '../../packet/index.ts';
import { slabCopy } from '../../packet/slab.ts';
import type { TcpConnection } from './connection.ts';
import { icmpToErrno } from './errors.ts';
import { Reassembly } from './reassembly.ts';
import { BYTES_ACKED, BYTES_RECEIVED, FAST_RETRANSMITS, add } from './record.ts';
import type { Segment } from './segment.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt } from './seq.ts';

const { SYN, ACK, RST, FIN } = TcpFlags;

/** Process one segment; true asks the host to offer it to a listener (TIME-WAIT reuse). */
export function segmentArrives(c: TcpConnection, seg: Segment): boolean {
  if (c.state === 'CLOSED') return false;
  if (c.state === 'SYN-SENT') {
    synSent(c, seg);
    return false;
  }
  if (c.state === 'TIME-WAIT') return timeWait(c, seg);
  const f = seg.flags;
  // A repeated SYN in SYN-RECEIVED means our SYN/ACK was lost: send it again.
  if (c.state === 'SYN-RECEIVED' && (f & (SYN | ACK | RST)) === SYN && seg.seq === c.irs) {
    c.sendSyn(true);
    return false;
  }
  const segLen = seg.dataLen + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
  if (!acceptable(c, seg.seq, segLen)) {
    c.ctx.count('tcp.outOfWindow');
    if (!(f & RST)) c.sendControl(c.sndNxt, c.rcvNxt, ACK);
    return false;
  }
  if (f & RST) {
    // RFC 5961 §3.2: only an exact match resets; in-window otherwise gets a challenge ACK.
    if (seg.seq !== c.rcvNxt) c.sendControl(c.sndNxt, c.rcvNxt, ACK);
    else reset(c);
    return false;
  }
  if (f & SYN) {
    c.sendControl(c.sndNxt, c.rcvNxt, ACK); // RFC 5961 §4: challenge ACK
    return false;
  }
  if (!(f & ACK)) return false;
  if (c.state === 'SYN-RECEIVED') {
    if (!seqInRange(seg.ack, seqAdd(c.sndUna, 1), seqAdd(c.sndMax, 1))) {
      c.sendControl(seg.ack, 0, RST);
      return false;
    }
    c.sndUna = seg.ack;
    c.sampleRtt(seg.ack);
    setWindow(c, seg);
    c.established();
  } else if (!processAck(c, seg)) {
    return false;
  }
  if (!open(c)) return false;
  receiveText(c, seg);
  if (open(c)) c.output();
  return false;
}

/** Still exchanging segments (re-read after callbacks, which may close the connection). */
function open(c: TcpConnection): boolean {
  return c.state !== 'CLOSED' && c.state !== 'TIME-WAIT';
}

/** RFC 9293 §3.10.7.4 table: does any part of the segment fall in the receive window? */
function acceptable(c: TcpConnection, seq: number, segLen: number): boolean {
  const wnd = c.rcvWnd();
  const end = seqAdd(c.rcvNxt, wnd);
  if (segLen === 0) return wnd === 0 ? seq === c.rcvNxt : seqInRange(seq, c.rcvNxt, end);
  if (wnd === 0) return false;
  return seqInRange(seq, c.rcvNxt, end) || seqInRange(seqAdd(seq, segLen - 1), c.rcvNxt, end);
}

function synSent(c: TcpConnection, seg: Segment): void {
  const f = seg.flags;
  if (f & ACK && !seqInRange(seg.ack, seqAdd(c.iss, 1), seqAdd(c.sndMax, 1))) {
    if (!(f & RST)) c.sendControl(seg.ack, 0, RST);
    return;
  }
  if (f & RST) {
    // An RST acknowledging our SYN: nobody listens there (RFC 9293 §3.10.7.3).
    if (f & ACK) c.fail('ECONNREFUSED');
    return;
  }
  if (!(f & SYN)) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.takeSynOptions(seg, true);
  if (f & ACK) {
    c.sndUna = seg.ack;
    c.sampleRtt(seg.ack);
    c.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    // The kernel completes the handshake before the application wakes up.
    c.sendControl(c.sndNxt, c.rcvNxt, ACK);
    c.established();
    c.output();
  } else {
    // Simultaneous open (RFC 9293 §3.5, figure 8).
    c.sndWnd = seg.window;
    c.state = 'SYN-RECEIVED';
    c.sendSyn(true);
  }
}

function reset(c: TcpConnection): void {
  switch (c.state) {
    case 'SYN-RECEIVED':
      // A passive open just goes away; an active one (simultaneous open) is refused.
      if (c.passive) c.finish(undefined);
      else c.fail('ECONNREFUSED');
      return;
    case 'CLOSE-WAIT':
      return c.fail('EPIPE'); // Linux tcp_reset()
    case 'CLOSING':
    case 'LAST-ACK':
      return c.finish(undefined);
    default:
      return c.fail('ECONNRESET');
  }
}

function setWindow(c: TcpConnection, seg: Segment): void {
  c.sndWnd = seg.window << c.sndWscale; // at most 0xffff << 14: no overflow
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
}

/** The ACK field in a synchronized state; false = drop the segment. */
function processAck(c: TcpConnection, seg: Segment): boolean {
  const ack = seg.ack;
  if (seqGt(ack, c.sndMax)) {
    c.sendControl(c.sndNxt, c.rcvNxt, ACK); // acknowledges something never sent
    return false;
  }
  if (seqGt(ack, c.sndUna)) {
    const acked = seqDiff(ack, c.sndUna);
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, c.sndBufSeq)), c.sendQ.length);
    if (dataAcked > 0) {
      c.sendQ.drop(dataAcked);
      c.sndBufSeq = seqAdd(c.sndBufSeq, dataAcked);
      add(c.rec, c.at + BYTES_ACKED, dataAcked);
    }
    c.sndUna = ack;
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
    c.sampleRtt(ack);
    c.retries = 0;
    grow(c, ack, acked);
    c.dupAcks = 0;
    if (c.sndUna === c.sndMax) c.cancelRto();
    else c.armRto(); // RFC 6298 (5.3)
  } else if (
    ack === c.sndUna &&
    seg.dataLen === 0 &&
    !(seg.flags & FIN) &&
    seg.window << c.sndWscale === c.sndWnd &&
    c.sndUna !== c.sndMax
  ) {
    // RFC 5681 §3.2: the third duplicate ACK triggers a fast retransmit.
    if (++c.dupAcks === 3 && c.recover === undefined) {
      c.ssthresh = Math.max(seqDiff(c.sndMax, c.sndUna) >>> 1, 2 * c.mss);
      c.cwnd = c.ssthresh;
      c.recover = c.sndMax;
      add(c.rec, c.at + FAST_RETRANSMITS, 1);
      c.retransmitHead();
    }
  }
  if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLe(c.sndWl2, ack))) {
    setWindow(c, seg);
  }
  const finAcked = c.finQueued && c.sndUna === seqAdd(seqAdd(c.sndBufSeq, c.sendQ.length), 1);
  if (!finAcked) return true;
  if (c.state === 'FIN-WAIT-1') c.state = 'FIN-WAIT-2';
  else if (c.state === 'CLOSING') c.enterTimeWait();
  else if (c.state === 'LAST-ACK') c.finish(undefined);
  return true;
}

/** Congestion window growth (RFC 5681 §3.1) and NewReno partial ACKs (RFC 6582). */
function grow(c: TcpConnection, ack: number, acked: number): void {
  if (c.recover !== undefined) {
    if (seqGe(ack, c.recover)) {
      c.recover = undefined;
      c.cwnd = c.ssthresh;
    } else {
      c.retransmitHead();
    }
  } else if (c.cwnd < c.ssthresh) {
    c.cwnd += Math.min(acked, c.mss);
  } else {
    c.cwnd += Math.max(1, Math.floor((c.mss * c.mss) / c.cwnd));
  }
}

/**
 * Segment text and FIN (RFC 9293 §3.10.7.4, seventh and eighth). The application and the
 * out-of-order queue get copies: the packet is recycled once the host has read it.
 */
function receiveText(c: TcpConnection, seg: Segment): void {
  if (c.state !== 'ESTABLISHED' && c.state !== 'FIN-WAIT-1' && c.state !== 'FIN-WAIT-2') return;
  let seq = seg.seq;
  let at = seg.dataAt;
  let len = seg.dataLen;
  let fin = (seg.flags & FIN) !== 0;
  const skip = seqDiff(c.rcvNxt, seq);
  if (skip > 0) {
    const cut = Math.min(skip, len);
    at += cut;
    len -= cut;
    seq = c.rcvNxt;
  }
  const room = c.rcvWnd() - seqDiff(seq, c.rcvNxt);
  if (len > room) {
    len = Math.max(0, room);
    fin = false;
  }
  if (len === 0 && !fin) return;
  if (seq !== c.rcvNxt) {
    // RFC 5681 §4.2: acknowledge an out-of-order segment at once (a duplicate ACK).
    c.ctx.count('tcp.outOfOrder');
    if (c.ctx.tcpConfig.reassemble) {
      const ooo = (c.ooo ??= new Reassembly());
      ooo.insert(seq, seg.bytes.subarray(at, at + len));
      if (fin) ooo.finSeq = seqAdd(seq, len);
    }
    c.ackPending = true;
    return;
  }
  c.rcvNxt = seqAdd(c.rcvNxt, len);
  const data = slabCopy(seg.bytes, at, at + len);
  const ooo = c.ooo;
  if (ooo === undefined) {
    // In order with nothing held back (the common case): no list of chunks to build.
    c.ackPending = true;
    if (len > 0) {
      add(c.rec, c.at + BYTES_RECEIVED, len);
      if (c.events !== undefined) c.events.tcpData(data);
      else c.onData?.(data);
      if (!open(c)) return;
    }
    if (fin) receiveFin(c);
    return;
  }
  const chunks = len > 0 ? [data] : [];
  for (const piece of ooo.pull(c.rcvNxt)) {
    chunks.push(piece);
    c.rcvNxt = seqAdd(c.rcvNxt, piece.length);
  }
  if (!fin && ooo.finSeq === c.rcvNxt) fin = true;
  c.ackPending = true;
  for (const chunk of chunks) {
    add(c.rec, c.at + BYTES_RECEIVED, chunk.length);
    if (c.events !== undefined) c.events.tcpData(chunk);
    else c.onData?.(chunk);
    if (!open(c)) return;
  }
  if (fin) receiveFin(c);
}

function receiveFin(c: TcpConnection): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.ooo = undefined;
  c.ackPending = true;
  if (c.state === 'ESTABLISHED') c.state = 'CLOSE-WAIT';
  else if (c.state === 'FIN-WAIT-1') c.state = 'CLOSING';
  else if (c.state === 'FIN-WAIT-2') {
    c.sendControl(c.sndNxt, c.rcvNxt, ACK);
    if (c.events !== undefined) c.events.tcpEnd();
    else c.onEnd?.();
    if (c.state === 'FIN-WAIT-2') c.enterTimeWait();
    return;
  }
  if (c.events !== undefined) c.events.tcpEnd();
  else c.onEnd?.();
}

/** TIME-WAIT (Linux tcp_timewait_state_process). */
function timeWait(c: TcpConnection, seg: Segment): boolean {
  const f = seg.flags;
  if (f & RST) {
    c.finish(undefined); // net.ipv4.tcp_rfc1337 = 0: an RST ends TIME-WAIT
    return false;
  }
  if ((f & (SYN | ACK)) === SYN && seqGt(seg.seq, c.rcvNxt)) {
    c.finish(undefined); // a new incarnation of the same 4-tuple may reuse it
    return true;
  }
  if (f & FIN || seg.dataLen > 0) {
    c.sendControl(c.sndNxt, c.rcvNxt, ACK); // the peer missed our last ACK
    if (f & FIN) c.enterTimeWait();
  }
  return false;
}

/** An ICMP error about our segment (Linux tcp_v4_err): fatal while connecting, else soft. */
export function icmpArrives(
  c: TcpConnection,
  type: number,
  code: number,
  from: number,
  quotedSeq: number,
): void {
  const e = icmpToErrno(type, code);
  if (e === undefined) return;
  // Only errors about data in flight count (between SND.UNA and SND.NXT).
  if (!seqInRange(quotedSeq, c.sndUna, seqAdd(c.sndMax, 1))) {
    c.ctx.count('tcp.icmpOutOfWindow');
    return;
  }
  const icmp = { type, code, from };
  if (c.state === 'SYN-SENT') return c.fail(e.code, icmp);
  if (c.state === 'SYN-RECEIVED') return c.finish(undefined);
  // Connected: a soft error, reported only if the connection later times out.
  c.softError = { code: e.code, icmp };
}
