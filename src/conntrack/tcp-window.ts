// Per-direction TCP window tracking: tcp_in_window() from net/netfilter/nf_conntrack_proto_tcp.c
// (Linux 6.1), after Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter":
//   I.   seq <= sender.td_maxend                           (upper bound for data)
//   II.  seq + len >= sender.td_end - receiver.td_maxwin   (lower bound for data)
//   III. ack <= receiver.td_end                            (upper bound for ack)
//   IV.  ack >= receiver.td_end - MAXACKWINDOW             (lower bound for ack)
// Simplifications: SACK blocks are not parsed (sack = ack), no NAT sequence adjustment. Window
// scaling is honoured when the caller passes the SYN's wscale option; otherwise it is off.

import { TcpFlags } from '../packet/tcp.ts';
import { CtDir, CtVerdict, TcpState } from './constants.ts';
import { TcpIndex } from './tcp-table.ts';
/** seen[dir].flags bits (IP_CT_TCP_FLAG_* in uapi nf_conntrack_tcp.h). */
export const TcpSeenFlag = {
  WINDOW_SCALE: 0x01,
  SACK_PERM: 0x02,
  CLOSE_INIT: 0x04,
  BE_LIBERAL: 0x08,
  DATA_UNACKNOWLEDGED: 0x10,
  MAXACK_SET: 0x20,
} as const;

// Enum members as module constants: read per packet, each would otherwise be a
// module-binding load plus a property load.
const CtDir_REPLY = CtDir.REPLY;
const CtVerdict_ACCEPT = CtVerdict.ACCEPT;
const CtVerdict_IGNORE = CtVerdict.IGNORE;
const CtVerdict_INVALID = CtVerdict.INVALID;
const TcpFlags_ACK = TcpFlags.ACK;
const TcpFlags_FIN = TcpFlags.FIN;
const TcpFlags_RST = TcpFlags.RST;
const TcpFlags_SYN = TcpFlags.SYN;
const TcpIndex_ACK = TcpIndex.ACK;
const TcpIndex_NONE = TcpIndex.NONE;
const TcpSeenFlag_BE_LIBERAL = TcpSeenFlag.BE_LIBERAL;
const TcpSeenFlag_DATA_UNACKNOWLEDGED = TcpSeenFlag.DATA_UNACKNOWLEDGED;
const TcpSeenFlag_MAXACK_SET = TcpSeenFlag.MAXACK_SET;
const TcpSeenFlag_WINDOW_SCALE = TcpSeenFlag.WINDOW_SCALE;
const TcpState_SYN_RECV = TcpState.SYN_RECV;
const TcpState_SYN_SENT = TcpState.SYN_SENT;
const TcpState_ESTABLISHED = TcpState.ESTABLISHED;

const TCP_MAX_WSCALE = 14;
const MAXACKWINCONST = 66000;

/** a is before b in sequence space (kernel before()). */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
/** a is after b in sequence space (kernel after()). */
export function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}
function seqEq(a: number, b: number): boolean {
  return ((a - b) | 0) === 0;
}

/** segment_seq_plus_len: the sequence number just past this segment (SYN and FIN count one). */
export function segEnd(seq: number, flags: number, payloadLen: number): number {
  const extra = (flags & TcpFlags_SYN ? 1 : 0) + (flags & TcpFlags_FIN ? 1 : 0);
  return (seq + payloadLen + extra) | 0;
}

/**
 * ip_ct_tcp_state for both directions of every entry, indexed by node (entry*2 + dir).
 * Sequence numbers are int32 bit patterns (the windows, tdMaxWin, stay u32): compared modulo
 * 2^32 like the kernel's u32s, they stay small integers when passed or stored, where a u32
 * over 2^31 is a heap number at every call that does not inline.
 */
export class TcpWindows {
  readonly tdEnd: Int32Array;
  readonly tdMaxEnd: Int32Array;
  readonly tdMaxWin: Uint32Array;
  readonly tdMaxAck: Int32Array;
  readonly tdScale: Uint8Array;
  readonly tdFlags: Uint8Array;
  // Per entry: the last packet seen (ct->proto.tcp.last_*), for retransmissions and resyncs.
  readonly lastIndex: Uint8Array;
  readonly lastDir: Uint8Array;
  readonly lastFlags: Uint8Array;
  readonly lastWscale: Uint8Array;
  readonly lastSeq: Int32Array;
  readonly lastAck: Int32Array;
  readonly lastEnd: Int32Array;
  readonly lastWin: Int32Array;
  readonly retrans: Uint8Array;

