// Number formatting shared by the compiler and the views, matching the C and Go
// printf the real tools use.

/**
 * `%.Nf` of a double, rounded from its exact binary value with ties to even — what
 * glibc's printf and Go's strconv both do. (Number.toFixed breaks ties upwards, so
 * 1/2048 would print 0.0004882813 where kube-proxy writes 0.0004882812.)
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`formatFixed: ${x}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (exp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = exp - 1075;
  }
  // x = mant * 2^e2 exactly; scale by 10^digits and divide with round-half-even.
  let num = mant * 10n ** BigInt(digits);
  let den = 1n;
  if (e2 >= 0) num <<= BigInt(e2);
  else den <<= BigInt(-e2);
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** kube-proxy's computeProbability: fmt.Sprintf("%0.10f", 1.0/float64(n)). */
export function kubeProxyProbability(n: number): string {
  return formatFixed(1 / n, 10);
}

/** libxt_statistic prints the kernel's u31 fixed-point value: `%.11f` of p31 / 2^31. */
export function statisticProbability(p31: number): string {
  return formatFixed(p31 / 0x80000000, 11);
}

/** `0x%x`. */
export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

/** Go's `%#08x` (kube-proxy's masquerade mark): zero-pads the digits to 8, then adds 0x. */
export function goHex08(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
