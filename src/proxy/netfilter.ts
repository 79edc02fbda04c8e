// The netfilter vocabulary every proxy mode speaks, whatever its tables look like: the
// five hooks a packet crosses and the conntrack state bits rules match on. iptables names
// its built-in chains after the hooks; nftables registers base chains at them; ipvs runs
// at LOCAL_IN / LOCAL_OUT between them.

/** Netfilter hooks (NF_INET_*), in the kernel's numbering. */
export const enum Hook {
  Prerouting = 0,
  Input = 1,
  Forward = 2,
  Output = 3,
  Postrouting = 4,
}

/** Each hook's name, as iptables names its built-in chains and `iptables -j TRACE` prints them. */
export const HOOK_NAMES: readonly string[] = [
  'PREROUTING',
  'INPUT',
  'FORWARD',
  'OUTPUT',
  'POSTROUTING',
];

/** conntrack states as xt_conntrack's state bits (XT_CONNTRACK_STATE_BIT, SNAT, DNAT, UNTRACKED). */
export const CtState = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  SNAT: 1 << 8,
  DNAT: 1 << 9,
  UNTRACKED: 1 << 10,
} as const;
