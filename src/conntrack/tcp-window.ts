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
  return (seq + payloadLen + extra) >>> 0;
}

/**
 * One entry's TCP tracking state as a 64-byte record (16 u32 words), both directions and
 * the last packet together: a segment touches one record instead of a cache line in each
 * of fifteen per-field arrays (with thousands of short flows in flight, those lines are
 * cold by the time the flow's next segment comes). Word offsets from e << 4; direction
 * d's window (ip_ct_tcp_state.seen[d]) starts at word d << 2.
 */
export const W_END = 0; // td_end
export const W_MAXEND = 1; // td_maxend
export const W_MAXWIN = 2; // td_maxwin
export const W_MAXACK = 3; // td_maxack
export const L_SEQ = 8; // ct->proto.tcp.last_seq
export const L_ACK = 9;
export const L_END = 10;
export const L_WIN = 11;
/** Byte offsets from e << 6 (the u8 view): direction d's scale and flags at + (d << 1). */
export const B_SCALE = 48; // td_scale
export const B_FLAGS = 49; // flags (TcpSeenFlag)
export const B_LINDEX = 52; // last_index
export const B_LDIR = 53; // last_dir
export const B_LFLAGS = 54; // last_flags
export const B_LWSCALE = 55; // last_wscale
export const B_RETRANS = 56; // retrans
const WORDS = 16;

/** The TCP side of one direction, for tests and views. */
export interface TcpDirState {
  end: number;
  maxEnd: number;
  maxWin: number;
  maxAck: number;
  scale: number;
  flags: number;
}

/** ip_ct_tcp for every entry: one record per entry, see W_* / L_* / B_*. */
export class TcpWindows {
  /** The records as u32 words (windows, last_seq/ack/end/win). */
  readonly u32: Uint32Array;
  /** The same records as bytes (scale, flags, last_index/dir/flags/wscale, retrans). */
  readonly u8: Uint8Array;