  constructor(max: number) {
    this.tdEnd = new Int32Array(max * 2);
    this.tdMaxEnd = new Int32Array(max * 2);
    this.tdMaxWin = new Uint32Array(max * 2);
    this.tdMaxAck = new Int32Array(max * 2);
    this.tdScale = new Uint8Array(max * 2);
    this.tdFlags = new Uint8Array(max * 2);
    this.lastIndex = new Uint8Array(max);
    this.lastDir = new Uint8Array(max);
    this.lastFlags = new Uint8Array(max);
    this.lastWscale = new Uint8Array(max);
    this.lastSeq = new Int32Array(max);
    this.lastAck = new Int32Array(max);
    this.lastEnd = new Int32Array(max);
    this.lastWin = new Int32Array(max);
    this.retrans = new Uint8Array(max);
  }

  /** nf_ct_tcp_state_reset for one direction. */
  resetDir(n: number): void {
    this.tdEnd[n] = 0;
    this.tdMaxEnd[n] = 0;
    this.tdMaxWin[n] = 0;
    this.tdMaxAck[n] = 0;
    this.tdScale[n] = 0;
    this.tdFlags[n]! &= TcpSeenFlag_BE_LIBERAL;
  }

  /** The memset of ct->proto.tcp in tcp_new. */
  resetEntry(e: number): void {
    this.resetDir(e * 2);
    this.resetDir(e * 2 + 1);
    this.tdFlags[e * 2] = 0;
    this.tdFlags[e * 2 + 1] = 0;
    this.lastIndex[e] = TcpIndex_NONE;
    this.lastDir[e] = 0;
    this.lastFlags[e] = 0;
    this.lastWscale[e] = 0;
    this.lastSeq[e] = 0;
    this.lastAck[e] = 0;
    this.lastEnd[e] = 0;
    this.lastWin[e] = 0;
    this.retrans[e] = 0;
  }

  /** tcp_options for a SYN: wscale is the window-scale option's shift, or -1 if absent. */
  options(n: number, wscale: number): void {
    this.tdScale[n] = 0;
    this.tdFlags[n]! &= TcpSeenFlag_BE_LIBERAL;
    if (wscale >= 0) {
      this.tdScale[n] = wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : wscale;
      this.tdFlags[n]! |= TcpSeenFlag_WINDOW_SCALE;
    }
  }

  /** tcp_init_sender: a SYN/ACK answering a SYN, or a SYN from the reply side. */
  initSender(s: number, r: number, end: number, win: number, wscale: number, dir: number): void {
    this.tdEnd[s] = end;
    this.tdMaxEnd[s] = end;
    this.tdMaxWin[s] = win === 0 ? 1 : win;
    this.options(s, wscale);
    // RFC 1323: scaling is on only if both sides sent the option.
    const both = this.tdFlags[s]! & this.tdFlags[r]! & TcpSeenFlag_WINDOW_SCALE;
    if (dir === CtDir_REPLY && !both) {
      this.tdScale[s] = 0;
      this.tdScale[r] = 0;
    }
  }

