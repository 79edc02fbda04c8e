// TCP connection tracking: nf_conntrack_tcp_packet() and tcp_new() from
// net/netfilter/nf_conntrack_proto_tcp.c (Linux 6.1), driven by numbers the dataplane pulls
// out of the header (flags, seq, ack, window, payload length) rather than by a packet.

import { TcpFlags } from '../packet/tcp.ts';
import { CtDir, CtStatus, CtVerdict, TcpState } from './constants.ts';
import type { ConntrackTable } from './table.ts';
import {
  S_IG as SIG,
  S_IV as SIV,
  TcpIndex,
  tcpFlagsValid,
  tcpIndex,
  tcpTransition,
} from './tcp-table.ts';
import { TcpSeenFlag, TcpWindows, before, segEnd } from './tcp-window.ts';
import { TCP_RETRANS_SLOT, TCP_UNACK_SLOT } from './timeouts.ts';

// Enum members as module constants: read per packet, each would otherwise be a
// module-binding load plus a property load.
const CtDir_ORIGINAL = CtDir.ORIGINAL;
const CtDir_REPLY = CtDir.REPLY;
const CtStatus_ASSURED = CtStatus.ASSURED;
const CtStatus_CONFIRMED = CtStatus.CONFIRMED;
const CtStatus_SEEN_REPLY = CtStatus.SEEN_REPLY;
const CtVerdict_ACCEPT = CtVerdict.ACCEPT;
const CtVerdict_IGNORE = CtVerdict.IGNORE;
const CtVerdict_INVALID = CtVerdict.INVALID;
const CtVerdict_REPEAT = CtVerdict.REPEAT;
const TcpFlags_RST = TcpFlags.RST;
const TcpIndex_ACK = TcpIndex.ACK;
const TcpIndex_FIN = TcpIndex.FIN;
const TcpIndex_RST = TcpIndex.RST;
const TcpIndex_SYN = TcpIndex.SYN;
const TcpIndex_SYNACK = TcpIndex.SYNACK;
const TcpSeenFlag_BE_LIBERAL = TcpSeenFlag.BE_LIBERAL;
const TcpSeenFlag_CLOSE_INIT = TcpSeenFlag.CLOSE_INIT;
const TcpSeenFlag_DATA_UNACKNOWLEDGED = TcpSeenFlag.DATA_UNACKNOWLEDGED;
const TcpSeenFlag_MAXACK_SET = TcpSeenFlag.MAXACK_SET;
const TcpSeenFlag_SACK_PERM = TcpSeenFlag.SACK_PERM;
const TcpSeenFlag_WINDOW_SCALE = TcpSeenFlag.WINDOW_SCALE;
const TcpState_CLOSE = TcpState.CLOSE;
const TcpState_ESTABLISHED = TcpState.ESTABLISHED;
const TcpState_FIN_WAIT = TcpState.FIN_WAIT;
const TcpState_LAST_ACK = TcpState.LAST_ACK;
const TcpState_NONE = TcpState.NONE;
const TcpState_SYN_RECV = TcpState.SYN_RECV;
const TcpState_SYN_SENT = TcpState.SYN_SENT;
const TcpState_SYN_SENT2 = TcpState.SYN_SENT2;
const TcpState_TIME_WAIT = TcpState.TIME_WAIT;
/** last_flags bits private to the kernel (IP_CT_EXP_CHALLENGE_ACK, IP_CT_TCP_SIMULTANEOUS_OPEN). */
const EXP_CHALLENGE_ACK = 0x40;
const SIMULTANEOUS_OPEN = 0x80;
const RETRANS_SLOT = TCP_RETRANS_SLOT;
const S_IG = SIG;
const S_IV = SIV;
const UNACK_SLOT = TCP_UNACK_SLOT;
/** Flags that decide the state machine's path (PSH, ECE, CWR do not). */
const FAST_FLAGS_MASK = TcpFlags.FIN | TcpFlags.SYN | TcpFlags.RST | TcpFlags.ACK | TcpFlags.URG;

let tcpFastPath = true;
/** For tests: turn the ESTABLISHED + ACK shortcut off, to compare it with the full path. */
export function setTcpFastPath(on: boolean): void {
  tcpFastPath = on;
}

