// One step of a packet's way through a proxy mode, as `iptables -j TRACE` logs it
// (table:chain:type:rulenum), in terms every mode can fill: iptables reports the rules
// of its linear walk, nftables the rules of its chains (a verdict-map rule when its
// lookup found an element), ipvs the ipset-driven rules it applies and its
// virtual-service lookup. The dataplane hands the events to `svclab trace`.

export interface TraceEvent {
  /** iptables' `nat` / `filter`, nftables' table (`kube-proxy`), or `ipvs`. */
  readonly table: string;
  /** The chain; in ipvs mode the rule chain that matched, or `IPVS` for the lookup. */
  readonly chain: string;
  /**
   * 1-based rule number in the chain; for 'return' and 'policy' the position after the
   * last rule. An IPVS lookup carries its connection slot (-1: no usable real server).
   */
  readonly ruleNum: number;
  /**
   * 'rule': a rule whose matches held, or a lookup that decided something; 'return': a
   * regular chain ended and the walk returned to its caller; 'policy': a base chain ended.
   */
  readonly kind: 'rule' | 'return' | 'policy';
  /**
   * For 'rule', the step in the mode's own words: the rule as `iptables-save` or
   * `nft list ruleset` prints it, or what the IPVS lookup found. '' for 'return' / 'policy'.
   */
  readonly text: string;
  /**
   * What a lookup led to, when the step was one: the verdict of the verdict-map element
   * found (`goto service-…`), the real server IPVS scheduled (`10.244.1.3:80`).
   */
  readonly result?: string;
}

/** Run `walk` with `ctx.trace` set to `onStep`, unset again after: how the rule-walking modes trace. */
export function traced<R>(
  ctx: { trace?: ((e: TraceEvent) => void) | undefined },
  onStep: (e: TraceEvent) => void,
  walk: () => R,
): R {
  ctx.trace = onStep;
  try {
    return walk();
  } finally {
    ctx.trace = undefined;
  }
}
