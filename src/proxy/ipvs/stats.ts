// Per-service and per-destination counters with the kernel's rate estimator
// (net/netfilter/ipvs/ip_vs_est.c): every 2 seconds each rate moves a quarter of the way
// toward the last interval's rate, kept scaled (x2^10 for conns/packets, x2^5 for bytes).

import {
  DEFAULT_ARENA,
  F_CONNS,
  F_INBYTES,
  F_INPKTS,
  F_OUTBYTES,
  F_OUTPKTS,
  REC64,
} from './arena.ts';
import type { IpvsArena } from './arena.ts';

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

/**
 * The counters of a service or server, kept in its arena record (arena.ts) where the packet
 * path adds to them by slot; the estimator's state stays in the object (read every 2 s).
 */
export class IpvsStats {
  readonly arena: IpvsArena;
  /** This object's record in `arena`. */
  readonly slot: number;
  /** Index of the record's first Float64 word. */
  private readonly f: number;

  constructor(arena: IpvsArena = DEFAULT_ARENA) {
    this.arena = arena;
    this.slot = arena.alloc(this);
    this.f = this.slot * REC64;
  }

  get conns(): number {
    return this.arena.f64[this.f + F_CONNS]!;
  }
  set conns(v: number) {
    this.arena.f64[this.f + F_CONNS] = v;
  }
  get inpkts(): number {
    return this.arena.f64[this.f + F_INPKTS]!;
  }
  set inpkts(v: number) {
    this.arena.f64[this.f + F_INPKTS] = v;
  }
  get outpkts(): number {
    return this.arena.f64[this.f + F_OUTPKTS]!;
  }
  set outpkts(v: number) {
    this.arena.f64[this.f + F_OUTPKTS] = v;
  }
  get inbytes(): number {
    return this.arena.f64[this.f + F_INBYTES]!;
  }
  set inbytes(v: number) {
    this.arena.f64[this.f + F_INBYTES] = v;
  }
  get outbytes(): number {
    return this.arena.f64[this.f + F_OUTBYTES]!;
  }
  set outbytes(v: number) {
    this.arena.f64[this.f + F_OUTBYTES] = v;
  }

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