export interface TcpTrackerOptions {
  /** nf_conntrack_tcp_loose: pick up connections from a mid-stream ACK (default true). */
  readonly loose: boolean;
  /** nf_conntrack_tcp_be_liberal: never mark out-of-window packets INVALID (default false). */
  readonly beLiberal: boolean;
  /** nf_conntrack_tcp_max_retrans (default 3). */
  readonly maxRetrans: number;
  /** nf_conntrack_tcp_ignore_invalid_rst (default false). */
  readonly ignoreInvalidRst: boolean;
}

export class TcpTracker {
  readonly w: TcpWindows;
  // Options read per packet, copied out of the options object.
  private readonly beLiberal: boolean;
  private readonly maxRetrans: number;

  /** `timeouts` in ms as laid out by tcpTimeoutTable(). */
  constructor(
    private readonly t: ConntrackTable,
    private readonly timeouts: Float64Array,
    private readonly opts: TcpTrackerOptions,
  ) {
    this.w = new TcpWindows(t.max);
    this.beLiberal = opts.beLiberal;
    this.maxRetrans = opts.maxRetrans;
  }

  /** May a packet with these flags start a new entry? (tcp_error + tcp_new, no side effects.) */
  canCreate(flags: number): boolean {
    if (!tcpFlagsValid(flags)) return false;
    const first = tcpTransition(CtDir_ORIGINAL, tcpIndex(flags), TcpState_NONE);
    return first === TcpState_SYN_SENT || (first === TcpState_ESTABLISHED && this.opts.loose);
  }

