// Conntrack counters, one set per table (svclab models a single CPU).

/** Counters in the kernel's per-cpu ip_conntrack_stat (what `conntrack -S` prints). */
export class CtStats {
  /** Lookups that found an entry. */
  found = 0;
  /** Packets tracking declared INVALID (bad flags, out of window, bad first packet). */
  invalid = 0;
  /** Entries inserted. */
  insert = 0;
  /** Inserts refused because a tuple was already taken (a clash). */
  insertFailed = 0;
  /** New flows dropped: table full and nothing early-droppable ("table full, dropping packet"). */
  drop = 0;
  /** Non-assured entries evicted to make room for a new flow. */
  earlyDrop = 0;
  /** ICMP errors that matched no flow. */
  error = 0;
  /** Lookups restarted (kernel: hash resize race); always 0 here, kept for the -S layout. */
  searchRestart = 0;
  /** Clashes resolved by reusing the existing entry (unused here; -S layout). */
  clashResolve = 0;
  /** Inserts refused for an overlong chain (unused here; -S layout). */
  chainTooLong = 0;
  /** Entries removed for any reason (not printed by -S; the kernel dropped it from netlink). */
  delete = 0;
}
