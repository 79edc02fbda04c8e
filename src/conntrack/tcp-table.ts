// The TCP state transition table, ported from tcp_conntracks[2][6][TCP_CONNTRACK_MAX] in
// net/netfilter/nf_conntrack_proto_tcp.c (Linux 6.1), with the packet classification that
// indexes it (get_conntrack_index) and the valid flag combinations (tcp_valid_flags).

import { TcpFlags } from '../packet/tcp.ts';
import { TcpState } from './constants.ts';

/** Packet classes, enum tcp_bit_set: the middle index of the transition table. */
export const TcpIndex = { SYN: 0, SYNACK: 1, FIN: 2, ACK: 3, RST: 4, NONE: 5 } as const;

/** Pseudo-states in the table: sIV (invalid) = TCP_CONNTRACK_MAX, sIG (ignore). */
export const S_IV = 10;
export const S_IG = 11;

const sSS = TcpState.SYN_SENT;
const sSR = TcpState.SYN_RECV;
const sES = TcpState.ESTABLISHED;
const sFW = TcpState.FIN_WAIT;
const sCW = TcpState.CLOSE_WAIT;
const sLA = TcpState.LAST_ACK;
const sTW = TcpState.TIME_WAIT;
const sCL = TcpState.CLOSE;
const sS2 = TcpState.SYN_SENT2;
const sIV = S_IV;
const sIG = S_IG;

// prettier-ignore
const ROWS: readonly (readonly number[])[] = [
  // ORIGINAL      sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2
  /* syn    */   [ sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 ],
  /* synack */   [ sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR ],
  /* fin    */   [ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV ],
  /* ack    */   [ sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV ],
  /* rst    */   [ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL ],
  /* none   */   [ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV ],
  // REPLY         sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2
  /* syn    */   [ sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 ],
  /* synack */   [ sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR ],
  /* fin    */   [ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV ],
  /* ack    */   [ sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG ],
  /* rst    */   [ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL ],
  /* none   */   [ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV ],
];

/** Flattened table: TCP_CONNTRACKS[(dir * 6 + index) * 10 + oldState] = newState. */
export const TCP_CONNTRACKS: Uint8Array = Uint8Array.from(ROWS.flat());

/** tcp_conntracks[dir][index][old]. */
export function tcpTransition(dir: number, index: number, old: number): number {
  return TCP_CONNTRACKS[(dir * 6 + index) * 10 + old]!;
}

/** get_conntrack_index: RST wins, then SYN (with or without ACK), FIN, ACK. */
export function tcpIndex(flags: number): number {
  if (flags & R) return I_RST;
  if (flags & S) return flags & A ? I_SYNACK : I_SYN;
  if (flags & F) return I_FIN;
  if (flags & A) return I_ACK;
  return I_NONE;
}

const F = TcpFlags.FIN;
const S = TcpFlags.SYN;
const R = TcpFlags.RST;
const A = TcpFlags.ACK;
const U = TcpFlags.URG;
const I_SYN = TcpIndex.SYN;
const I_SYNACK = TcpIndex.SYNACK;
const I_FIN = TcpIndex.FIN;
const I_ACK = TcpIndex.ACK;
const I_RST = TcpIndex.RST;
const I_NONE = TcpIndex.NONE;
const VALID = new Uint8Array(F | S | R | A | U | 1);
for (const f of [S, S | U, S | A, R, R | A, F | A, F | A | U, A, A | U]) VALID[f] = 1;

/** tcp_error's flag check: PSH, ECE and CWR are always fine; the rest must be a known combo. */
export function tcpFlagsValid(flags: number): boolean {
  return VALID[flags & (F | S | R | A | U)] === 1;
}
