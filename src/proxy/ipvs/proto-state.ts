// IPVS's per-protocol connection states: the TCP state machine of ip_vs_proto_tcp.c
// (tcp_states[], the non-"secure_tcp" table) -- IPVS does not track sequence numbers, so the
// next state depends only on the direction and on the first of RST, SYN, FIN, ACK in the
// segment -- and ip_vs_set_state(), which moves a connection between the server's ActiveConn
// and InActConn and re-arms its timeout.
import {
  ConnFlag,
  Dir,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TcpState,
} from './constants.ts';
import { R_ACTIVE, R_INACT, REC } from './arena.ts';
import type { ConnTable } from './conn-table.ts';

const sES = TcpState.ESTABLISHED;
const sSS = TcpState.SYN_SENT;
const sSR = TcpState.SYN_RECV;
const sFW = TcpState.FIN_WAIT;
const sTW = TcpState.TIME_WAIT;
const sCL = TcpState.CLOSE;
const sCW = TcpState.CLOSE_WAIT;
const sLA = TcpState.LAST_ACK;
const sLI = TcpState.LISTEN;

const N = 11;

// Imported constants copied to module constants: read per packet, each would otherwise be a
// module-binding load (plus a property load for the enum objects).
const F_TEMPLATE = ConnFlag.TEMPLATE;
const F_NOOUTPUT = ConnFlag.NOOUTPUT;
const F_INACTIVE = ConnFlag.INACTIVE;
const D_OUTPUT = Dir.OUTPUT;
const D_INPUT_ONLY = Dir.INPUT_ONLY;
const P_TCP = IPPROTO_TCP;
const P_SCTP = IPPROTO_SCTP;
const T_ESTABLISHED = TcpState.ESTABLISHED;
const T_CLOSE = TcpState.CLOSE;
const SYN = TCP_SYN;
const ACK = TCP_ACK;
const FIN = TCP_FIN;
const RST = TCP_RST;
const SYN_ACK_FIN_RST = TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST;

/* prettier-ignore */
const TABLE = Uint8Array.from([
  // INPUT        NO   ES   sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
  /* syn */       sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR,
  /* fin */       sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW,
  /* ack */       sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES,
  /* rst */       sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR,
  // OUTPUT
  /* syn */       sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR,
  /* fin */       sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW,
  /* ack */       sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES,
  /* rst */       sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL,
  // INPUT-ONLY
  /* syn */       sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR,
  /* fin */       sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW,
  /* ack */       sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES,
  /* rst */       sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL,
]);

/** tcp_state_idx(): rst 3, syn 0, fin 1, ack 2, none -1. */
function stateIdx(tcpFlags: number): number {
  if (tcpFlags & RST) return 3;
  if (tcpFlags & SYN) return 0;
  if (tcpFlags & FIN) return 1;
  if (tcpFlags & ACK) return 2;
  return -1;
}

/** set_tcp_state(): the state after a segment; a segment with no known flag goes to CLOSE. */
export function tcpNextState(state: number, dir: Dir, tcpFlags: number): number {
  const idx = stateIdx(tcpFlags);
  if (idx < 0) return TcpState.CLOSE;
  return TABLE[(dir * 4 + idx) * N + state]!;
}

/** tcp_conn_schedule(): only a bare SYN opens a connection (sloppy_tcp = 0). */
export function isTcpSyn(tcpFlags: number): boolean {
  return (tcpFlags & SYN_ACK_FIN_RST) === SYN;
}

/** sctp_state_name_table[7]; svclab tracks SCTP as NONE until a reply, then ESTABLISHED. */
export const SCTP_ESTABLISHED = 7;

/** Per-protocol timeouts in seconds (tcp by state, udp), as `ipvsadm --set` edits them. */
export interface StateTimeouts {
  readonly tcp: readonly number[];
  readonly udp: number;
}

/** ip_vs_set_state(): protocol state transition, Active/InAct move, the new state's timeout. */
export function setConnState(
  c: ConnTable,
  id: number,
  dir: Dir,
  tcpFlags: number,
  timeouts: StateTimeouts,
): void {
  const proto = c.proto[id];
  const f = c.flags[id]!;
  if ((f & F_TEMPLATE) !== 0) return;
  const state = c.state[id]!;
  let next: number;
  let timeout: number;
  if (proto === P_TCP) {
    let off: Dir = dir;
    if ((f & F_NOOUTPUT) !== 0) {
      if (dir === D_OUTPUT) c.flags[id] = f & ~F_NOOUTPUT;
      else off = D_INPUT_ONLY;
    }
    const idx = stateIdx(tcpFlags);
    next = idx < 0 ? T_CLOSE : TABLE[(off * 4 + idx) * N + state]!;
    timeout = timeouts.tcp[next]!;
  } else if (proto === P_SCTP) {
    next = dir === D_OUTPUT || state === SCTP_ESTABLISHED ? SCTP_ESTABLISHED : 0;
    timeout = next === SCTP_ESTABLISHED ? 900 : 2;
  } else {
    // UDP (and anything else): one state, one timeout.
    c.timeoutMs[id] = timeouts.udp * 1000;
    return;
  }
  if (next !== state) {
    const ds = c.destSlot[id]!;
    if (ds >= 0) {
      // The server's ActiveConn/InActConn, in its arena record.
      const i32 = c.arena.i32;
      const r = ds * REC;
      const established = proto === P_TCP ? T_ESTABLISHED : SCTP_ESTABLISHED;
      const fl = c.flags[id]!;
      const inactive = (fl & F_INACTIVE) !== 0;
      if (!inactive && next !== established) {
        i32[r + R_ACTIVE] = i32[r + R_ACTIVE]! - 1;
        i32[r + R_INACT] = i32[r + R_INACT]! + 1;
        c.flags[id] = fl | F_INACTIVE;
      } else if (inactive && next === established) {
        i32[r + R_ACTIVE] = i32[r + R_ACTIVE]! + 1;
        i32[r + R_INACT] = i32[r + R_INACT]! - 1;
        c.flags[id] = fl & ~F_INACTIVE;
      }
    }
    c.state[id] = next;
  }
  c.timeoutMs[id] = timeout * 1000;
}
