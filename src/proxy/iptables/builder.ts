// Collects chains and rules the way kube-proxy fills its LineBuffers (natChains,
// natRules, filterChains, filterRules), then links them into an immutable RuleSet.
// Rules written through chain()/rule() form kube-proxy's iptables-restore payload;
// ensureChain()/builtinRule() model what kube-proxy sets up with EnsureChain and
// EnsureRule (the jumps from PREROUTING, OUTPUT, ...), which are not in that payload.
import type { GenerationalCache } from './compile-cache.ts';
import { parseRuleArgs } from './parse.ts';
import { BUILTIN_CHAINS, Counters, TargetKind, packHeaders } from './rules.ts';
import type { Chain, Rule, RuleSet, Table, TableName } from './rules.ts';

type Part = string | readonly string[];

/**
 * An argument list written like the rule it makes: literal text splits on spaces,
 * each interpolated value stays one argument (arrays are spliced in), e.g.
 * argv`-A ${chain} -m comment --comment ${q(text)} -j ${target}`.
 */
export function argv(
  strings: TemplateStringsArray,
  ...values: (string | readonly string[])[]
): string[] {
  const out: string[] = [];
  strings.forEach((lit, i) => {
    for (const w of lit.split(' ')) if (w !== '') out.push(w);
    const v = values[i];
    if (typeof v === 'string') out.push(v);
    else if (v !== undefined) out.push(...v);
  });
  return out;
}

/** Arguments containing spaces are quoted as a shell (or iptables-restore) needs. */
function quote(arg: string): string {
  return arg.includes(' ') && !(arg.startsWith('"') && arg.endsWith('"')) ? `"${arg}"` : arg;
}

function flatten(parts: readonly Part[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') out.push(p);
    else for (const s of p) out.push(s);
  }
  return out;
}

class TableBuilder {
  /** Chain lines in the order written to the restore payload. */
  readonly chainLines: string[] = [];
  readonly ruleLines: string[] = [];
  /** Declared user chains (restore payload or ensured). */
  readonly userChains = new Set<string>();
  readonly rulesByChain = new Map<string, Rule[]>();
  readonly policies = new Map<string, 'ACCEPT' | 'DROP'>();

  constructor(
    readonly name: TableName,
    private readonly cache: GenerationalCache<Rule> | undefined,
  ) {
    for (const c of BUILTIN_CHAINS[name]) {
      this.rulesByChain.set(c, []);
      this.policies.set(c, 'ACCEPT');
    }
  }

  declare(chain: string): void {
    if (this.policies.has(chain)) throw new Error(`${chain} is a built-in chain`);
    this.userChains.add(chain);
    if (!this.rulesByChain.has(chain)) this.rulesByChain.set(chain, []);
  }

  /** Chains may be declared after their rules (kube-proxy fills separate buffers); build() checks. */
  add(args: string[], line: string = args.join(' ')): Rule {
    // Rules are immutable, so one with the same text can be shared between rule sets.
    const rule =
      this.cache === undefined
        ? parseRuleArgs(args)
        : this.cache.get(line, () => parseRuleArgs(args));
    let list = this.rulesByChain.get(rule.chain);
    if (list === undefined) this.rulesByChain.set(rule.chain, (list = []));
    list.push(rule);
    return rule;
  }
}

export class RuleSetBuilder {
  private readonly tables: { readonly [T in TableName]: TableBuilder };

  /** @param cache parsed rules from earlier builds, keyed by rule text (optional). */
  constructor(cache?: GenerationalCache<Rule>) {
    this.tables = {
      filter: new TableBuilder('filter', cache),
      nat: new TableBuilder('nat', cache),
    };
  }

  /** `:CHAIN - [0:0]` in the restore payload (utiliptables.MakeChainLine). */
  chain(table: TableName, name: string): void {
    const t = this.tables[table];
    t.declare(name);
    t.chainLines.push(`:${name} - [0:0]`);
  }

  /** One `-A CHAIN ...` line of the restore payload, as kube-proxy's LineBuffer.Write. */
  rule(table: TableName, ...parts: Part[]): void {
    const args = flatten(parts).map(quote);
    const t = this.tables[table];
    const line = args.join(' ');
    t.add(args, line);
    t.ruleLines.push(line);
  }

  /** A chain that exists outside the payload (EnsureChain). */
  ensureChain(table: TableName, name: string): void {
    this.tables[table].declare(name);
  }

  /** Set a built-in chain's policy. */
  policy(table: TableName, chain: string, policy: 'ACCEPT' | 'DROP'): void {
    const t = this.tables[table];
    if (!t.policies.has(chain)) throw new Error(`${chain} is not a built-in chain`);
    t.policies.set(chain, policy);
  }

  /** Append a rule outside the payload (what EnsureRule leaves in a built-in chain). */
  builtinRule(table: TableName, ...parts: Part[]): void {
    this.tables[table].add(flatten(parts).map(quote));
  }

  /** Link jumps, check every jump target exists, allocate counters. */
  build(): RuleSet {
    const restoreLines: string[] = [];
    for (const name of ['filter', 'nat'] as const) {
      const t = this.tables[name];
      // A loop, not push(...lines): spreading 100k+ lines overflows the call stack.
      restoreLines.push(`*${name}`);
      for (const l of t.chainLines) restoreLines.push(l);
      for (const l of t.ruleLines) restoreLines.push(l);
      restoreLines.push('COMMIT');
    }
    return {
      filter: linkTable(this.tables.filter),
      nat: linkTable(this.tables.nat),
      restoreLines,
    };
  }
}

function linkTable(t: TableBuilder): Table {
  for (const [chain, list] of t.rulesByChain) {
    if (list.length > 0 && !t.userChains.has(chain) && !t.policies.has(chain)) {
      throw new Error(`${t.name}: rules for undeclared chain ${chain}`);
    }
  }
  const names = [...BUILTIN_CHAINS[t.name], ...[...t.userChains].sort()];
  const chainIndex = new Map<string, number>();
  names.forEach((n, i) => chainIndex.set(n, i));
  const chains: Chain[] = [];
  const rules: Rule[] = [];
  for (const n of names) {
    const list = t.rulesByChain.get(n) ?? [];
    chains.push({
      name: n,
      builtin: t.policies.has(n),
      policy: t.policies.get(n),
      first: rules.length,
      count: list.length,
    });
    for (const r of list) rules.push(r);
  }
  const jump = new Int32Array(rules.length).fill(-1);
  const references = new Uint32Array(chains.length);
  rules.forEach((r, i) => {
    if (r.target.kind !== TargetKind.Jump) return;
    const j = chainIndex.get(r.target.chain);
    if (j === undefined) throw new Error(`${t.name}: ${r.line}: no chain ${r.target.chain}`);
    if (chains[j]?.builtin)
      throw new Error(`${t.name}: ${r.line}: cannot jump to a built-in chain`);
    jump[i] = j;
    references[j] = (references[j] ?? 0) + 1;
  });
  return {
    name: t.name,
    chains,
    chainIndex,
    rules,
    jump,
    references,
    ...packHeaders(rules),
    counters: new Counters(rules.length, chains.length),
  };
}