  constructor(max: number) {
    const buf = new ArrayBuffer(max * WORDS * 4);
    this.u32 = new Uint32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  /** Direction `dir` of entry e, copied out (tests, debugging). */
  dirState(e: number, dir: number): TcpDirState {
    const o = (e << 4) + (dir << 2);
    const b = (e << 6) + (dir << 1);
    return {
      end: this.u32[o + W_END]!,
      maxEnd: this.u32[o + W_MAXEND]!,
      maxWin: this.u32[o + W_MAXWIN]!,
      maxAck: this.u32[o + W_MAXACK]!,
      scale: this.u8[b + B_SCALE]!,
      flags: this.u8[b + B_FLAGS]!,
    };
  }

  /** Entry e's last-packet fields: index, dir, flags, wscale, seq, ack, end, win, retrans. */
  lastState(e: number): number[] {
    const o = e << 4;
    const b = e << 6;
    const u = this.u32;
    const u8 = this.u8;
    return [
      u8[b + B_LINDEX]!,
      u8[b + B_LDIR]!,
      u8[b + B_LFLAGS]!,
      u8[b + B_LWSCALE]!,
      u[o + L_SEQ]!,
      u[o + L_ACK]!,
      u[o + L_END]!,
      u[o + L_WIN]!,
      u8[b + B_RETRANS]!,
    ];
  }

  /** nf_ct_tcp_state_reset for direction `dir` of entry e. */
  resetDir(e: number, dir: number): void {
    const o = (e << 4) + (dir << 2);
    const b = (e << 6) + (dir << 1);
    this.u32[o + W_END] = 0;
    this.u32[o + W_MAXEND] = 0;
    this.u32[o + W_MAXWIN] = 0;
    this.u32[o + W_MAXACK] = 0;
    this.u8[b + B_SCALE] = 0;
    this.u8[b + B_FLAGS]! &= TcpSeenFlag_BE_LIBERAL;
  }

  /** The memset of ct->proto.tcp in tcp_new. */
  resetEntry(e: number): void {
    this.u32.fill(0, e << 4, (e + 1) << 4);
    this.u8[(e << 6) + B_LINDEX] = TcpIndex_NONE;
  }

  /** tcp_options for a SYN: wscale is the window-scale option's shift, or -1 if absent. */
  options(e: number, dir: number, wscale: number): void {
    const b = (e << 6) + (dir << 1);
    const u8 = this.u8;
    u8[b + B_SCALE] = 0;
    u8[b + B_FLAGS]! &= TcpSeenFlag_BE_LIBERAL;
    if (wscale >= 0) {
      u8[b + B_SCALE] = wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : wscale;
      u8[b + B_FLAGS]! |= TcpSeenFlag_WINDOW_SCALE;
    }
  }

  /** tcp_init_sender: a SYN/ACK answering a SYN, or a SYN from the reply side. */
  initSender(e: number, dir: number, end: number, win: number, wscale: number): void {
    const s = (e << 4) + (dir << 2);
    const u8 = this.u8;
    this.u32[s + W_END] = end;
    this.u32[s + W_MAXEND] = end;
    this.u32[s + W_MAXWIN] = win === 0 ? 1 : win;
    this.options(e, dir, wscale);
    // RFC 1323: scaling is on only if both sides sent the option.
    const sb = (e << 6) + (dir << 1);
    const rb = (e << 6) + ((dir ^ 1) << 1);
    const both = u8[sb + B_FLAGS]! & u8[rb + B_FLAGS]! & TcpSeenFlag_WINDOW_SCALE;
    if (dir === CtDir_REPLY && !both) {
      u8[sb + B_SCALE] = 0;
      u8[rb + B_SCALE] = 0;
    }
  }

  /**
   * inWindow() for a segment of an ESTABLISHED entry whose flags besides PSH/ECE/CWR are
   * just ACK, when the sender's window is known: the four bounds, then the updates, with
   * nothing of the SYN, RST and no-ACK cases in between. Whatever falls outside the bounds
   * goes to inWindow() itself (nothing has been written by then), so the verdict and every
   * field end up as inWindow() leaves them.
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
    const u = this.u32;
    const u8 = this.u8;
    const o = e << 4;
    const s = o + (dir << 2);
    const r = o + ((dir ^ 1) << 2);
    const maxWinS = u[s + W_MAXWIN]!;
    const maxWinR = u[r + W_MAXWIN]!;
    const endR = u[r + W_END]!;
    const endS = u[s + W_END]!;
    const end = (seq + payloadLen) >>> 0;
    const maxAckWin = maxWinS > MAXACKWINCONST ? maxWinS : MAXACKWINCONST;
    if (
      maxWinS === 0 ||
      ((seq - u[s + W_MAXEND]! - 1) | 0) >= 0 || // I: seq <= td_maxend
      ((ack - endR - 1) | 0) >= 0 || // III: ack <= receiver's td_end
      (maxWinR !== 0 && ((endS - maxWinR - 1 - end) | 0) >= 0) || // II
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
    const sb = (e << 6) + (dir << 1);
    const rb = (e << 6) + ((dir ^ 1) << 1);
    const scaled = win << u8[sb + B_SCALE]!;
    if (maxWinS < scaled) u[s + W_MAXWIN] = scaled;
    if (((endS - end) | 0) < 0) {
      u[s + W_END] = end;
      u8[sb + B_FLAGS]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
    }
    if (!(u8[sb + B_FLAGS]! & TcpSeenFlag_MAXACK_SET)) {
      u[s + W_MAXACK] = ack;
      u8[sb + B_FLAGS]! |= TcpSeenFlag_MAXACK_SET;
    } else if (((u[s + W_MAXACK]! - ack) | 0) < 0) {
      u[s + W_MAXACK] = ack;
    }
    const maxEndS = u[s + W_MAXEND]!;
    if (maxWinR !== 0 && ((maxEndS - end) | 0) < 0) {
      u[r + W_MAXWIN] = maxWinR + ((end - maxEndS) >>> 0);
    }
    if (((u[r + W_MAXEND]! - 1 - (ack + scaled)) | 0) < 0) {
      u[r + W_MAXEND] = ack + scaled + (scaled === 0 ? 1 : 0);
    }
    if (((ack - endR) | 0) === 0) u8[rb + B_FLAGS]! &= ~TcpSeenFlag_DATA_UNACKNOWLEDGED;
    // Count retransmissions of the same pure ACK.
    const b = e << 6;
    if (
      u8[b + B_LDIR] === dir &&
      u[o + L_SEQ] === seq &&
      u[o + L_ACK] === ack &&
      u[o + L_END] === end &&
      u[o + L_WIN] === win
    ) {
      if (u8[b + B_RETRANS]! < 255) u8[b + B_RETRANS]!++;
    } else {
      u8[b + B_LDIR] = dir;
      u[o + L_SEQ] = seq;
      u[o + L_ACK] = ack;
      u[o + L_END] = end;
      u[o + L_WIN] = win;
      u8[b + B_RETRANS] = 0;
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
    const u = this.u32;
    const u8 = this.u8;
    const o = e << 4;
    const b = e << 6;
    const s = o + (dir << 2);
    const r = o + ((dir ^ 1) << 2);
    const sb = b + (dir << 1);
    const rb = b + ((dir ^ 1) << 1);
    const syn = (flags & TcpFlags_SYN) !== 0;
    const hasAck = (flags & TcpFlags_ACK) !== 0;
    const rst = (flags & TcpFlags_RST) !== 0;
    const winRaw = win;
    let end = segEnd(seq, flags, payloadLen);
    let sack = ack;

    if (u[s + W_MAXWIN] === 0) {
      if (syn) {
        this.initSender(e, dir, end, win, wscale);
        if (!hasAck) return CtVerdict_ACCEPT; // simultaneous open
      } else {
        // Mid-stream: history lost, trust the packet.
        u[s + W_END] = end;
        const swin = win << u8[sb + B_SCALE]!;
        u[s + W_MAXWIN] = swin === 0 ? 1 : swin;
        u[s + W_MAXEND] = end + u[s + W_MAXWIN]!;
        if (u[r + W_MAXWIN] === 0) {
          u[r + W_END] = sack;
          u[r + W_MAXEND] = sack;
        } else if (seqEq(sack, u[r + W_END]! + 1)) {
          u[r + W_END] = u[r + W_END]! + 1; // likely a keepalive reply
        }
      }
    } else if (
      syn &&
      after(end, u[s + W_END]!) &&
      (state === TcpState_SYN_SENT || state === TcpState_SYN_RECV)
    ) {
      // RFC 793: a reinitialised SYN(-ACK) with a higher sequence restarts this direction.
      this.initSender(e, dir, end, win, wscale);
      if (dir === CtDir_REPLY && !hasAck) return CtVerdict_ACCEPT;
    }

    if (!hasAck || (rst && ack === 0)) {
      // No ACK (or a broken RST+ACK with ack 0): pretend it acks everything seen.
      ack = sack = u[r + W_END]!;
    }
    if (rst && seq === 0 && state === TcpState_SYN_SENT) {
      seq = end = u[s + W_END]!; // RST answering a SYN
    }

    // nf_tcp_log_invalid: a liberal tracker lets every out-of-window packet through.
    const lax = liberal || (u8[sb + B_FLAGS]! & TcpSeenFlag_BE_LIBERAL) !== 0;
    const maxWinS = u[s + W_MAXWIN]!;
    const maxAckWin = maxWinS > MAXACKWINCONST ? maxWinS : MAXACKWINCONST;

    if (!before(seq, u[s + W_MAXEND]! + 1)) {
      // I fails: SEQ over the receiver's window.
      const overshot = (end - u[s + W_MAXEND]! + 1) >>> 0;
      const ackOk = after(sack, u[r + W_END]! - maxAckWin - 1);
      const maxWinR = u[r + W_MAXWIN]!;
      const inRecvWin = maxWinR !== 0 && after(end, u[s + W_END]! - maxWinR - 1);
      if (inRecvWin && ackOk && overshot <= maxWinR && before(sack, u[r + W_END]! + 1)) {
        // A TCP sending a little more than allowed: remember the data, ignore the packet.
        u[s + W_END] = end;
        u8[sb + B_FLAGS]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
        return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;
      }
      return lax ? CtVerdict_ACCEPT : CtVerdict_INVALID;
    }
    // III: ACK for data never seen.
    if (!before(sack, u[r + W_END]! + 1)) return lax ? CtVerdict_ACCEPT : CtVerdict_INVALID;
    // II: already-acked data retransmitted.
    const inRecvWin = u[r + W_MAXWIN] === 0 || after(end, u[s + W_END]! - u[r + W_MAXWIN]! - 1);
    if (!inRecvWin) return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;
    // IV: overly delayed ACK.
    if (!after(sack, u[r + W_END]! - maxAckWin - 1))
      return lax ? CtVerdict_ACCEPT : CtVerdict_IGNORE;

    if (!syn) win = win << u8[sb + B_SCALE]!;
    // Update the sender.
    if (u[s + W_MAXWIN]! < win) u[s + W_MAXWIN] = win;
    if (after(end, u[s + W_END]!)) {
      u[s + W_END] = end;
      u8[sb + B_FLAGS]! |= TcpSeenFlag_DATA_UNACKNOWLEDGED;
    }
    if (hasAck) {
      if (!(u8[sb + B_FLAGS]! & TcpSeenFlag_MAXACK_SET)) {
        u[s + W_MAXACK] = ack;
        u8[sb + B_FLAGS]! |= TcpSeenFlag_MAXACK_SET;
      } else if (after(ack, u[s + W_MAXACK]!)) {
        u[s + W_MAXACK] = ack;
      }
    }
    // Update the receiver.
    if (u[r + W_MAXWIN] !== 0 && after(end, u[s + W_MAXEND]!)) {
      u[r + W_MAXWIN] = u[r + W_MAXWIN]! + ((end - u[s + W_MAXEND]!) >>> 0);
    }
    if (after(sack + win, u[r + W_MAXEND]! - 1)) {
      u[r + W_MAXEND] = sack + win + (win === 0 ? 1 : 0);
    }
    if (seqEq(ack, u[r + W_END]!)) u8[rb + B_FLAGS]! &= ~TcpSeenFlag_DATA_UNACKNOWLEDGED;

    // Count retransmissions of the same pure ACK.
    if (index === TcpIndex_ACK) {
      if (
        u8[b + B_LDIR] === dir &&
        u[o + L_SEQ] === seq >>> 0 &&
        u[o + L_ACK] === ack >>> 0 &&
        u[o + L_END] === end &&
        u[o + L_WIN] === winRaw
      ) {
        if (u8[b + B_RETRANS]! < 255) u8[b + B_RETRANS]!++;
      } else {
        u8[b + B_LDIR] = dir;
        u[o + L_SEQ] = seq;
        u[o + L_ACK] = ack;
        u[o + L_END] = end;
        u[o + L_WIN] = winRaw;
        u8[b + B_RETRANS] = 0;
      }
    }
    return CtVerdict_ACCEPT;
  }
}
