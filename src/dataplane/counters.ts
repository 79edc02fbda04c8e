// Verdicts and drop reasons of the node pipeline, counted at fixed slots (Katran-style):
// every packet ends in exactly one verdict, and every drop names its reason.
import { reasonName } from '../packet/parse.ts';
import { TABLE_FULL_REASON } from '../conntrack/constants.ts';

/** What process() decided. */
export const enum Verdict {
  /** Routed out of an interface: see outIf / nextHop. */
  Forward = 0,
  /** Delivered to the node itself (INPUT). */
  Local = 1,
  /** Dropped; see the drop counters. */
  Drop = 2,
}

/** Why a packet was dropped (slots in DataplaneCounters.drops). */
export const enum Drop {
  /** The packet failed a header check (reason in malformedByReason). */
  Malformed = 0,
  /** IPv4 fragments are not reassembled (the kernel's conntrack would defragment). */
  Fragment = 1,
  /** ctstate INVALID dropped by the filter table (kube-proxy's KUBE-FORWARD). */
  CtInvalid = 2,
  /** nf_conntrack: table full, dropping packet. */
  CtTableFull = 3,
  /** A DROP verdict from the proxy's rules (e.g. loadBalancerSourceRanges). */
  RuleDrop = 4,
  /** A REJECT verdict: dropped, and an ICMP port unreachable sent back. */
  RuleReject = 5,
  /** TTL reached zero while forwarding: ICMP time exceeded sent back. */
  TtlExceeded = 6,
  /** No route to the destination. */
  NoRoute = 7,
  /** A conntrack insert clashed with an existing tuple (kernel: insert_failed). */
  CtClash = 8,
  /** Routed back out of the interface it came in on, with no NAT to make it hairpin. */
  Martian = 9,
  /**
   * 127.0.0.0/8 would leave lo, or arrived from outside, while route_localnet is 0 (the
   * kernel's routing refuses it: EINVAL for the node's own packet, a martian from outside).
   */
  Localnet = 10,
}

export const DROP_NAMES: readonly string[] = [
  'malformed',
  'fragment',
  'ct-invalid',
  TABLE_FULL_REASON,
  'rule-drop',
  'rule-reject',
  'ttl-exceeded',
  'no-route',
  'ct-insert-clash',
  'martian',
  'route-localnet',
];

export class DataplaneCounters {
  readonly verdicts = new Float64Array(3);
  readonly drops = new Float64Array(DROP_NAMES.length);
  /** Malformed packets by packet-layer reason code. */
  readonly malformedByReason = new Map<number, number>();
  /** New flows classified, flows found in conntrack, NAT rewrites applied. */
  newFlows = 0;
  established = 0;
  natRewrites = 0;
  icmpErrorsSent = 0;
  /** Rules (or lookups) visited classifying new flows, summed. */
  rulesVisited = 0;

  drop(reason: Drop): Verdict.Drop {
    this.drops[reason]!++;
    this.verdicts[Verdict.Drop]!++;
    return Verdict.Drop;
  }

  /** A plain summary object for printing and tests. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {
      forwarded: this.verdicts[Verdict.Forward]!,
      local: this.verdicts[Verdict.Local]!,
      dropped: this.verdicts[Verdict.Drop]!,
      newFlows: this.newFlows,
      established: this.established,
      natRewrites: this.natRewrites,
      icmpErrorsSent: this.icmpErrorsSent,
      rulesVisited: this.rulesVisited,
    };
    DROP_NAMES.forEach((name, i) => {
      if (this.drops[i]! > 0) out[`drop:${name}`] = this.drops[i]!;
    });
    for (const [code, n] of this.malformedByReason) out[`malformed:${reasonName(code)}`] = n;
    return out;
  }
}
