// The table as the nft transaction kube-proxy writes for it, one `add` per object, in
// knftables' syntax (what knftables.Fake.Dump() prints and kube-proxy's unit tests hold
// as their expected output): `add chain ip kube-proxy services`, `add rule ip kube-proxy
// CHAIN RULE`, `add element ip kube-proxy MAP { KEY : VERDICT }`. Rules are written the
// way kube-proxy spells them (`mark set mark or 0x4000`, `ip saddr != { 203.0.113.0/25 }`,
// `numgen ... vmap { 0 : goto a , 1 : goto b }`), not as `nft list` prints them back.
// A source-range set of several CIDRs keeps nft's merged, sorted form (kube-proxy writes
// them in the Service's order; the kernel holds the same intervals). Affinity sets carry
// no size (kube-proxy sets none; the kernel's default is what `nft list` shows) and no
// elements (the packet path fills them).
import { MatchKind } from './ruleset.ts';
import type { NftChain, NftRule, NftSet, Ruleset } from './ruleset.ts';

const hexShort = (h: string): string => {
  const n = parseInt(h, 16);
  return n === 0 ? '0' : `0x${n.toString(16)}`;
};

/** A rule's text as kube-proxy writes it into its transaction. */
export function kubeRuleText(r: NftRule): string {
  let s = r.text
    .replace(
      /^meta mark set meta mark \| 0x([0-9a-f]{8})/,
      (_m, h: string) => `mark set mark or ${hexShort(h)}`,
    )
    .replace(
      /^meta mark set meta mark \^ 0x([0-9a-f]{8})/,
      (_m, h: string) => `mark set mark xor ${hexShort(h)}`,
    )
    .replace(
      /^meta mark & 0x([0-9a-f]{8}) == 0x([0-9a-f]{8})/,
      (_m, m: string, v: string) => `mark and ${hexShort(m)} == ${hexShort(v)}`,
    );
  if (s.includes('numgen random mod ')) s = s.replace(/, (\d+ : )/g, ' , $1');
  // nft prints a one-element anonymous set bare; kube-proxy writes the braces.
  const ranges = r.matches.some(
    (m) => m.kind === MatchKind.SaddrRanges || m.kind === MatchKind.DaddrRanges,
  );
  if (ranges && !s.includes('{')) {
    s = s.replace(
      /^(.*?ip [sd]addr (?:!= )?)(\S+)/,
      (_m, head: string, a: string) => `${head}{ ${a} }`,
    );
  }
  return s;
}

function chainLine(prefix: string, c: NftChain): string {
  const parts: string[] = [];
  if (c.base !== undefined) {
    parts.push(`type ${c.base.type} hook ${c.base.hookName} priority ${c.base.priority} ;`);
  }
  if (c.comment !== undefined) parts.push(`comment "${c.comment}" ;`);
  return parts.length === 0
    ? `add chain ${prefix} ${c.name}`
    : `add chain ${prefix} ${c.name} { ${parts.join(' ')} }`;
}

function setLine(prefix: string, set: NftSet): string {
  const parts = [`type ${set.type} ;`];
  if (set.flags !== undefined) parts.push(`flags ${set.flags} ;`);
  if (set.timeout !== undefined) parts.push(`timeout ${set.timeout}s ;`);
  if (set.comment !== undefined) parts.push(`comment "${set.comment}" ;`);
  return `add ${set.isMap ? 'map' : 'set'} ${prefix} ${set.name} { ${parts.join(' ')} }`;
}

/** The transaction that creates `rs` from nothing, one line per object, ending in a newline. */
export function dumpTransaction(rs: Ruleset): string {
  const prefix = `${rs.family} ${rs.name}`;
  const out = [`add table ${prefix} { comment "${rs.comment}" ; }`];
  for (const set of rs.sets) out.push(setLine(prefix, set));
  for (const c of rs.chains) out.push(chainLine(prefix, c));
  for (const c of rs.chains) {
    for (const r of c.rules) out.push(`add rule ${prefix} ${c.name} ${kubeRuleText(r)}`);
  }
  for (const set of rs.sets) {
    if (set.dyn !== null) continue;
    for (const e of set.elements) {
      const comment = e.comment === undefined ? '' : ` comment "${e.comment}"`;
      const value = e.value === undefined ? '' : ` : ${e.value.text}`;
      out.push(`add element ${prefix} ${set.name} { ${e.key}${comment}${value} }`);
    }
  }
  return out.join('\n') + '\n';
}