  /**
   * inWindow() for a segment of an ESTABLISHED entry whose flags besides PSH/ECE/CWR are
   * just ACK, when the sender's window is known: the four bounds, then the updates, with
   * nothing of the SYN, RST and no-ACK cases in between. Whatever falls outside the bounds
   * goes to inWindow() itself (nothing has been written by then), so the verdict and every
   * array end up as inWindow() leaves them.
   */
  inWindowAck(
    e: number,
    dir: number,
    flags: number,
    seq: number,
    ack: number,
    win: number,
    payloadLen: number,
    liberal: boolean,
  ): CtVerdict {
    const s = e * 2 + dir;
    const r = s ^ 1;
    const tdEnd = this.tdEnd;
    const tdMaxEnd = this.tdMaxEnd;
    const tdMaxWin = this.tdMaxWin;
    const maxWinS = tdMaxWin[s]!;
    const maxWinR = tdMaxWin[r]!;
    const endR = tdEnd[r]!;
    const end = (seq + payloadLen) | 0;
    const maxAckWin = maxWinS > MAXACKWINCONST ? maxWinS : MAXACKWINCONST;
    if (
      maxWinS === 0 ||
      ((seq - tdMaxEnd[s]! - 1) | 0) >= 0 || // I: seq <= td_maxend
      ((ack - endR - 1) | 0) >= 0 || // III: ack <= receiver's td_end
      (maxWinR !== 0 && ((tdEnd[s]! - maxWinR - 1 - end) | 0) >= 0) || // II
      ((endR - maxAckWin - 1 - ack) | 0) >= 0 // IV
    ) {
      return this.inWindow(
        e,
        dir,
        TcpIndex_ACK,
        TcpState_ESTABLISHED,
        flags,
        seq,
        ack,
        win,
        payloadLen,
        -1,
        liberal,
      );
    }
    const tdFlags = this.tdFlags;
    const scaled = win << this.tdScale[s]!;
    if (maxWinS < scaled) tdMaxWin[s] = scaled;
    if (((tdEnd[s]! - end) | 0) < 0) {
      tdEnd[s] = end;
      tdFlags[s]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
    }
    if (!(tdFlags[s]! & TcpSeenFlag_MAXACK_SET)) {
      this.tdMaxAck[s] = ack;
      tdFlags[s]! |= TcpSeenFlag_MAXACK_SET;
    } else if (((this.tdMaxAck[s]! - ack) | 0) < 0) {
      this.tdMaxAck[s] = ack;
    }
    const maxEndS = tdMaxEnd[s]!;
    if (maxWinR !== 0 && ((maxEndS - end) | 0) < 0) {
      tdMaxWin[r] = tdMaxWin[r]! + ((end - maxEndS) >>> 0);
    }
    if (((tdMaxEnd[r]! - 1 - (ack + scaled)) | 0) < 0) {
      tdMaxEnd[r] = ack + scaled + (scaled === 0 ? 1 : 0);
    }
    if (((ack - endR) | 0) === 0) tdFlags[r]! &= ~TcpSeenFlag_DATA_UNACKNOWLEDGED;
    // Count retransmissions of the same pure ACK.
    if (
      this.lastDir[e] === dir &&
      this.lastSeq[e] === seq &&
      this.lastAck[e] === ack &&
      this.lastEnd[e] === end &&
      this.lastWin[e] === win
    ) {
      if (this.retrans[e]! < 255) this.retrans[e]!++;
    } else {
      this.lastDir[e] = dir;
      this.lastSeq[e] = seq;
      this.lastAck[e] = ack;
      this.lastEnd[e] = end;
      this.lastWin[e] = win;
      this.retrans[e] = 0;
    }
    return CtVerdict_ACCEPT;
  }

