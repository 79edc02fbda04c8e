// Socket errors as Linux reports them: errno names and strerror(3) texts, and the
// ICMP → errno table of net/ipv4/icmp.c (icmp_err_convert).
import { DestUnreachableCode, IcmpType } from '../../packet/index.ts';

export type SocketErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ENOPROTOOPT'
  | 'EHOSTDOWN'
  | 'ENONET'
  | 'EMSGSIZE'
  | 'EOPNOTSUPP'
  | 'EPIPE';

const STRERROR: Record<SocketErrorCode, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOPROTOOPT: 'Protocol not available',
  EHOSTDOWN: 'Host is down',
  ENONET: 'Machine is not on the network',
  EMSGSIZE: 'Message too long',
  EOPNOTSUPP: 'Operation not supported',
  EPIPE: 'Broken pipe',
};

/** An error delivered to a socket; `message` is strerror(errno). */
export class SocketError extends Error {
  readonly code: SocketErrorCode;
  /** The ICMP message that caused it, if any. */
  readonly icmp: { type: number; code: number; from: number } | undefined;

  constructor(code: SocketErrorCode, icmp?: { type: number; code: number; from: number }) {
    super(STRERROR[code]);
    this.name = 'SocketError';
    this.code = code;
    this.icmp = icmp;
  }
}

export function strerror(code: SocketErrorCode): string {
  return STRERROR[code];
}

// icmp_err_convert[] for Destination Unreachable codes 0..15: errno and "fatal".
const UNREACH: ReadonlyArray<readonly [SocketErrorCode, boolean]> = [
  ['ENETUNREACH', false],
  ['EHOSTUNREACH', false],
  ['ENOPROTOOPT', true],
  ['ECONNREFUSED', true],
  ['EMSGSIZE', false],
  ['EOPNOTSUPP', false],
  ['ENETUNREACH', true],
  ['EHOSTDOWN', true],
  ['ENONET', true],
  ['ENETUNREACH', true],
  ['EHOSTUNREACH', true],
  ['ENETUNREACH', false],
  ['EHOSTUNREACH', false],
  ['EHOSTUNREACH', true],
  ['EHOSTUNREACH', true],
  ['EHOSTUNREACH', true],
];

/** errno for an ICMP error, and whether Linux treats it as fatal; undefined if ignored. */
export function icmpToErrno(
  type: number,
  code: number,
): { code: SocketErrorCode; fatal: boolean } | undefined {
  if (type === IcmpType.DEST_UNREACHABLE) {
    if (code === DestUnreachableCode.FRAG_NEEDED) return undefined; // PMTU: not modelled
    const e = UNREACH[code];
    return e === undefined ? { code: 'EHOSTUNREACH', fatal: false } : { code: e[0], fatal: e[1] };
  }
  // Time Exceeded and Parameter Problem: EHOSTUNREACH / EPROTO, soft (icmp_err in udp.c).
  if (type === IcmpType.TIME_EXCEEDED) return { code: 'EHOSTUNREACH', fatal: false };
  return undefined;
}
