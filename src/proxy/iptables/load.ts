// Load `iptables-save` / `iptables-restore` text (optionally with `[pkts:bytes]`
// counters, as `iptables-save -c` writes) into a RuleSet, so rules captured from a
// real node can be listed and evaluated like compiled ones. Only filter and nat.
import { RuleSetBuilder } from './builder.ts';
import { tokenizeLine } from './parse.ts';
import { BUILTIN_CHAINS } from './rules.ts';
import type { RuleSet, TableName } from './rules.ts';

interface Pending {
  table: TableName;
  chain: string;
  pkts: number;
  bytes: number;
}

function counters(s: string | undefined): [number, number] {
  const m = s === undefined ? null : /^\[(\d+):(\d+)\]$/.exec(s);
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

/** Parse restore text; throws on tables other than filter/nat or on malformed lines. */
export function loadRestoreText(text: string): RuleSet {
  const b = new RuleSetBuilder();
  let table: TableName | undefined;
  const policyCounters: Pending[] = [];
  const ruleCounters: Pending[] = [];
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${n + 1}`;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name !== 'filter' && name !== 'nat')
        throw new Error(`${where}: unsupported table ${name}`);
      table = name;
      return;
    }
    if (table === undefined) throw new Error(`${where}: outside a table`);
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const [name = '', policy = '-', cnt] = line.slice(1).split(' ');
      if (BUILTIN_CHAINS[table].includes(name)) {
        b.policy(table, name, policy === 'DROP' ? 'DROP' : 'ACCEPT');
        const [pkts, bytes] = counters(cnt);
        policyCounters.push({ table, chain: name, pkts, bytes });
      } else {
        b.ensureChain(table, name);
      }
      return;
    }
    let args = tokenizeLine(line);
    let cnt: [number, number] = [0, 0];
    if (args[0]?.startsWith('[')) {
      cnt = counters(args[0]);
      args = args.slice(1);
    }
    if (args[0] !== '-A') throw new Error(`${where}: expected -A: ${line}`);
    b.builtinRule(table, args);
    ruleCounters.push({ table, chain: args[1] ?? '', pkts: cnt[0], bytes: cnt[1] });
  });
  const rs = b.build();
  // Rules keep their order within a chain, so the k-th rule seen for a chain is its k-th rule.
  const seen = new Map<string, number>();
  for (const c of ruleCounters) {
    const t = c.table === 'filter' ? rs.filter : rs.nat;
    const key = `${c.table}/${c.chain}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const ci = t.chainIndex.get(c.chain);
    const ch = ci === undefined ? undefined : t.chains[ci];
    if (ch === undefined) continue;
    t.counters.pkts[ch.first + k] = c.pkts;
    t.counters.bytes[ch.first + k] = c.bytes;
  }
  for (const c of policyCounters) {
    const t = c.table === 'filter' ? rs.filter : rs.nat;
    const ci = t.chainIndex.get(c.chain) ?? -1;
    t.counters.policyPkts[ci] = c.pkts;
    t.counters.policyBytes[ci] = c.bytes;
  }
  return rs;
}
