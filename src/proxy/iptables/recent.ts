// xt_recent's per-name address tables (net/netfilter/xt_recent.c), which kube-proxy
// uses for ClientIP session affinity. Each table maps a (masked) address to the time
// it was last --set; like the kernel it holds at most ip_list_tot (default 200)
// entries and evicts the least recently updated one when full. Tables outlive rule-set
// swaps, as the kernel keeps /proc/net/xt_recent/NAME while rules still name it.

/** xt_recent's ip_list_tot module parameter default. */
export const RECENT_LIST_TOT = 200;

export class RecentTables {
  /** name -> address -> last-set time (seconds); Map order is LRU order. */
  private readonly tables = new Map<string, Map<number, number>>();

  constructor(readonly maxEntries = RECENT_LIST_TOT) {}

  private table(name: string): Map<number, number> {
    let t = this.tables.get(name);
    if (t === undefined) this.tables.set(name, (t = new Map()));
    return t;
  }

  /** --set / --update: record `addr` as seen now (moving it to the LRU tail). */
  set(name: string, addr: number, now: number): void {
    const t = this.table(name);
    if (t.has(addr)) t.delete(addr);
    else if (t.size >= this.maxEntries) {
      const oldest = t.keys().next();
      if (oldest.done !== true) t.delete(oldest.value);
    }
    t.set(addr, now);
  }

  /**
   * --rcheck [--seconds S [--reap]]: was `addr` seen within the last S seconds (ever,
   * when S is 0)? With reap, an entry whose last time is outside the window is removed.
   */
  check(name: string, addr: number, now: number, seconds: number, reap: boolean): boolean {
    const t = this.tables.get(name);
    const last = t?.get(addr);
    if (t === undefined || last === undefined) return false;
    if (seconds === 0) return true;
    // time_after(now - seconds, stamp) skips a stamp: it is stale when strictly older.
    const fresh = last >= now - seconds;
    if (!fresh && reap) t.delete(addr);
    return fresh;
  }

  /** --remove: forget `addr`; true if it was present. */
  remove(name: string, addr: number): boolean {
    return this.tables.get(name)?.delete(addr) ?? false;
  }

  /** Entries of one table as [address, last seen] (like /proc/net/xt_recent/NAME). */
  entries(name: string): [number, number][] {
    return [...(this.tables.get(name) ?? new Map<number, number>())];
  }

  clear(): void {
    this.tables.clear();
  }
}
