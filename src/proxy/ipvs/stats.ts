// Per-service and per-destination counters with the kernel's rate estimator
// (net/netfilter/ipvs/ip_vs_est.c): every 2 seconds each rate moves a quarter of the way
// toward the last interval's rate, kept scaled (x2^10 for conns/packets, x2^5 for bytes).

/** The estimator's period (ip_vs_est.c: 2*HZ), in milliseconds. */
export const ESTIMATOR_PERIOD_MS = 2000;

/** What `ipvsadm --rate` reads (ip_vs_read_estimator()). */
export interface IpvsRates {
  readonly cps: number;
  readonly inpps: number;
  readonly outpps: number;
  readonly inbps: number;
  readonly outbps: number;
}

/** s64 `x >> 2` (arithmetic shift: floor division by 4). */
function shr2(x: number): number {
  return Math.floor(x / 4);
}

export class IpvsStats {
  conns = 0;
  inpkts = 0;
  outpkts = 0;
  inbytes = 0;
  outbytes = 0;

  // Estimator state (struct ip_vs_estimator): last counters and the scaled rates.
  private lastConns = 0;
  private lastInpkts = 0;
  private lastOutpkts = 0;
  private lastInbytes = 0;
  private lastOutbytes = 0;
  private cpsScaled = 0;
  private inppsScaled = 0;
  private outppsScaled = 0;
  private inbpsScaled = 0;
  private outbpsScaled = 0;

  /** One 2-second estimation step (ip_vs_chain_estimation). */
  estimate(): void {
    // conns and packets: scaled by 2^10 but divided by 2 seconds -> << 9
    let rate = (this.conns - this.lastConns) * 512;
    this.lastConns = this.conns;
    this.cpsScaled += shr2(rate - this.cpsScaled);

    rate = (this.inpkts - this.lastInpkts) * 512;
    this.lastInpkts = this.inpkts;
    this.inppsScaled += shr2(rate - this.inppsScaled);

    rate = (this.outpkts - this.lastOutpkts) * 512;
    this.lastOutpkts = this.outpkts;
    this.outppsScaled += shr2(rate - this.outppsScaled);

    // bytes: scaled by 2^5 but divided by 2 seconds -> << 4
    rate = (this.inbytes - this.lastInbytes) * 16;
    this.lastInbytes = this.inbytes;
    this.inbpsScaled += shr2(rate - this.inbpsScaled);

    rate = (this.outbytes - this.lastOutbytes) * 16;
    this.lastOutbytes = this.outbytes;
    this.outbpsScaled += shr2(rate - this.outbpsScaled);
  }

  /** ip_vs_read_estimator(): rounded, unscaled rates per second. */
  rates(): IpvsRates {
    return {
      cps: Math.floor((this.cpsScaled + 0x1ff) / 1024),
      inpps: Math.floor((this.inppsScaled + 0x1ff) / 1024),
      outpps: Math.floor((this.outppsScaled + 0x1ff) / 1024),
      inbps: Math.floor((this.inbpsScaled + 0xf) / 32),
      outbps: Math.floor((this.outbpsScaled + 0xf) / 32),
    };
  }

  /** `ipvsadm -Z`: counters to zero, rates zeroed too (ip_vs_zero_stats). */
  zero(): void {
    this.conns = this.inpkts = this.outpkts = this.inbytes = this.outbytes = 0;
    this.lastConns = this.lastInpkts = this.lastOutpkts = this.lastInbytes = this.lastOutbytes = 0;
    this.cpsScaled =
      this.inppsScaled =
      this.outppsScaled =
      this.inbpsScaled =
      this.outbpsScaled =
        0;
  }
}