  /**
   * Track one TCP segment of flow `ref` (entry*2 + dir): flags as in TcpFlags, seq/ack as 32
   * bits (u32 or int32: int32 passes without a heap number), the raw 16-bit window, TCP
   * payload length, and the window-scale option of a SYN (-1 if absent). `bytes` is the IP packet length for the counters. A new entry's first call runs
   * tcp_new; if that refuses, the entry is removed and INVALID returned.
   */
  packet(
    ref: number,
    now: number,
    bytes: number,
    flags: number,
    seq: number,
    ack: number,
    win: number,
    payloadLen: number,
    wscale = -1,
  ): CtVerdict {
    const t = this.t;
    const w = this.w;
    const e = ref >> 1;
    const dir = ref & 1;
    const s = e * 2 + dir;
    const r = s ^ 1;
    seq |= 0;
    ack |= 0;
    win &= 0xffff;
    if (
      (flags & FAST_FLAGS_MASK) === TcpFlags.ACK &&
      t.l4state[e] === TcpState_ESTABLISHED &&
      (t.status[e]! & CtStatus_CONFIRMED) !== 0 &&
      tcpFastPath
    ) {
      return this.establishedAck(ref, e, dir, now, bytes, flags, seq, ack, win, payloadLen);
    }
    if (!tcpFlagsValid(flags)) return this.invalid(e);
    if (
      (t.status[e]! & CtStatus_CONFIRMED) === 0 &&
      !this.tcpNew(e, flags, seq, win, payloadLen, wscale)
    ) {
      return this.invalid(e);
    }

    let old = t.l4state[e]!;
    const index = tcpIndex(flags);
    let next = tcpTransition(dir, index, old);
    let checkWindow = true;

    if (next === TcpState_SYN_SENT && old >= TcpState_TIME_WAIT) {
      // RFC 1122: a SYN may reopen a closed connection: kill the entry and start over.
      if (
        (w.tdFlags[s]! | w.tdFlags[r]!) & TcpSeenFlag_CLOSE_INIT ||
        (w.lastDir[e] === dir && w.lastIndex[e] === TcpIndex_RST)
      ) {
        t.remove(e);
        return CtVerdict_REPEAT;
      }
      next = S_IG; // otherwise handled like an ignored packet
    }

    switch (next) {
      case S_IG: {
        // b) a SYN/ACK answering a SYN we ignored: both ends are in sync, we are not.
        if (
          index === TcpIndex_SYNACK &&
          w.lastIndex[e] === TcpIndex_SYN &&
          w.lastDir[e] !== dir &&
          ack === w.lastEnd[e]
        ) {
          old = TcpState_SYN_SENT;
          next = TcpState_SYN_RECV;
          const l = e * 2 + w.lastDir[e]!;
          w.tdEnd[l] = w.lastEnd[e]!;
          w.tdMaxEnd[l] = w.lastEnd[e]!;
          w.tdMaxWin[l] = w.lastWin[e] === 0 ? 1 : w.lastWin[e]!;
          w.tdScale[l] = w.lastWscale[e]!;
          w.lastFlags[e]! &= ~EXP_CHALLENGE_ACK;
          w.tdFlags[l] = w.lastFlags[e]!;
          w.resetDir(s);
          break;
        }
        w.lastIndex[e] = index;
        w.lastDir[e] = dir;
        w.lastSeq[e] = seq;
        w.lastEnd[e] = segEnd(seq, flags, payloadLen);
        w.lastWin[e] = win;
        // a) a SYN in ORIGINAL while we think the connection is up: note its options.
        if (index === TcpIndex_SYN && dir === CtDir_ORIGINAL) {
          w.lastFlags[e] = 0;
          w.lastWscale[e] = 0;
          if (wscale >= 0) {
            w.lastFlags[e] = TcpSeenFlag_WINDOW_SCALE;
            w.lastWscale[e] = wscale > 14 ? 14 : wscale;
          }
          if (old === TcpState_LAST_ACK) w.lastFlags[e]! |= EXP_CHALLENGE_ACK;
        }
        if (old === TcpState_SYN_SENT && index === TcpIndex_ACK && dir === CtDir_REPLY) {
          w.lastAck[e] = ack; // possible challenge ACK answering the SYN
        }
        return this.accepted(e, dir, CtVerdict_IGNORE);
      }
      case S_IV:
        return this.invalid(e);
      case TcpState_TIME_WAIT:
        // RFC 5961 challenge ACK answering a SYN must not be taken for the last ACK.
        if (
          old === TcpState_LAST_ACK &&
          index === TcpIndex_ACK &&
          w.lastDir[e] !== dir &&
          w.lastIndex[e] === TcpIndex_SYN &&
          w.lastFlags[e]! & EXP_CHALLENGE_ACK
        ) {
          w.lastFlags[e]! &= ~EXP_CHALLENGE_ACK;
          return this.accepted(e, dir, CtVerdict_IGNORE);
        }
        break;
      case TcpState_SYN_SENT2:
        w.lastFlags[e]! |= SIMULTANEOUS_OPEN;
        break;
      case TcpState_SYN_RECV:
        if (dir === CtDir_REPLY && index === TcpIndex_ACK && w.lastFlags[e]! & SIMULTANEOUS_OPEN) {
          next = TcpState_ESTABLISHED;
        }
        break;
      case TcpState_CLOSE:
        if (index !== TcpIndex_RST) break;
        next = this.checkRst(e, dir, old, seq, ack);
        if (next === S_IV) return this.invalid(e);
        if (next >= 0x80) {
          next &= 0x7f;
          checkWindow = false;
        }
        break;
    }

    if (checkWindow) {
      const state = t.l4state[e]!;
      const res = w.inWindow(
        e,
        dir,
        index,
        state,
        flags,
        seq,
        ack,
        win,
        payloadLen,
        wscale,
        this.beLiberal,
      );
      if (res === CtVerdict_IGNORE) return this.accepted(e, dir, CtVerdict_IGNORE);
      if (res === CtVerdict_INVALID) {
        this.handleInvalid(e, dir, index, now);
        return this.invalid(e);
      }
    }

    // In-window from here on.
    w.lastIndex[e] = index;
    w.lastDir[e] = dir;
    t.l4state[e] = next;
    if (old !== next && next === TcpState_FIN_WAIT) w.tdFlags[s]! |= TcpSeenFlag_CLOSE_INIT;

    const to = this.timeouts;
    const limit = to[next]!;
    let timeout: number;
    if (w.retrans[e]! >= this.maxRetrans && limit > to[RETRANS_SLOT]!) {
      timeout = to[RETRANS_SLOT]!;
    } else if (index === TcpIndex_RST) {
      timeout = to[TcpState_CLOSE]!;
    } else if (
      (w.tdFlags[e * 2]! | w.tdFlags[e * 2 + 1]!) & TcpSeenFlag_DATA_UNACKNOWLEDGED &&
      limit > to[UNACK_SLOT]!
    ) {
      timeout = to[UNACK_SLOT]!;
    } else if (w.lastWin[e] === 0 && limit > to[RETRANS_SLOT]!) {
      timeout = to[RETRANS_SLOT]!;
    } else {
      timeout = limit;
    }

    const status = t.status[e]!;
    if ((status & CtStatus_SEEN_REPLY) === 0) {
      // Only a RST came back: no connection to keep (the kernel kills it at once).
      if (flags & TcpFlags_RST) {
        t.remove(e);
        return CtVerdict_ACCEPT;
      }
      // Retransmitted SYN: do not renew, or port reuse could keep the entry alive forever.
      if (index === TcpIndex_SYN && old === TcpState_SYN_SENT) {
        return this.accepted(e, dir, CtVerdict_ACCEPT);
      }
      // Picked up mid-stream and unanswered: no 5-day timeout yet.
      if (next === TcpState_ESTABLISHED && timeout > to[UNACK_SLOT]!) {
        timeout = to[UNACK_SLOT]!;
      }
    } else if (
      (status & CtStatus_ASSURED) === 0 &&
      (old === TcpState_SYN_RECV || old === TcpState_ESTABLISHED) &&
      next === TcpState_ESTABLISHED
    ) {
      t.status[e] = status | CtStatus_ASSURED;
    }
    t.refresh(ref, now, timeout, bytes);
    return this.accepted(e, dir, CtVerdict_ACCEPT);
  }

