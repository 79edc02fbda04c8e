// Conntrack constants shared by the table, the protocol trackers and the formatter.
// Values follow the kernel's uapi headers so they read the same as in netlink dumps.

/** IP protocol numbers conntrack tracks with a state machine (others: not tracked). */
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Status bits, same values as IPS_* in include/uapi/linux/netfilter/nf_conntrack_common.h. */
export const CtStatus = {
  EXPECTED: 1 << 0,
  /** A packet was seen in the reply direction ([UNREPLIED] when clear). */
  SEEN_REPLY: 1 << 1,
  /** Never early-dropped when the table is full ([ASSURED]). */
  ASSURED: 1 << 2,
  /** The first packet finished its trip (set after the first tracked packet). */
  CONFIRMED: 1 << 3,
  /** Reply tuple differs from the inverted original on the destination side: SNAT done. */
  SRC_NAT: 1 << 4,
  /** Reply tuple differs on the source side: DNAT done (reply src is the backend). */
  DST_NAT: 1 << 5,
} as const;

/** Direction of a packet relative to the entry (IP_CT_DIR_ORIGINAL / IP_CT_DIR_REPLY). */
export const CtDir = { ORIGINAL: 0, REPLY: 1 } as const;
export type CtDir = (typeof CtDir)[keyof typeof CtDir];

/** What tracking a packet decided. */
export const CtVerdict = {
  /** Packet belongs to the flow and updated it (ctstate ESTABLISHED / NEW). */
  ACCEPT: 0,
  /** Packet belongs to the flow but left its state alone (kernel NFCT_TCP_IGNORE). */
  IGNORE: 1,
  /** ctstate INVALID: not part of any flow (kube-proxy drops these in KUBE-FORWARD). */
  INVALID: 2,
  /** The old entry was removed (TCP reopen); look the packet up again as a new flow. */
  REPEAT: 3,
} as const;
export type CtVerdict = (typeof CtVerdict)[keyof typeof CtVerdict];

/** Negative results of ConntrackTable.insert. */
export const InsertError = {
  /** nf_conntrack_max reached and nothing could be early-dropped. */
  TABLE_FULL: -1,
  /** One of the tuples is already in the table (kernel: insert_failed). */
  CLASH: -2,
} as const;

/** The kernel's log line when a new flow is dropped because the table is full. */
export const TABLE_FULL_REASON = 'nf_conntrack: table full, dropping packet';

/** TCP conntrack states, enum tcp_conntrack (uapi nf_conntrack_tcp.h). */
export const TcpState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** State names as printed by conntrack -L (libnetfilter_conntrack `states[]`). */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];

/** ICMP types conntrack knows (RFC 792). */
export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROB: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  ADDRESS: 17,
  ADDRESS_REPLY: 18,
} as const;
