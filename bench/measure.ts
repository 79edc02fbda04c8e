// Small measuring helpers the benchmark suites share.

/** A fixed pseudo-random permutation of 0..n-1 (xorshift Fisher-Yates). */
export function shuffled(n: number): Uint32Array {
  const a = Uint32Array.from({ length: n }, (_, i) => i);
  let x = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** CPU ns per op: median over rounds of `ops` calls. */
export function cpuNsPerOp(ops: number, rounds: number, fn: (k: number) => void): number {
  const r: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const c0 = process.cpuUsage();
    for (let k = 0; k < ops; k++) fn(k);
    const cu = process.cpuUsage(c0);
    r.push(((cu.user + cu.system) * 1000) / ops);
  }
  r.sort((a, b) => a - b);
  return r[r.length >> 1]!;
}