  /**
   * packet() for the common case: a confirmed ESTABLISHED entry and a segment whose only
   * flags besides PSH/ECE/CWR are ACK. Such flags are always valid, their index is ACK,
   * ESTABLISHED + ACK stays ESTABLISHED in both directions and no special case of the
   * state switch applies, so what is left is the window check and the timer: the same
   * steps packet() takes for it, without the table walks in between.
   */
  private establishedAck(
    ref: number,
    e: number,
    dir: number,
    now: number,
    bytes: number,
    flags: number,
    seq: number,
    ack: number,
    win: number,
    payloadLen: number,
  ): CtVerdict {
    const t = this.t;
    const w = this.w;
    const res = w.inWindowAck(e, dir, flags, seq, ack, win, payloadLen, this.beLiberal);
    if (res === CtVerdict_IGNORE) return this.accepted(e, dir, CtVerdict_IGNORE);
    if (res === CtVerdict_INVALID) {
      this.handleInvalid(e, dir, TcpIndex_ACK, now);
      return this.invalid(e);
    }
    w.lastIndex[e] = TcpIndex_ACK;
    w.lastDir[e] = dir;
    const to = this.timeouts;
    const limit = to[TcpState_ESTABLISHED]!;
    let timeout: number;
    if (w.retrans[e]! >= this.maxRetrans && limit > to[RETRANS_SLOT]!) {
      timeout = to[RETRANS_SLOT]!;
    } else if (
      (w.tdFlags[e * 2]! | w.tdFlags[e * 2 + 1]!) & TcpSeenFlag_DATA_UNACKNOWLEDGED &&
      limit > to[UNACK_SLOT]!
    ) {
      timeout = to[UNACK_SLOT]!;
    } else if (w.lastWin[e] === 0 && limit > to[RETRANS_SLOT]!) {
      timeout = to[RETRANS_SLOT]!;
    } else {
      timeout = limit;
    }
    const status = t.status[e]!;
    if ((status & CtStatus_SEEN_REPLY) === 0) {
      if (timeout > to[UNACK_SLOT]!) timeout = to[UNACK_SLOT]!;
    } else if ((status & CtStatus_ASSURED) === 0) {
      t.status[e] = status | CtStatus_ASSURED;
    }
    t.refresh(ref, now, timeout, bytes);
    return this.accepted(e, dir, CtVerdict_ACCEPT);
  }

