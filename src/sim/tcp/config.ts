// Tunables of the simulated TCP endpoint; the defaults follow Linux's where an RFC
// leaves room (sysctl names in the comments).
import { MILLISECOND, SECOND } from '../../control/clock.ts';

export interface TcpConfig {
  /** MSS we announce and never exceed (1500-byte MTU minus 40). */
  mss: number;
  /** Receive buffer = the window we advertise (Linux's first window on a 1500 MTU: 64240). */
  rcvBuf: number;
  /** Window scale shift we offer (RFC 7323), or false to offer none. Linux offers 7. */
  windowScale: number | false;
  /** RFC 6298 initial RTO (1 s). */
  initialRtoNs: number;
  /** Lower bound of the RTO: Linux TCP_RTO_MIN is 200 ms (RFC 6298 says 1 s). */
  minRtoNs: number;
  /** Upper bound after backoff: Linux TCP_RTO_MAX, 120 s. */
  maxRtoNs: number;
  /** SYN retransmissions before ETIMEDOUT (net.ipv4.tcp_syn_retries = 6: ~127 s). */
  synRetries: number;
  /** SYN/ACK retransmissions (net.ipv4.tcp_synack_retries = 5). */
  synAckRetries: number;
  /** Data retransmissions before ETIMEDOUT (net.ipv4.tcp_retries2 = 15). */
  dataRetries: number;
  /** 2*MSL spent in TIME-WAIT: Linux TCP_TIMEWAIT_LEN, 60 s. */
  timeWaitNs: number;
  /** Initial congestion window in segments (RFC 6928, Linux TCP_INIT_CWND = 10). */
  initialCwnd: number;
  /** Half-open connections a listener keeps before dropping SYNs (somaxconn 4096). */
  backlog: number;
  /** Buffer out-of-order segments (true) or drop them and let retransmission recover. */
  reassemble: boolean;
}

export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = {
  mss: 1460,
  rcvBuf: 64240,
  windowScale: 7,
  initialRtoNs: 1 * SECOND,
  minRtoNs: 200 * MILLISECOND,
  maxRtoNs: 120 * SECOND,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  timeWaitNs: 60 * SECOND,
  initialCwnd: 10,
  backlog: 4096,
  reassemble: true,
};
