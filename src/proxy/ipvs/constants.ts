// IPVS constants with the kernel's values (include/uapi/linux/ip_vs.h, net/netfilter/ipvs/*.c),
// so flags read the same as in netlink dumps and ipvsadm's source.

/** IP protocol numbers IPVS schedules. */
export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** ip_vs_proto_name(): the protocol as /proc/net/ip_vs_conn and ipvsadm print it. */
export function protoName(proto: number): string {
  switch (proto) {
    case IPPROTO_TCP:
      return 'TCP';
    case IPPROTO_UDP:
      return 'UDP';
    case IPPROTO_SCTP:
      return 'SCTP';
    case IPPROTO_IP:
      return 'IP';
    default:
      return `IP_${proto}`;
  }
}

/** Virtual service flags, IP_VS_SVC_F_*. */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

/** Scheduler-specific meanings of SCHED1/SCHED2 (ip_vs_sh.c, ip_vs_mh.c). */
export const SCHED_SH_FALLBACK = SvcFlag.SCHED1;
export const SCHED_SH_PORT = SvcFlag.SCHED2;
export const SCHED_MH_FALLBACK = SvcFlag.SCHED1;
export const SCHED_MH_PORT = SvcFlag.SCHED2;

/** Destination flags, IP_VS_DEST_F_*. */
export const DestFlag = {
  /** In the service's list (cleared when it goes to the trash). */
  AVAILABLE: 0x0001,
  /** Upper connection threshold reached. */
  OVERLOAD: 0x0002,
} as const;

/** Connection flags, IP_VS_CONN_F_*. */
export const ConnFlag = {
  FWD_MASK: 0x0007,
  MASQ: 0x0000,
  LOCALNODE: 0x0001,
  TUNNEL: 0x0002,
  DROUTE: 0x0003,
  BYPASS: 0x0004,
  SYNC: 0x0020,
  HASHED: 0x0040,
  NOOUTPUT: 0x0080,
  /** Not ESTABLISHED: counted in the destination's InActConn. */
  INACTIVE: 0x0100,
  NO_CPORT: 0x0800,
  /** A persistence template (ClientIP affinity), not a real connection. */
  TEMPLATE: 0x1000,
  ONE_PACKET: 0x2000,
} as const;

/** Forwarding method names as ipvsadm prints them (fwd_name()). */
export function fwdName(connFlags: number): string {
  switch (connFlags & ConnFlag.FWD_MASK) {
    case ConnFlag.MASQ:
      return 'Masq';
    case ConnFlag.LOCALNODE:
      return 'Local';
    case ConnFlag.TUNNEL:
      return 'Tunnel';
    case ConnFlag.DROUTE:
      return 'Route';
    default:
      return 'Masq';
  }
}

/** IPVS TCP states, IP_VS_TCP_S_* (ip_vs_proto_tcp.c order). */
export const TcpState = {
  NONE: 0,
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT: 4,
  TIME_WAIT: 5,
  CLOSE: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  LISTEN: 9,
  SYNACK: 10,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** tcp_state_name_table. */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'SYNACK',
];

/** tcp_timeouts in seconds (ESTABLISHED and FIN_WAIT are `ipvsadm --set` tcp/tcpfin). */
export const DEFAULT_TCP_TIMEOUTS: readonly number[] = [
  2, // NONE
  900, // ESTABLISHED
  120, // SYN_SENT
  60, // SYN_RECV
  120, // FIN_WAIT
  120, // TIME_WAIT
  10, // CLOSE
  60, // CLOSE_WAIT
  30, // LAST_ACK
  120, // LISTEN
  120, // SYNACK
];

/** udp_timeouts[IP_VS_UDP_S_NORMAL] (5 min); its state name is "UDP". */
export const DEFAULT_UDP_TIMEOUT = 300;

/** ip_vs_ctpl_state_name_table: a template's state. */
export const TEMPLATE_STATE_NAME = 'NONE';

/** Timeout of a connection before its first state transition (ip_vs_conn_new: 3*HZ). */
export const INITIAL_CONN_TIMEOUT = 3;

/** IP_VS_VERSION_CODE 0x010201 and the default connection table size (CONFIG_IP_VS_TAB_BITS 12). */
export const IPVS_VERSION = '1.2.1';
export const IPVS_CONN_TAB_SIZE = 4096;

/** Packet directions for state transitions (IP_VS_DIR_*). */
export const Dir = { INPUT: 0, OUTPUT: 1, INPUT_ONLY: 2 } as const;
export type Dir = (typeof Dir)[keyof typeof Dir];

/** TCP header flag bits (as on the wire). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;
