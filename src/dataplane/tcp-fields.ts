// The one TCP option conntrack needs from a SYN, read without allocating.
import { TcpOptionKind } from '../packet/tcp-options.ts';

/** Window scale shift from the options of the TCP header at b[l4..l4+hl), or -1. */
export function tcpWindowScale(b: Uint8Array, l4: number, hl: number): number {
  let i = l4 + 20;
  const end = Math.min(l4 + hl, b.length);
  while (i < end) {
    const kind = b[i]!;
    if (kind === TcpOptionKind.EOL) return -1;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    const len = b[i + 1];
    if (len === undefined || len < 2 || i + len > end) return -1;
    if (kind === TcpOptionKind.WINDOW_SCALE && len === 3) return Math.min(b[i + 2]!, 14);
    i += len;
  }
  return -1;
}
