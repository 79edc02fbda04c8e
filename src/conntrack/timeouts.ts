// Conntrack timeouts, in seconds, with the Linux defaults (the net.netfilter.nf_conntrack_*
// sysctls). Time itself is the caller's: every `now` given to conntrack is in MILLISECONDS from
// one monotonic clock (the simulator's virtual clock, or performance.now() in the lab).

export interface Timeouts {
  /** nf_conntrack_tcp_timeout_syn_sent (2 min). */
  readonly tcpSynSent: number;
  /** nf_conntrack_tcp_timeout_syn_recv (60 s). */
  readonly tcpSynRecv: number;
  /** nf_conntrack_tcp_timeout_established (5 days). */
  readonly tcpEstablished: number;
  /** nf_conntrack_tcp_timeout_fin_wait (2 min). */
  readonly tcpFinWait: number;
  /** nf_conntrack_tcp_timeout_close_wait (60 s). */
  readonly tcpCloseWait: number;
  /** nf_conntrack_tcp_timeout_last_ack (30 s). */
  readonly tcpLastAck: number;
  /** nf_conntrack_tcp_timeout_time_wait (2 min). */
  readonly tcpTimeWait: number;
  /** nf_conntrack_tcp_timeout_close (10 s). */
  readonly tcpClose: number;
  /** SYN_SENT2, simultaneous open (2 min; no sysctl of its own). */
  readonly tcpSynSent2: number;
  /** nf_conntrack_tcp_timeout_max_retrans (5 min): cap after 3 retransmissions. */
  readonly tcpMaxRetrans: number;
  /** nf_conntrack_tcp_timeout_unacknowledged (5 min): cap while data is unacknowledged. */
  readonly tcpUnacknowledged: number;
  /** nf_conntrack_udp_timeout (30 s): until the flow is a stream. */
  readonly udp: number;
  /** nf_conntrack_udp_timeout_stream (120 s): replied and still active after 2 s. */
  readonly udpStream: number;
  /** nf_conntrack_icmp_timeout (30 s). */
  readonly icmp: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({
  tcpSynSent: 120,
  tcpSynRecv: 60,
  tcpEstablished: 432000,
  tcpFinWait: 120,
  tcpCloseWait: 60,
  tcpLastAck: 30,
  tcpTimeWait: 120,
  tcpClose: 10,
  tcpSynSent2: 120,
  tcpMaxRetrans: 300,
  tcpUnacknowledged: 300,
  udp: 30,
  udpStream: 120,
  icmp: 30,
});

/** Defaults overridden by `partial`; throws on a negative or non-finite value (config error). */
export function resolveTimeouts(partial: Partial<Timeouts> = {}): Timeouts {
  const t: Timeouts = { ...DEFAULT_TIMEOUTS, ...partial };
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`conntrack timeout ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  return Object.freeze(t);
}

/** Slots of the per-state TCP timeout array, in milliseconds. */
export const TCP_RETRANS_SLOT = 10;
export const TCP_UNACK_SLOT = 11;

/**
 * TCP timeouts in ms indexed by TcpState, then RETRANS and UNACK at slots 10 and 11 — the
 * layout of tcp_timeouts[TCP_CONNTRACK_TIMEOUT_MAX] in nf_conntrack_proto_tcp.c.
 */
export function tcpTimeoutTable(t: Timeouts): Float64Array {
  return Float64Array.from(
    [
      t.tcpClose, // NONE: never used as a timeout (tcp_new moves on at once)
      t.tcpSynSent,
      t.tcpSynRecv,
      t.tcpEstablished,
      t.tcpFinWait,
      t.tcpCloseWait,
      t.tcpLastAck,
      t.tcpTimeWait,
      t.tcpClose,
      t.tcpSynSent2,
      t.tcpMaxRetrans,
      t.tcpUnacknowledged,
    ],
    (s) => s * 1000,
  );
}
