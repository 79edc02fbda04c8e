// Round-trip time estimation and the retransmission timeout (RFC 6298 §2).

export class RttEstimator {
  /** Smoothed RTT, ns (0 until the first sample). */
  srtt = 0;
  /** RTT variation, ns. */
  rttvar = 0;
  /** Latest sample, ns. */
  last = 0;
  /** Smallest sample seen, ns. */
  min = Infinity;
  samples = 0;
  /** Current RTO before backoff, ns. */
  rto: number;

  constructor(
    initialRto: number,
    private readonly minRto: number,
    private readonly maxRto: number,
  ) {
    this.rto = initialRto;
  }

  /** Feed one measurement R (never from a retransmitted segment: Karn's algorithm). */
  sample(r: number): void {
    this.last = r;
    if (r < this.min) this.min = r;
    if (this.samples++ === 0) {
      // (2.2) first measurement
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      // (2.3) beta = 1/4, alpha = 1/8
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.clamp(this.srtt + 4 * this.rttvar);
  }

  /** RTO after `backoffs` doublings (5.5), capped at the maximum. */
  current(backoffs: number): number {
    // After a sample rto is already clamped and whole: with no backoff it is the answer.
    if (backoffs === 0 && this.samples > 0) return this.rto;
    return this.clamp(this.rto * 2 ** backoffs);
  }

  private clamp(v: number): number {
    return Math.round(Math.min(this.maxRto, Math.max(this.minRto, v)));
  }
}
