// svclab's one random generator: xoshiro128** (Blackman & Vigna) seeded through
// splitmix32. Every random choice — the control plane's uids, names, ClusterIPs and
// NodePorts (control/rng.ts builds on this class), iptables' `-m statistic`, nft's
// `numgen`, MASQUERADE --random-fully ports, the simulated hosts' ISNs — draws from an
// instance of it, so one seed reproduces a whole run. It lives at proxy's root, the
// lowest layer that draws, so the layers above import it without pointing upward.

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

export class SeededRng {
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

  /** Uniform in [0, 1): the next u32 / 2^32. */
  next(): number {
    return this.nextU32() / 4294967296;
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
}

/** A uniform [0, 1) stream from `seed`: what the modes take as their `random` option. */
export function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.nextU32() / 4294967296;
}

/** A deterministic [0, 1) stream per purpose (`proxy/NODE`, `link-loss`, ...), derived from one seed. */
export function seededStream(seed: number, purpose: string): () => number {
  let h = seed >>> 0;
  for (let i = 0; i < purpose.length; i++)
    h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return seededRandom(h);
}
