// TCP header (RFC 9293 §3.1). Full view/Repr follow; flags first, other modules import them.

/** TCP control bits (byte 13 of the header); CWR/ECE per RFC 3168. */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;
