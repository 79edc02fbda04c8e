// A table's rules as objects, for views and tests: fixed and loaded rules are kept as
// objects (Table.objRules); a service port's rules are written again by its fragment
// (service-fragment.ts). Within a chain a fragment's rules are consecutive, so the k-th
// rule of a run with the same owner is the fragment's k-th rule in that chain.
import type { ObjectFragment } from './service-fragment.ts';
import type { Rule, Table } from './rules.ts';

/** The chain holding rule `i` (see Table.fixedAt: two ranges, each in chain order). */
export function chainOfRule(t: Table, i: number): number {
  const first = t.chainFirst;
  const end = t.chainEnd;
  const fixed = i >= t.fixedAt;
  let lo = fixed ? 0 : t.fixedChains;
  let hi = fixed ? t.fixedChains - 1 : t.chainCount - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (end[mid]! <= i) lo = mid + 1;
    else if (first[mid]! > i) hi = mid - 1;
    else return mid;
  }
  return lo;
}

/** Rule `i` as an object (a service rule is written again: for single lookups, e.g. traces). */
export function ruleAt(t: Table, i: number): Rule {
  const owner = t.cols.owner;
  const o = owner[i]!;
  if (o < 0) return t.objRules[-1 - o]!;
  const c = chainOfRule(t, i);
  let k = 0;
  for (let j = i - 1; j >= t.chainFirst[c]! && owner[j] === o; j--) k++;
  return t.fragments[o]!.objects().rulesIn(t.name, t.chainName[c]!)[k]!;
}

/**
 * The rules of chain `c` as objects; `made` holds fragments written for earlier chains of
 * the same view, `keep` asks fragments to remember their objects (Table.rules).
 */
export function chainRules(
  t: Table,
  c: number,
  made: Map<number, ObjectFragment>,
  keep: boolean,
  out: Rule[] = [],
): Rule[] {
  const owner = t.cols.owner;
  const name = t.chainName[c]!;
  let prev = -1;
  let k = 0;
  let list: readonly Rule[] = [];
  for (let i = t.chainFirst[c]!; i < t.chainEnd[c]!; i++) {
    const o = owner[i]!;
    if (o < 0) {
      out.push(t.objRules[-1 - o]!);
      prev = o;
      continue;
    }
    if (o !== prev) {
      let f = made.get(o);
      if (f === undefined) made.set(o, (f = t.fragments[o]!.objects(keep)));
      list = f.rulesIn(t.name, name);
      k = 0;
      prev = o;
    }
    out.push(list[k++]!);
  }
  return out;
}

/** Every rule as an object, in table order (see Table.rules). */
export function allRules(t: Table, keep: boolean): Rule[] {
  const out: Rule[] = [];
  const made = new Map<number, ObjectFragment>();
  for (let c = 0; c < t.chainCount; c++) chainRules(t, c, made, keep, out);
  return out;
}
