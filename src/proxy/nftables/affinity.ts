// kube-proxy's ClientIP affinity in nftables mode: one dynamic set per endpoint,
// `set affinity-... { type ipv4_addr; flags dynamic,timeout; timeout 3h; }`, filled by
// `update @affinity-... { ip saddr }` in the endpoint chain and read by
// `ip saddr @affinity-... goto endpoint-...` in the service chain. Semantics follow
// nft_dynset/nft_set_hash: `update` adds the address or refreshes its expiry to
// now + timeout; an element is present while now < expiry (nft_set_elem_expired);
// a full set (65535, nft's default size for sets written from the packet path)
// refuses new addresses. The sets outlive rule-set swaps: kube-proxy re-adds them
// every sync without flushing, and deletes only the ones no longer used.

/** nft's default size for a set the packet path adds to (NFT_SET_MAXSIZE-like). */
export const AFFINITY_SET_SIZE = 65535;

export class AffinitySet {
  /** Address -> expiry time (seconds); insertion order. */
  private readonly expiry = new Map<number, number>();

  constructor(
    readonly name: string,
    /** Seconds (sessionAffinityConfig.clientIP.timeoutSeconds). */
    public timeout: number,
    readonly maxSize = AFFINITY_SET_SIZE,
  ) {}

  /** `ip saddr @set`: the address is there and not expired. */
  has(addr: number, now: number): boolean {
    const e = this.expiry.get(addr >>> 0);
    return e !== undefined && now < e;
  }

  /** `update @set { ip saddr }`; false when the set is full (the rule breaks). */
  update(addr: number, now: number): boolean {
    const key = addr >>> 0;
    if (!this.expiry.has(key) && this.expiry.size >= this.maxSize) {
      this.collect(now);
      if (this.expiry.size >= this.maxSize) return false;
    }
    this.expiry.set(key, now + this.timeout);
    return true;
  }

  /** Live elements as [address, expiry], in insertion order. */
  entries(now: number): [number, number][] {
    return [...this.expiry].filter(([, e]) => now < e);
  }

  get size(): number {
    return this.expiry.size;
  }

  /** The garbage collector's pass: drop expired elements. */
  collect(now: number): void {
    for (const [addr, e] of this.expiry) if (now >= e) this.expiry.delete(addr);
  }

  clear(): void {
    this.expiry.clear();
  }
}

/** The affinity sets a compile reads: the live tables at sync, a frozen view for listings. */
export interface AffinitySource {
  /** Start a compile. */
  begin(): void;
  /** The set for `name`, with the service's timeout. */
  get(name: string, timeout: number): AffinitySet;
  /** End a compile. */
  end(): void;
}

/** Every affinity set of the table, kept across syncs. */
export class AffinityTables implements AffinitySource {
  private sets = new Map<string, AffinitySet>();
  private used = new Map<string, AffinitySet>();

  /** Start a compile. */
  begin(): void {
    this.used = new Map();
  }

  /** The set for `name`, created if new; its timeout follows the service. */
  get(name: string, timeout: number): AffinitySet {
    let s = this.used.get(name) ?? this.sets.get(name);
    if (s === undefined) s = new AffinitySet(name, timeout);
    s.timeout = timeout;
    this.used.set(name, s);
    return s;
  }

  /** End a compile: sets it did not use are deleted, as kube-proxy does at once. */
  end(): void {
    this.sets = this.used;
  }

  lookup(name: string): AffinitySet | undefined {
    return this.sets.get(name);
  }

  names(): string[] {
    return [...this.sets.keys()];
  }
}

/**
 * The sets as the last sync left them, for compiling the same table again for a listing or
 * a trace: nothing is created, dropped or retimed (the sync did that already).
 */
export class FrozenAffinity implements AffinitySource {
  constructor(private readonly tables: AffinityTables) {}

  begin(): void {}

  get(name: string, timeout: number): AffinitySet {
    const s = this.tables.lookup(name);
    if (s === undefined || s.timeout !== timeout) {
      throw new Error(`affinity set ${name} (timeout ${timeout}) is not in the synced table`);
    }
    return s;
  }

  end(): void {}
}
