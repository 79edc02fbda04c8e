// TCP options (RFC 9293 §3.2, RFC 7323 window scale + timestamps, RFC 2018 SACK).
// Decoded for tests, tracing and logging; the forwarding path keeps them as bytes.

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
} as const;

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; mss: number }
  | { kind: 'windowScale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: Array<[left: number, right: number]> }
  | { kind: 'timestamp'; tsVal: number; tsEcr: number }
  | { kind: 'unknown'; type: number; data: Uint8Array };

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/**
 * Decode option bytes into a list in wire order. Everything after EOL is padding
 * and not listed. Returns undefined for a malformed option (length < 2 or overrun
 * or wrong length for a known kind).
 */
export function parseTcpOptions(b: Uint8Array): TcpOption[] | undefined {
  const out: TcpOption[] = [];
  let i = 0;
  while (i < b.length) {
    const kind = b[i]!;
    if (kind === TcpOptionKind.EOL) {
      out.push({ kind: 'eol' });
      break;
    }
    if (kind === TcpOptionKind.NOP) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    if (i + 1 >= b.length) return undefined;
    const len = b[i + 1]!;
    if (len < 2 || i + len > b.length) return undefined;
    const at = i + 2;
    switch (kind) {
      case TcpOptionKind.MSS:
        if (len !== 4) return undefined;
        out.push({ kind: 'mss', mss: (b[at]! << 8) | b[at + 1]! });
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (len !== 3) return undefined;
        out.push({ kind: 'windowScale', shift: b[at]! });
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (len !== 2) return undefined;
        out.push({ kind: 'sackPermitted' });
        break;
      case TcpOptionKind.SACK: {
        if ((len - 2) % 8 !== 0) return undefined;
        const blocks: Array<[number, number]> = [];
        for (let k = at; k < i + len; k += 8) blocks.push([u32(b, k), u32(b, k + 4)]);
        out.push({ kind: 'sack', blocks });
        break;
      }
      case TcpOptionKind.TIMESTAMP:
        if (len !== 10) return undefined;
        out.push({ kind: 'timestamp', tsVal: u32(b, at), tsEcr: u32(b, at + 4) });
        break;
      default:
        out.push({ kind: 'unknown', type: kind, data: b.slice(at, i + len) });
    }
    i += len;
  }
  return out;
}

/** Encode options in order; the result is not padded (TcpRepr.emit pads to 4 with EOL). */
export function emitTcpOptions(opts: readonly TcpOption[]): Uint8Array {
  const bytes: number[] = [];
  const put32 = (v: number) => bytes.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  for (const o of opts) {
    switch (o.kind) {
      case 'eol':
        bytes.push(0);
        break;
      case 'nop':
        bytes.push(1);
        break;
      case 'mss':
        bytes.push(2, 4, o.mss >>> 8, o.mss & 0xff);
        break;
      case 'windowScale':
        bytes.push(3, 3, o.shift);
        break;
      case 'sackPermitted':
        bytes.push(4, 2);
        break;
      case 'sack':
        bytes.push(5, 2 + 8 * o.blocks.length);
        for (const [l, r] of o.blocks) {
          put32(l);
          put32(r);
        }
        break;
      case 'timestamp':
        bytes.push(8, 10);
        put32(o.tsVal);
        put32(o.tsEcr);
        break;
      case 'unknown':
        bytes.push(o.type, 2 + o.data.length, ...o.data);
        break;
    }
  }
  return Uint8Array.from(bytes);
}