  /**
   * The RST branch of the TCP_CONNTRACK_CLOSE case. Returns the new state, S_IV for an
   * invalid RST, or state | 0x80 when the window check must be skipped (goto in_window).
   */
  private checkRst(e: number, dir: number, old: number, seq: number, ack: number): number {
    const w = this.w;
    const t = this.t;
    const r = e * 2 + (dir ^ 1);
    // Closing already (tcp_can_early_drop): the tuple may be reused, skip validation.
    if (old >= TcpState_FIN_WAIT && old <= TcpState_CLOSE) return TcpState_CLOSE | 0x80;
    let next: number = TcpState_CLOSE;
    const established = old === TcpState_ESTABLISHED && (t.status[e]! & CtStatus_ASSURED) !== 0;
    if (w.tdFlags[r]! & TcpSeenFlag_MAXACK_SET && w.lastIndex[e] !== TcpIndex_SYN) {
      if (seq === 0 && !established) return next;
      if (before(seq, w.tdMaxAck[r]!) && !this.opts.ignoreInvalidRst) return S_IV;
      if (!established || seq === w.tdMaxAck[r]) return next;
      // Part of a train: data then RST right after it.
      if (w.lastIndex[e] === TcpIndex_ACK && w.lastDir[e] === dir && seq === w.lastEnd[e]) {
        return next;
      }
      next = old; // sequence not exact: stay, a challenge ACK may follow
    }
    const status = t.status[e]!;
    if (
      ((status & CtStatus_SEEN_REPLY && w.lastIndex[e] === TcpIndex_SYN) ||
        ((status & CtStatus_ASSURED) === 0 && w.lastIndex[e] === TcpIndex_ACK)) &&
      ack === w.lastEnd[e]
    ) {
      return next | 0x80; // RST answering a SYN or ACK we let through
    }
    if (
      old === TcpState_SYN_SENT &&
      w.lastIndex[e] === TcpIndex_ACK &&
      w.lastDir[e] === CtDir_REPLY &&
      seq === w.lastAck[e]
    ) {
      return next | 0x80; // RST answering a challenge ACK
    }
    return next;
  }

  /** tcp_new: set up the ORIGINAL side from the first packet; false if it cannot start a flow. */
  private tcpNew(
    e: number,
    flags: number,
    seq: number,
    win: number,
    payloadLen: number,
    wscale: number,
  ): boolean {
    const first = tcpTransition(CtDir_ORIGINAL, tcpIndex(flags), TcpState_NONE);
    if (first >= S_IV) return false;
    if (first !== TcpState_SYN_SENT && !this.opts.loose) return false;
    const w = this.w;
    const s = e * 2;
    w.resetEntry(e);
    this.t.l4state[e] = TcpState_NONE;
    w.tdEnd[s] = segEnd(seq, flags, payloadLen);
    w.tdMaxWin[s] = win === 0 ? 1 : win;
    if (first === TcpState_SYN_SENT) {
      w.tdMaxEnd[s] = w.tdEnd[s]!;
      w.options(s, wscale);
    } else {
      // Mid-stream pickup: history lost; be liberal since window scaling is unknown.
      w.tdMaxEnd[s] = w.tdEnd[s]! + w.tdMaxWin[s]!;
      w.tdFlags[s] = TcpSeenFlag_SACK_PERM | TcpSeenFlag_BE_LIBERAL;
      w.tdFlags[s + 1] = TcpSeenFlag_SACK_PERM | TcpSeenFlag_BE_LIBERAL;
    }
    return true;
  }

  /** nf_tcp_handle_invalid: an out-of-window FIN/RST answering one lowers an assured timeout. */
  private handleInvalid(e: number, dir: number, index: number, now: number): void {
    const t = this.t;
    const w = this.w;
    if ((t.status[e]! & CtStatus_ASSURED) === 0) return;
    if (index !== TcpIndex_RST && index !== TcpIndex_FIN) return;
    const li = w.lastIndex[e];
    if (w.lastDir[e] !== dir && (li === TcpIndex_FIN || li === TcpIndex_RST)) {
      const left = t.expires[e]! - now;
      const unack = this.timeouts[UNACK_SLOT]!;
      if (left >= 120_000 && left > unack) t.expires[e] = now + unack;
    } else {
      w.lastIndex[e] = index;
      w.lastDir[e] = dir;
    }
  }

  /** The packet belongs to the flow: the core marks SEEN_REPLY and confirms the entry. */
  private accepted(e: number, dir: number, v: CtVerdict): CtVerdict {
    this.t.status[e]! |= CtStatus_CONFIRMED | (dir === CtDir_REPLY ? CtStatus_SEEN_REPLY : 0);
    return v;
  }

  /** Count an INVALID packet; an entry that never got confirmed is thrown away. */
  private invalid(e: number): CtVerdict {
    this.t.stats.invalid++;
    if ((this.t.status[e]! & CtStatus_CONFIRMED) === 0) this.t.remove(e);
    return CtVerdict_INVALID;
  }
}
