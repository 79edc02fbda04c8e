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

  /** @param slot an existing handle-less record to adopt; by default a new one. */
  constructor(arena: IpvsArena = DEFAULT_ARENA, slot = -1) {
    this.arena = arena;
    if (slot < 0) this.slot = arena.alloc(this);
    else {
      this.slot = slot;
      arena.objs[slot] = this;
    }
  }

  /** Index of the record's first Float64 word. */
  private get f(): number {
    return this.slot * REC64;
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

  /** Estimator state, made by the first estimation step (until then every field is 0). */
  private est: Estimator | undefined;

  /** One 2-second estimation step (ip_vs_chain_estimation). */
  estimate(): void {
    const e = (this.est ??= new Estimator());
    // conns and packets: scaled by 2^10 but divided by 2 seconds -> << 9
    let rate = (this.conns - e.lastConns) * 512;
    e.lastConns = this.conns;
    e.cpsScaled += shr2(rate - e.cpsScaled);

    rate = (this.inpkts - e.lastInpkts) * 512;
    e.lastInpkts = this.inpkts;
    e.inppsScaled += shr2(rate - e.inppsScaled);

    rate = (this.outpkts - e.lastOutpkts) * 512;
    e.lastOutpkts = this.outpkts;
    e.outppsScaled += shr2(rate - e.outppsScaled);

    // bytes: scaled by 2^5 but divided by 2 seconds -> << 4
    rate = (this.inbytes - e.lastInbytes) * 16;
    e.lastInbytes = this.inbytes;
    e.inbpsScaled += shr2(rate - e.inbpsScaled);

    rate = (this.outbytes - e.lastOutbytes) * 16;
    e.lastOutbytes = this.outbytes;
    e.outbpsScaled += shr2(rate - e.outbpsScaled);
  }

  /** ip_vs_read_estimator(): rounded, unscaled rates per second. */
  rates(): IpvsRates {
    const e = this.est ?? ZERO_ESTIMATOR;
    return {
      cps: Math.floor((e.cpsScaled + 0x1ff) / 1024),
      inpps: Math.floor((e.inppsScaled + 0x1ff) / 1024),
      outpps: Math.floor((e.outppsScaled + 0x1ff) / 1024),
      inbps: Math.floor((e.inbpsScaled + 0xf) / 32),
      outbps: Math.floor((e.outbpsScaled + 0xf) / 32),
    };
  }

  /** `ipvsadm -Z`: counters to zero, rates zeroed too (ip_vs_zero_stats). */
  zero(): void {
    this.conns = this.inpkts = this.outpkts = this.inbytes = this.outbytes = 0;
    this.est = undefined;
  }
}

/** struct ip_vs_estimator: last counters and the scaled rates. */
class Estimator {
  lastConns = 0;
  lastInpkts = 0;
  lastOutpkts = 0;
  lastInbytes = 0;
  lastOutbytes = 0;
  cpsScaled = 0;
  inppsScaled = 0;
  outppsScaled = 0;
  inbpsScaled = 0;
  outbpsScaled = 0;
}

const ZERO_ESTIMATOR: Readonly<Estimator> = new Estimator();
