// What a proxy mode answers for one packet at one hook, whatever walked or looked it up:
// the verdict, a DNAT target, the mark after MARK statements, whether to masquerade, and
// how many rules (or lookups) it took.

export const enum Verdict {
  Drop = 0,
  Accept = 1,
  /** REJECT: drop and answer with ICMP port unreachable (the dataplane builds it). */
  Reject = 2,
}

/** The outcome of one or more table walks; reuse one object to avoid allocation. */
export interface EvalResult {
  verdict: Verdict;
  dnat: boolean;
  dnatIp: number;
  dnatPort: number;
  /** The packet mark after MARK targets (initialised from PacketMeta.mark by the caller). */
  mark: number;
  masquerade: boolean;
  masqueradeRandomFully: boolean;
  /** Rules examined, summed over walks. */
  rulesVisited: number;
}

export function newEvalResult(): EvalResult {
  return {
    verdict: Verdict.Accept,
    dnat: false,
    dnatIp: 0,
    dnatPort: 0,
    mark: 0,
    masquerade: false,
    masqueradeRandomFully: false,
    rulesVisited: 0,
  };
}

/** Reset `out` before a new packet whose mark on entry is `mark`. */
export function resetEvalResult(out: EvalResult, mark: number): void {
  out.verdict = Verdict.Accept;
  out.dnat = false;
  out.dnatIp = 0;
  out.dnatPort = 0;
  out.mark = mark;
  out.masquerade = false;
  out.masqueradeRandomFully = false;
  out.rulesVisited = 0;
}