  /**
   * tcp_in_window for a packet of entry e in direction dir. `state` is the entry's stored TCP
   * state; `liberal` is nf_conntrack_tcp_be_liberal. Returns ACCEPT, IGNORE or INVALID.
   */
  inWindow(
    e: number,
    dir: number,
    index: number,
    state: number,
    flags: number,
    seq: number,
    ack: number,
    win: number,
    payloadLen: number,
    wscale: number,
    liberal: boolean,
  ): CtVerdict {
    const lastAck = this.lastAck;
    const lastDir = this.lastDir;
    const lastEnd = this.lastEnd;
    const lastSeq = this.lastSeq;
    const lastWin = this.lastWin;
    const retrans = this.retrans;
    const tdEnd = this.tdEnd;
    const tdFlags = this.tdFlags;
    const tdMaxAck = this.tdMaxAck;
    const tdMaxEnd = this.tdMaxEnd;
    const tdMaxWin = this.tdMaxWin;
    const tdScale = this.tdScale;
    const s = e * 2 + dir;
    const r = e * 2 + (dir ^ 1);
    const syn = (flags & TcpFlags_SYN) !== 0;
    const hasAck = (flags & TcpFlags_ACK) !== 0;
    const rst = (flags & TcpFlags_RST) !== 0;
    const winRaw = win;
    let end = segEnd(seq, flags, payloadLen);
    let sack = ack;

    if (tdMaxWin[s] === 0) {
      if (syn) {
        this.initSender(s, r, end, win, wscale, dir);
        if (!hasAck) return CtVerdict_ACCEPT; // simultaneous open
      } else {
        // Mid-stream: history lost, trust the packet.
        tdEnd[s] = end;
        const swin = win << tdScale[s]!;
        tdMaxWin[s] = swin === 0 ? 1 : swin;
        tdMaxEnd[s] = end + tdMaxWin[s]!;
        if (tdMaxWin[r] === 0) {
          tdEnd[r] = sack;
          tdMaxEnd[r] = sack;
        } else if (seqEq(sack, tdEnd[r]! + 1)) {
          tdEnd[r] = tdEnd[r]! + 1; // likely a keepalive reply
        }
      }
    } else if (
      syn &&
      after(end, tdEnd[s]!) &&
      (state === TcpState_SYN_SENT || state === TcpState_SYN_RECV)
    ) {
      // RFC 793: a reinitialised SYN(-ACK) with a higher sequence restarts this direction.
      this.initSender(s, r, end, win, wscale, dir);
      if (dir === CtDir_REPLY && !hasAck) return CtVerdict_ACCEPT;
    }

    if (!hasAck || (rst && ack === 0)) {
      // No ACK (or a broken RST+ACK with ack 0): pretend it acks everything seen.
      ack = sack = tdEnd[r]!;
    }
    if (rst && seq === 0 && state === TcpState_SYN_SENT) {
      seq = end = tdEnd[s]!; // RST answering a SYN
    }

    // nf_tcp_log_invalid: a liberal tracker lets every out-of-window packet through.
    const lax = liberal || (tdFlags[s]! & TcpSeenFlag_BE_LIBERAL) !== 0;
    const maxAckWin = tdMaxWin[s]! > MAXACKWINCONST ? tdMaxWin[s]! : MAXACKWINCONST;

    if (!before(seq, tdMaxEnd[s]! + 1)) {
      // I fails: SEQ over the receiver's window.
      const overshot = (end - tdMaxEnd[s]! + 1) >>> 0;
      const ackOk = after(sack, tdEnd[r]! - maxAckWin - 1);
      const inRecvWin = tdMaxWin[r] !== 0 && after(end, tdEnd[s]! - tdMaxWin[r]! - 1);
      if (inRecvWin && ackOk && overshot <= tdMaxWin[r]! && before(sack, tdEnd[r]! + 1)) {
        // A TCP sending a little more than allowed: remember the data, ignore the packet.
        tdEnd[s] = end;
        tdFlags[s]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
        return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;
      }
      return lax ? CtVerdict_ACCEPT : CtVerdict_INVALID;
    }
    // III: ACK for data never seen.
    if (!before(sack, tdEnd[r]! + 1)) return lax ? CtVerdict_ACCEPT : CtVerdict_INVALID;
    // II: already-acked data retransmitted.
    const inRecvWin = tdMaxWin[r] === 0 || after(end, tdEnd[s]! - tdMaxWin[r]! - 1);
    if (!inRecvWin) return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;
    // IV: overly delayed ACK.
    if (!after(sack, tdEnd[r]! - maxAckWin - 1)) return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;

    if (!syn) win = win << tdScale[s]!;
    // Update the sender.
    if (tdMaxWin[s]! < win) tdMaxWin[s] = win;
    if (after(end, tdEnd[s]!)) {
      tdEnd[s] = end;
      tdFlags[s]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
    }
    if (hasAck) {
      if (!(tdFlags[s]! & TcpSeenFlag_MAXACK_SET)) {
        tdMaxAck[s] = ack;
        tdFlags[s]! |= TcpSeenFlag_MAXACK_SET;
      } else if (after(ack, tdMaxAck[s]!)) {
        tdMaxAck[s] = ack;
      }
    }
    // Update the receiver.
    if (tdMaxWin[r] !== 0 && after(end, tdMaxEnd[s]!)) {
      tdMaxWin[r] = tdMaxWin[r]! + ((end - tdMaxEnd[s]!) >>> 0);
    }
    if (after(sack + win, tdMaxEnd[r]! - 1)) {
      tdMaxEnd[r] = sack + win + (win === 0 ? 1 : 0);
    }
    if (seqEq(ack, tdEnd[r]!)) tdFlags[r]! &= ~TcpSeenFlag_DATA_UNACKNOWLEDGED;

    // Count retransmissions of the same pure ACK.
    if (index === TcpIndex_ACK) {
      if (
        lastDir[e] === dir &&
        lastSeq[e] === (seq | 0) &&
        lastAck[e] === (ack | 0) &&
        lastEnd[e] === end &&
        lastWin[e] === winRaw
      ) {
        if (retrans[e]! < 255) retrans[e]!++;
      } else {
        lastDir[e] = dir;
        lastSeq[e] = seq;
        lastAck[e] = ack;
        lastEnd[e] = end;
        lastWin[e] = winRaw;
        retrans[e] = 0;
      }
    }
    return CtVerdict_ACCEPT;
  }
}
