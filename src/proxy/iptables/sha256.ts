// SHA-256 (FIPS 180-4) of a short ASCII string, in JavaScript, for chain names: a full sync
// of 100,000 Services hashes 1.1 million names, and node:crypto's one-shot hash costs a
// native call and a new Buffer each (young garbage plus pooled ArrayBuffers, which drive
// the collector). This one works in reused Int32Arrays and allocates only its result,
// made by one String.fromCharCode for the 16-character names (with or without KUBE-SEP-).
// Non-ASCII input goes to node:crypto (name-hash.ts). test/proxy/iptables/sha256.test.ts
// compares both on random strings.
import { base32Group, sha256Base32 as cryptoBase32 } from '../name-hash.ts';

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const H0 = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The message schedule, and the running hash. */
const w = new Int32Array(64);
const h = new Int32Array(8);
/** The padded message as big-endian words (grown for long strings). */
let m = new Int32Array(64);

/** One 512-bit block (message words m[at, at + 16)) into h. */
function block(at: number): void {
  for (let t = 0; t < 16; t++) w[t] = m[at + t]!;
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let k = h[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (k + S1 + ch + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

/** The digest's byte `i` (h holds it as big-endian words). */
const byte = (i: number): number => (h[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;

const SEP = 'KUBE-SEP-';
/** The RFC 4648 alphabet's character codes. */
const B32 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', (c) => c.charCodeAt(0));
/** The first 16 base32 characters of the digest in h, as character codes. */
const codes = new Int32Array(16);

function firstCodes(): void {
  for (let j = 0; j < 16; j++) {
    // Character j is bits [5j, 5j + 5) of the digest, which may straddle two words.
    const bit = 5 * j;
    const word = bit >> 5;
    const sh = bit & 31;
    const v =
      sh <= 27 ? h[word]! >>> (27 - sh) : (h[word]! << (sh - 27)) | (h[word + 1]! >>> (59 - sh));
    codes[j] = B32[v & 31]!;
  }
}

/** Make room for a message of `len` bytes in m, zeroed: its length in words, padded. */
function prepare(len: number): number {
  const words = (((len + 8) >> 6) + 1) << 4;
  if (words > m.length) m = new Int32Array(2 * words);
  m.fill(0, 0, words);
  return words;
}

/** Write the ASCII string `s` into m from byte `at`: the byte after it, or -1 if not ASCII. */
function put(s: string, at: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    const j = at + i;
    m[j >> 2]! |= c << (24 - 8 * (j & 3));
  }
  return at + len;
}

/** Pad the `len` bytes in m (`words` long) and hash them into h. */
function finish(len: number, words: number): void {
  m[len >> 2]! |= 0x80 << (24 - 8 * (len & 3));
  m[words - 1] = len * 8; // bit length (names are far below 2^29 characters)
  h.set(H0);
  for (let at = 0; at < words; at += 16) block(at);
}

/** The message in m, padded, hashed into h; false when `s` is not ASCII. */
function digest(s: string): boolean {
  const words = prepare(s.length);
  if (put(s, 0) < 0) return false;
  finish(s.length, words);
  return true;
}

/** Decimal digits of a port (0-65535). */
const digits = (n: number): number => (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5);

/** The 16-character name from h: `prefix` ('' or KUBE-SEP-) and the codes, one flat string. */
function name16(prefix: string): string {
  // One String.fromCharCode makes the flat string, without the eight one-character
  // concatenations per group (young garbage, slow before V8 optimises them).
  firstCodes();
  const c = codes;
  // prettier-ignore
  if (prefix === '') {
    return String.fromCharCode(
      c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!,
      c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!,
    );
  }
  // prettier-ignore
  return String.fromCharCode(
    75, 85, 66, 69, 45, 83, 69, 80, 45, // KUBE-SEP-
    c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!,
    c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!,
  );
}

/**
 * `KUBE-SEP-` and the first 16 base32 characters of sha256(head + ip + ':' + port), the
 * endpoint chain's name, without building the message (a rope, flattened again to be
 * read) or the endpoint's `ip:port` string.
 */
export function endpointChainHash(head: string, ip: string, port: number): string {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    return sha256Base32(`${head}${ip}:${port}`, 2, SEP);
  }
  const len = head.length + ip.length + 1 + digits(port);
  const words = prepare(len);
  let at = put(head, 0);
  if (at >= 0) at = put(ip, at);
  if (at < 0) return sha256Base32(`${head}${ip}:${port}`, 2, SEP);
  m[at >> 2]! |= 58 << (24 - 8 * (at & 3)); // ':'
  for (let j = len - 1, p = port; j > at; j--, p = Math.floor(p / 10)) {
    m[j >> 2]! |= (48 + (p % 10)) << (24 - 8 * (j & 3));
  }
  finish(len, words);
  return name16(SEP);
}

/**
 * The first `groups` x 8 base32 characters of sha256(s), as name-hash.ts's sha256Base32
 * (kube-proxy's chain-name hash), `prefix` in front, as one flat string.
 */
export function sha256Base32(s: string, groups: number, prefix = ''): string {
  if (!digest(s)) return prefix + cryptoBase32(s, groups);
  if (groups === 2 && (prefix === '' || prefix === SEP)) return name16(prefix);
  const parts = [prefix];
  for (let i = 0; i < 5 * groups; i += 5) {
    const b0 = byte(i);
    const b1 = byte(i + 1);
    const b2 = byte(i + 2);
    const b3 = byte(i + 3);
    const b4 = byte(i + 4);
    parts.push(base32Group(b0, b1, b2, b3, b4));
  }
  // join writes one flat string (a + would make a rope).
  return parts.join('');
}
