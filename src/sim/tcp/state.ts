// Connection states (RFC 9293 §3.3.2) and the per-connection counters.

export type TcpState =
  | 'CLOSED'
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

export interface TcpStats {
  segmentsSent: number;
  segmentsReceived: number;
  /** Application bytes sent for the first time. */
  bytesSent: number;
  bytesRetransmitted: number;
  bytesAcked: number;
  /** Application bytes delivered in order. */
  bytesReceived: number;
  /** Segments sent again (timeouts and fast retransmits). */
  retransmits: number;
  /** Retransmission-timer expiries. */
  timeouts: number;
  fastRetransmits: number;
  /** RFC 6298 state, ns (0 before the first sample). */
  srttNs: number;
  rttvarNs: number;
  rtoNs: number;
  lastRttNs: number;
  /** Virtual times (ns) of the opening and of reaching ESTABLISHED / being closed. */
  openedAt: number;
  establishedAt: number | undefined;
  closedAt: number | undefined;
}

/** States after the handshake in which segments carry data or FIN. */
export const SYNCHRONIZED: ReadonlySet<TcpState> = new Set([
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
]);

/** SYNCHRONIZED.has(state), as comparisons (called per segment sent). */
export function isSynchronized(state: TcpState): boolean {
  return (
    state === 'ESTABLISHED' ||
    state === 'FIN-WAIT-1' ||
    state === 'FIN-WAIT-2' ||
    state === 'CLOSE-WAIT' ||
    state === 'CLOSING' ||
    state === 'LAST-ACK'
  );
}
