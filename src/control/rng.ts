// The cluster's ONE random source: xoshiro128** (Blackman & Vigna) seeded through
// splitmix32. Every random choice (uids, generated names, ClusterIPs, NodePorts) draws
// from it in a deterministic order, so the same seed reproduces the same cluster.

/** Kubernetes' safe alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The 36 character codes of a uuid being formatted (dashes stay in place). */
const UUID_CODES: number[] = Array.from('00000000-0000-0000-0000-000000000000', (c) =>
  c.charCodeAt(0),
);

/** `n` lowercase hex digits of `x` into UUID_CODES at `at`. */
function putHex(x: number, at: number, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    UUID_CODES[at + i] = HEX_CODES[x & 15]!;
    x >>>= 4;
  }
}

export class Rng {
  private readonly s = new Uint32Array(4);
  /** Number of 32-bit draws so far (handy when debugging divergence). */
  draws = 0;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
    // Fold both halves of a 53-bit seed into the splitmix state.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2f) };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** Next uniformly distributed u32. */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    s[1] = s1 ^ s2;
    s[0] = s0 ^ s3;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    this.draws++;
    return result;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`bad range ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** `n` characters drawn from `alphabet` (default: Kubernetes' safe alphabet). */
  string(n: number, alphabet: string = SAFE_ALPHABET): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(alphabet[this.int(alphabet.length)]!);
    // join() yields one flat string (`+=` builds a tree of cons strings that stays in the heap).
    return out.join('');
  }

  /** An RFC 4122 version-4 UUID, as the API server assigns to metadata.uid. */
  uuid(): string {
    const a = this.nextU32();
    const b = ((this.nextU32() & 0xffff0fff) | 0x00004000) >>> 0; // version 4
    const c = ((this.nextU32() & 0x3fffffff) | 0x80000000) >>> 0; // variant 10
    const d = this.nextU32();
    // One flat string from char codes (a template literal leaves a tree of cons strings in
    // every stored uid; joining pieces allocates them first).
    putHex(a, 0, 8);
    putHex(b >>> 16, 9, 4);
    putHex(b & 0xffff, 14, 4);
    putHex(c >>> 16, 19, 4);
    putHex(c & 0xffff, 24, 4);
    putHex(d, 28, 8);
    return String.fromCharCode.apply(null, UUID_CODES);
  }
}
