// The hash kube-proxy names its per-service objects with: base32(sha256(s)) cut short
// (iptables chains take 16 characters, nftables chains 8), because chain names have a
// length limit and must stay the same for the same service from sync to sync.
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding, as Go's base32.StdEncoding.EncodeToString. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

// crypto.hash (one-shot, no Hash object) where the runtime has it: half the cost per name.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash;

function sha256(s: string): Uint8Array {
  return oneShot !== undefined
    ? oneShot('sha256', s, 'buffer')
    : createHash('sha256').update(s).digest();
}

/**
 * The first `groups` × 8 base32 characters of sha256(s) (each group: 5 bytes, 40 bits),
 * as `base32(sha256(s)).slice(0, 8 * groups)` without encoding the other bytes.
 */
export function sha256Base32(s: string, groups: number): string {
  const d = sha256(s);
  let out = '';
  for (let i = 0; i < 5 * groups; i += 5) {
    const b0 = d[i]!;
    const b1 = d[i + 1]!;
    const b2 = d[i + 2]!;
    const b3 = d[i + 3]!;
    const b4 = d[i + 4]!;
    out += base32Group(b0, b1, b2, b3, b4);
  }
  return out;
}

/**
 * Five bytes as eight base32 characters (RFC 4648 alphabet). Eight characters are short
 * enough for V8 to make a flat string of the +, not a rope.
 */
export function base32Group(b0: number, b1: number, b2: number, b3: number, b4: number): string {
  return (
    B32[b0 >>> 3]! +
    B32[((b0 & 7) << 2) | (b1 >>> 6)]! +
    B32[(b1 >>> 1) & 31]! +
    B32[((b1 & 1) << 4) | (b2 >>> 4)]! +
    B32[((b2 & 15) << 1) | (b3 >>> 7)]! +
    B32[(b3 >>> 2) & 31]! +
    B32[((b3 & 3) << 3) | (b4 >>> 5)]! +
    B32[b4 & 31]!
  );
}
