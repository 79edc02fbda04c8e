// Round-trip time estimation and the retransmission timeout (RFC 6298 §2), on a
// connection's record (record.ts: SRTT, RTTVAR, RTT_LAST, RTT_MIN, RTT_SAMPLES, RTO).
import { RTO, RTTVAR, RTT_LAST, RTT_MIN, RTT_SAMPLES, SRTT } from './record.ts';

/** Start the estimate: no sample yet, RTO = the initial RTO. */
export function rttInit(r: Float64Array, at: number, initialRto: number): void {
  r[at + RTO] = initialRto;
}

/** Feed one measurement R (never from a retransmitted segment: Karn's algorithm). */
export function rttSample(
  r: Float64Array,
  at: number,
  sample: number,
  minRto: number,
  maxRto: number,
): void {
  r[at + RTT_LAST] = sample;
  if (sample < r[at + RTT_MIN]!) r[at + RTT_MIN] = sample;
  const n = r[at + RTT_SAMPLES]!;
  r[at + RTT_SAMPLES] = n + 1;
  let srtt: number;
  let rttvar: number;
  if (n === 0) {
    // (2.2) first measurement
    srtt = sample;
    rttvar = sample / 2;
  } else {
    // (2.3) beta = 1/4, alpha = 1/8
    srtt = r[at + SRTT]!;
    rttvar = 0.75 * r[at + RTTVAR]! + 0.25 * Math.abs(srtt - sample);
    srtt = 0.875 * srtt + 0.125 * sample;
  }
  r[at + SRTT] = srtt;
  r[at + RTTVAR] = rttvar;
  r[at + RTO] = clamp(srtt + 4 * rttvar, minRto, maxRto);
}

/** RTO after `backoffs` doublings (5.5), capped at the maximum. */
export function rttCurrent(
  r: Float64Array,
  at: number,
  backoffs: number,
  minRto: number,
  maxRto: number,
): number {
  const rto = r[at + RTO]!;
  // After a sample the RTO is already clamped and whole: with no backoff it is the answer.
  if (backoffs === 0 && r[at + RTT_SAMPLES]! > 0) return rto;
  return clamp(rto * 2 ** backoffs, minRto, maxRto);
}

function clamp(v: number, minRto: number, maxRto: number): number {
  return Math.round(Math.min(maxRto, Math.max(minRto, v)));
}
