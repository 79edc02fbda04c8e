// TCP connection tracking: nf_conntrack_tcp_packet() and tcp_new() from
// net/netfilter/nf_conntrack_proto_tcp.c (Linux 6.1), driven by numbers the dataplane pulls
// out of the header (flags, seq, ack, window, payload length) rather than by a packet.

import { TcpFlags } from '../packet/tcp.ts';
import { CtDir, CtStatus, CtVerdict, TcpState } from './constants.ts';
import type { ConntrackTable } from './table.ts';
import { S_IG, S_IV, TcpIndex, tcpFlagsValid, tcpIndex, tcpTransition } from './tcp-table.ts';
import { TcpSeenFlag, TcpWindows, before, segEnd } from './tcp-window.ts';
import { TCP_RETRANS_SLOT, TCP_UNACK_SLOT } from './timeouts.ts';

/** last_flags bits private to the kernel (IP_CT_EXP_CHALLENGE_ACK, IP_CT_TCP_SIMULTANEOUS_OPEN). */
const EXP_CHALLENGE_ACK = 0x40;
const SIMULTANEOUS_OPEN = 0x80;

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

  /** `timeouts` in ms as laid out by tcpTimeoutTable(). */
  constructor(
    private readonly t: ConntrackTable,
    private readonly timeouts: Float64Array,
    private readonly opts: TcpTrackerOptions,
  ) {
    this.w = new TcpWindows(t.max);
  }

  /** May a packet with these flags start a new entry? (tcp_error + tcp_new, no side effects.) */
  canCreate(flags: number): boolean {
    if (!tcpFlagsValid(flags)) return false;
    const first = tcpTransition(CtDir.ORIGINAL, tcpIndex(flags), TcpState.NONE);
    return first === TcpState.SYN_SENT || (first === TcpState.ESTABLISHED && this.opts.loose);
  }

  /**
   * Track one TCP segment of flow `ref` (entry*2 + dir): flags as in TcpFlags, seq/ack as u32,
   * the raw 16-bit window, TCP payload length, and the window-scale option of a SYN (-1 if
   * absent). `bytes` is the IP packet length for the counters. A new entry's first call runs
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
    seq >>>= 0;
    ack >>>= 0;
    win &= 0xffff;
    if (!tcpFlagsValid(flags)) return this.invalid(e);
    if (
      (t.status[e]! & CtStatus.CONFIRMED) === 0 &&
      !this.tcpNew(e, flags, seq, win, payloadLen, wscale)
    ) {
      return this.invalid(e);
    }

    let old = t.l4state[e]!;
    const index = tcpIndex(flags);
    let next = tcpTransition(dir, index, old);
    let checkWindow = true;

    if (next === TcpState.SYN_SENT && old >= TcpState.TIME_WAIT) {
      // RFC 1122: a SYN may reopen a closed connection: kill the entry and start over.
      if (
        (w.tdFlags[s]! | w.tdFlags[r]!) & TcpSeenFlag.CLOSE_INIT ||
        (w.lastDir[e] === dir && w.lastIndex[e] === TcpIndex.RST)
      ) {
        t.remove(e);
        return CtVerdict.REPEAT;
      }
      next = S_IG; // otherwise handled like an ignored packet
    }

    switch (next) {
      case S_IG: {
        // b) a SYN/ACK answering a SYN we ignored: both ends are in sync, we are not.
        if (
          index === TcpIndex.SYNACK &&
          w.lastIndex[e] === TcpIndex.SYN &&
          w.lastDir[e] !== dir &&
          ack === w.lastEnd[e]
        ) {
          old = TcpState.SYN_SENT;
          next = TcpState.SYN_RECV;
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
        if (index === TcpIndex.SYN && dir === CtDir.ORIGINAL) {
          w.lastFlags[e] = 0;
          w.lastWscale[e] = 0;
          if (wscale >= 0) {
            w.lastFlags[e] = TcpSeenFlag.WINDOW_SCALE;
            w.lastWscale[e] = wscale > 14 ? 14 : wscale;
          }
          if (old === TcpState.LAST_ACK) w.lastFlags[e]! |= EXP_CHALLENGE_ACK;
        }
        if (old === TcpState.SYN_SENT && index === TcpIndex.ACK && dir === CtDir.REPLY) {
          w.lastAck[e] = ack; // possible challenge ACK answering the SYN
        }
        return this.accepted(e, dir, CtVerdict.IGNORE);
      }
      case S_IV:
        return this.invalid(e);
      case TcpState.TIME_WAIT:
        // RFC 5961 challenge ACK answering a SYN must not be taken for the last ACK.
        if (
          old === TcpState.LAST_ACK &&
          index === TcpIndex.ACK &&
          w.lastDir[e] !== dir &&
          w.lastIndex[e] === TcpIndex.SYN &&
          w.lastFlags[e]! & EXP_CHALLENGE_ACK
        ) {
          w.lastFlags[e]! &= ~EXP_CHALLENGE_ACK;
          return this.accepted(e, dir, CtVerdict.IGNORE);
        }
        break;
      case TcpState.SYN_SENT2:
        w.lastFlags[e]! |= SIMULTANEOUS_OPEN;
        break;
      case TcpState.SYN_RECV:
        if (dir === CtDir.REPLY && index === TcpIndex.ACK && w.lastFlags[e]! & SIMULTANEOUS_OPEN) {
          next = TcpState.ESTABLISHED;
        }
        break;
      case TcpState.CLOSE:
        if (index !== TcpIndex.RST) break;
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
        this.opts.beLiberal,
      );
      if (res === CtVerdict.IGNORE) return this.accepted(e, dir, CtVerdict.IGNORE);
      if (res === CtVerdict.INVALID) {
        this.handleInvalid(e, dir, index, now);
        return this.invalid(e);
      }
    }

    // In-window from here on.
    w.lastIndex[e] = index;
    w.lastDir[e] = dir;
    t.l4state[e] = next;
    if (old !== next && next === TcpState.FIN_WAIT) w.tdFlags[s]! |= TcpSeenFlag.CLOSE_INIT;

    const to = this.timeouts;
    const limit = to[next]!;
    let timeout: number;
    if (w.retrans[e]! >= this.opts.maxRetrans && limit > to[TCP_RETRANS_SLOT]!) {
      timeout = to[TCP_RETRANS_SLOT]!;
    } else if (index === TcpIndex.RST) {
      timeout = to[TcpState.CLOSE]!;
    } else if (
      (w.tdFlags[e * 2]! | w.tdFlags[e * 2 + 1]!) & TcpSeenFlag.DATA_UNACKNOWLEDGED &&
      limit > to[TCP_UNACK_SLOT]!
    ) {
      timeout = to[TCP_UNACK_SLOT]!;
    } else if (w.lastWin[e] === 0 && limit > to[TCP_RETRANS_SLOT]!) {
      timeout = to[TCP_RETRANS_SLOT]!;
    } else {
      timeout = limit;
    }

    const status = t.status[e]!;
    if ((status & CtStatus.SEEN_REPLY) === 0) {
      // Only a RST came back: no connection to keep (the kernel kills it at once).
      if (flags & TcpFlags.RST) {
        t.remove(e);
        return CtVerdict.ACCEPT;
      }
      // Retransmitted SYN: do not renew, or port reuse could keep the entry alive forever.
      if (index === TcpIndex.SYN && old === TcpState.SYN_SENT) {
        return this.accepted(e, dir, CtVerdict.ACCEPT);
      }
      // Picked up mid-stream and unanswered: no 5-day timeout yet.
      if (next === TcpState.ESTABLISHED && timeout > to[TCP_UNACK_SLOT]!) {
        timeout = to[TCP_UNACK_SLOT]!;
      }
    } else if (
      (status & CtStatus.ASSURED) === 0 &&
      (old === TcpState.SYN_RECV || old === TcpState.ESTABLISHED) &&
      next === TcpState.ESTABLISHED
    ) {
      t.status[e] = status | CtStatus.ASSURED;
    }
    t.refresh(ref, now, timeout, bytes);
    return this.accepted(e, dir, CtVerdict.ACCEPT);
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
    if (old >= TcpState.FIN_WAIT && old <= TcpState.CLOSE) return TcpState.CLOSE | 0x80;
    let next: number = TcpState.CLOSE;
    const established = old === TcpState.ESTABLISHED && (t.status[e]! & CtStatus.ASSURED) !== 0;
    if (w.tdFlags[r]! & TcpSeenFlag.MAXACK_SET && w.lastIndex[e] !== TcpIndex.SYN) {
      if (seq === 0 && !established) return next;
      if (before(seq, w.tdMaxAck[r]!) && !this.opts.ignoreInvalidRst) return S_IV;
      if (!established || seq === w.tdMaxAck[r]) return next;
      // Part of a train: data then RST right after it.
      if (w.lastIndex[e] === TcpIndex.ACK && w.lastDir[e] === dir && seq === w.lastEnd[e]) {
        return next;
      }
      next = old; // sequence not exact: stay, a challenge ACK may follow
    }
    const status = t.status[e]!;
    if (
      ((status & CtStatus.SEEN_REPLY && w.lastIndex[e] === TcpIndex.SYN) ||
        ((status & CtStatus.ASSURED) === 0 && w.lastIndex[e] === TcpIndex.ACK)) &&
      ack === w.lastEnd[e]
    ) {
      return next | 0x80; // RST answering a SYN or ACK we let through
    }
    if (
      old === TcpState.SYN_SENT &&
      w.lastIndex[e] === TcpIndex.ACK &&
      w.lastDir[e] === CtDir.REPLY &&
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
    const first = tcpTransition(CtDir.ORIGINAL, tcpIndex(flags), TcpState.NONE);
    if (first >= S_IV) return false;
    if (first !== TcpState.SYN_SENT && !this.opts.loose) return false;
    const w = this.w;
    const s = e * 2;
    w.resetEntry(e);
    this.t.l4state[e] = TcpState.NONE;
    w.tdEnd[s] = segEnd(seq, flags, payloadLen);
    w.tdMaxWin[s] = win === 0 ? 1 : win;
    if (first === TcpState.SYN_SENT) {
      w.tdMaxEnd[s] = w.tdEnd[s]!;
      w.options(s, wscale);
    } else {
      // Mid-stream pickup: history lost; be liberal since window scaling is unknown.
      w.tdMaxEnd[s] = w.tdEnd[s]! + w.tdMaxWin[s]!;
      w.tdFlags[s] = TcpSeenFlag.SACK_PERM | TcpSeenFlag.BE_LIBERAL;
      w.tdFlags[s + 1] = TcpSeenFlag.SACK_PERM | TcpSeenFlag.BE_LIBERAL;
    }
    return true;
  }

  /** nf_tcp_handle_invalid: an out-of-window FIN/RST answering one lowers an assured timeout. */
  private handleInvalid(e: number, dir: number, index: number, now: number): void {
    const t = this.t;
    const w = this.w;
    if ((t.status[e]! & CtStatus.ASSURED) === 0) return;
    if (index !== TcpIndex.RST && index !== TcpIndex.FIN) return;
    const li = w.lastIndex[e];
    if (w.lastDir[e] !== dir && (li === TcpIndex.FIN || li === TcpIndex.RST)) {
      const left = t.expires[e]! - now;
      const unack = this.timeouts[TCP_UNACK_SLOT]!;
      if (left >= 120_000 && left > unack) t.expires[e] = now + unack;
    } else {
      w.lastIndex[e] = index;
      w.lastDir[e] = dir;
    }
  }

  /** The packet belongs to the flow: the core marks SEEN_REPLY and confirms the entry. */
  private accepted(e: number, dir: number, v: CtVerdict): CtVerdict {
    this.t.status[e]! |= CtStatus.CONFIRMED | (dir === CtDir.REPLY ? CtStatus.SEEN_REPLY : 0);
    return v;
  }

  /** Count an INVALID packet; an entry that never got confirmed is thrown away. */
  private invalid(e: number): CtVerdict {
    this.t.stats.invalid++;
    if ((this.t.status[e]! & CtStatus.CONFIRMED) === 0) this.t.remove(e);
    return CtVerdict.INVALID;
  }
}
