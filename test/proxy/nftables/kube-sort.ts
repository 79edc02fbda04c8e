// kube-proxy's sortNFTablesTransaction (pkg/proxy/nftables/helpers_test.go, kubernetes
// commit 030880a5dc5449403c6d1f0aa146a7dc21d6c6dc), which its assertNFTablesTransactionEqual
// applies to both sides before comparing: blank and `#` lines dropped; then by object type
// (table, chain, rule, set, map, element), by object name (the fifth word), rules of one
// chain in the order they were added, other lines of one object by the whole line.
const OBJECT_ORDER: Readonly<Record<string, number>> = {
  table: 10,
  chain: 9,
  rule: 8,
  set: 7,
  map: 6,
  element: 5,
};

function compare(li: string, lj: string): number {
  const wi = li.split(' ');
  const wj = lj.split(' ');
  if (wi.length < 5 || wj.length < 5) return 0;
  const ti = wi[1] ?? '';
  const tj = wj[1] ?? '';
  if (ti !== tj) return (OBJECT_ORDER[tj] ?? 0) - (OBJECT_ORDER[ti] ?? 0);
  const ni = wi[4] ?? '';
  const nj = wj[4] ?? '';
  if (ni !== nj) return ni < nj ? -1 : 1;
  if (ti === 'rule') return 0;
  return li < lj ? -1 : li > lj ? 1 : 0;
}

/** The transaction's lines in kube-proxy's comparison order (Array.prototype.sort is stable). */
export function sortNFTablesTransaction(tx: string): string[] {
  return tx
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .sort(compare);
}

/** How many of `expected`'s lines `actual` has (as a multiset), for the report. */
export function matchingLines(expected: readonly string[], actual: readonly string[]): number {
  const left = new Map<string, number>();
  for (const l of actual) left.set(l, (left.get(l) ?? 0) + 1);
  let n = 0;
  for (const l of expected) {
    const k = left.get(l) ?? 0;
    if (k > 0) {
      n++;
      left.set(l, k - 1);
    }
  }
  return n;
}
