// `nft list ruleset` for the kube-proxy table, byte for byte as nft 1.0.6 prints it
// (checked against the real nft in a network namespace): tab indentation, named
// sets and maps first and then chains (each group in creation order), a blank line
// between objects, elements sorted by their key bytes and wrapped as nft's
// calculate_delim does, standard priority names only where the hook allows them,
// times as nft's time_print (10800s -> 3h).
import { u32ToIp } from '../../packet/addr.ts';
import type { BaseChainSpec, NftChain, NftElement, NftSet, Ruleset } from './ruleset.ts';

const ELEMENT_NEWLINE = ',\n\t\t\t     ';

/** nft's time_print: 1d2h3m4s5ms, zero parts left out. */
export function formatTime(ms: number): string {
  let rest = Math.floor(ms);
  const parts: [number, string][] = [
    [86400000, 'd'],
    [3600000, 'h'],
    [60000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ];
  let s = '';
  for (const [unit, suffix] of parts) {
    const n = Math.floor(rest / unit);
    rest -= n * unit;
    if (n > 0) s += `${n}${suffix}`;
  }
  return s;
}

/**
 * prio2str: a standard priority name (offset by up to ±10) when that name is valid
 * for the hook in the ip family (dstnat only at prerouting, srcnat only at
 * postrouting), else the number.
 */
export function formatPriority(base: BaseChainSpec): string {
  const std: [number, string, string | undefined][] = [
    [-300, 'raw', undefined],
    [-150, 'mangle', undefined],
    [-100, 'dstnat', 'prerouting'],
    [0, 'filter', undefined],
    [50, 'security', undefined],
    [100, 'srcnat', 'postrouting'],
  ];
  for (const [num, name, onlyHook] of std) {
    if (onlyHook !== undefined && onlyHook !== base.hookName) continue;
    const d = base.priority - num;
    if (d < -10 || d > 10) continue;
    return d === 0 ? name : d > 0 ? `${name} + ${d}` : `${name} - ${-d}`;
  }
  return String(base.priority);
}

function byKeyBytes(a: NftElement, b: NftElement): number {
  return a.sort1 - b.sort1 || a.sort2 - b.sort2;
}

/** `elements = { ... }`: address sets two per line, concatenations one per line. */
function elementsLine(set: NftSet, items: string[]): string {
  const pairs = set.type === 'ipv4_addr';
  let s = '';
  items.forEach((item, i) => {
    if (i > 0) s += pairs && i % 2 === 1 ? ', ' : ELEMENT_NEWLINE;
    s += item;
  });
  return `\t\telements = { ${s} }\n`;
}

function setText(set: NftSet, now: number): string {
  let s = `\t${set.isMap ? 'map' : 'set'} ${set.name} {\n\t\ttype ${set.type}\n`;
  if (set.size !== undefined) s += `\t\tsize ${set.size}\n`;
  if (set.flags !== undefined) s += `\t\tflags ${set.flags}\n`;
  if (set.timeout !== undefined) s += `\t\ttimeout ${formatTime(set.timeout * 1000)}\n`;
  if (set.comment !== undefined) s += `\t\tcomment "${set.comment}"\n`;
  let items: string[];
  if (set.dyn !== null) {
    items = set.dyn
      .entries(now)
      .sort((a, b) => a[0] - b[0])
      .map(([addr, exp]) => `${u32ToIp(addr)} expires ${formatTime((exp - now) * 1000)}`);
  } else {
    items = [...set.elements].sort(byKeyBytes).map((e) => {
      const c = e.comment === undefined ? '' : ` comment "${e.comment}"`;
      return e.value === undefined ? `${e.key}${c}` : `${e.key}${c} : ${e.value.text}`;
    });
  }
  if (items.length > 0) s += elementsLine(set, items);
  return s + '\t}\n';
}

function chainText(c: NftChain): string {
  let s = `\tchain ${c.name} {\n`;
  if (c.comment !== undefined) s += `\t\tcomment "${c.comment}"\n`;
  if (c.base !== undefined) {
    s += `\t\ttype ${c.base.type} hook ${c.base.hookName} priority ${formatPriority(c.base)}; policy accept;\n`;
  }
  for (const r of c.rules) s += `\t\t${r.text}\n`;
  return s + '\t}\n';
}

/** The table as `nft list ruleset` prints it; `now` (seconds) dates affinity expiries. */
export function listRuleset(rs: Ruleset, now = 0): string {
  const blocks: string[] = [];
  for (const set of rs.sets) blocks.push(setText(set, now));
  for (const c of rs.chains) blocks.push(chainText(c));
  return `table ${rs.family} ${rs.name} {\n\tcomment "${rs.comment}"\n${blocks.join('\n')}}\n`;
}
