// Collects chains and rules the way kube-proxy fills its LineBuffers (natChains,
// natRules, filterChains, filterRules), then links them into an immutable RuleSet.
// Rules written through chain()/rule() form kube-proxy's iptables-restore payload;
// ensureChain()/builtinRule() model what kube-proxy sets up with EnsureChain and
// EnsureRule (the jumps from PREROUTING, OUTPUT, ...), which are not in that payload.
import { parseRuleArgs } from './parse.ts';
import { WrittenRule } from './rule-writer.ts';
import { BUILTIN_CHAINS, Counters, TargetKind, packHeaders, packHeadersInto } from './rules.ts';
import type { Chain, Rule, RuleSet, Table, TableName } from './rules.ts';
import type { GenerationalCache } from './compile-cache.ts';
import type { ServiceFragment } from './service-fragment.ts';

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

/** A restore-payload position filled by a service fragment's lines. */
type Lines = string | ServiceFragment;

class TableBuilder {
  /** Chain lines in the order written to the restore payload. */
  readonly chainLines: Lines[] = [];
  readonly ruleLines: Lines[] = [];
  /** Declared user chains (restore payload or ensured). */
  readonly userChains = new Set<string>();
  readonly rulesByChain = new Map<string, Rule[]>();
  readonly policies = new Map<string, 'ACCEPT' | 'DROP'>();
  /** Service fragments whose owned chains follow the fixed chains (nat only). */
  readonly fragments: ServiceFragment[] = [];

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
  add(args: string[]): Rule {
    // Rules are immutable, so one with the same text can be shared between rule sets.
    if (this.cache === undefined) return this.push(parseRuleArgs(args));
    return this.push(this.cache.get(args.join(' '), () => parseRuleArgs(args)));
  }

  push(rule: Rule): Rule {
    let list = this.rulesByChain.get(rule.chain);
    if (list === undefined) this.rulesByChain.set(rule.chain, (list = []));
    list.push(rule);
    return rule;
  }

  /** Restore lines, expanding fragments (nat: declared chains / rules in write order). */
  lines(which: 'chains' | 'rules', out: string[]): void {
    const src = which === 'chains' ? this.chainLines : this.ruleLines;
    for (const l of src) {
      if (typeof l === 'string') out.push(l);
      else if (which === 'chains') for (const c of l.declared) out.push(`:${c} - [0:0]`);
      else for (const r of this.name === 'nat' ? l.natOrder : l.filter) out.push(r.line);
    }
  }
}

export class RuleSetBuilder {
  private readonly tables: { readonly [T in TableName]: TableBuilder };

  /** @param cache parsed fixed rules from earlier builds, keyed by rule text (optional). */
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
    t.ruleLines.push(t.add(args).line);
  }

  /** A service port's chains and rules, written in the payload where this is called. */
  fragment(f: ServiceFragment): void {
    const nat = this.tables.nat;
    const filter = this.tables.filter;
    for (const r of f.natShared) nat.push(r);
    for (const r of f.filter) filter.push(r);
    if (f.chains.length > 0) nat.fragments.push(f);
    if (f.declared.length > 0) nat.chainLines.push(f);
    if (f.natOrder.length > 0) nat.ruleLines.push(f);
    if (f.filter.length > 0) filter.ruleLines.push(f);
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
    const filter = this.tables.filter;
    const nat = this.tables.nat;
    let restore: string[] | undefined;
    return {
      filter: linkTable(filter),
      nat: linkTable(nat),
      // Rendered on first read: a large cluster's payload is hundreds of thousands of lines.
      get restoreLines(): readonly string[] {
        if (restore === undefined) {
          restore = [];
          for (const t of [filter, nat]) {
            restore.push(`*${t.name}`);
            t.lines('chains', restore);
            t.lines('rules', restore);
            restore.push('COMMIT');
          }
        }
        return restore;
      },
    };
  }
}

function linkTable(t: TableBuilder): Table {
  for (const [chain, list] of t.rulesByChain) {
    if (list.length > 0 && !t.userChains.has(chain) && !t.policies.has(chain)) {
      throw new Error(`${t.name}: rules for undeclared chain ${chain}`);
    }
  }
  // Built-ins, the fixed user chains, then each fragment's chains (in no global order:
  // views sort them for printing, see chainPrintOrder).
  const names = [...BUILTIN_CHAINS[t.name], ...[...t.userChains].sort()];
  const fixedIndex = new Map<string, number>();
  for (let i = 0; i < names.length; i++) fixedIndex.set(names[i]!, i);
  const chains: Chain[] = [];
  // push, not new Array(total): past ~100k elements V8 makes a preallocated array a dictionary.
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
    for (let i = 0; i < list.length; i++) rules.push(list[i]!);
  }
  const fixedRules = rules.length;
  /** Where each fragment's owned rules start in `rules`. */
  const fragmentAt: number[] = [];
  for (const f of t.fragments) {
    f.base = chains.length;
    fragmentAt.push(rules.length);
    for (const c of f.chains) {
      if (!c.declared) {
        if (c.rules.length > 0) throw new Error(`${t.name}: rules for undeclared chain ${c.name}`);
        continue;
      }
      if (fixedIndex.has(c.name)) throw new Error(`${t.name}: chain ${c.name} declared twice`);
      chains.push({
        name: c.name,
        builtin: false,
        policy: undefined,
        first: rules.length,
        count: c.rules.length,
      });
      const list = c.rules;
      for (let i = 0; i < list.length; i++) rules.push(list[i]!);
    }
  }
  let chainIndex: Map<string, number> | undefined;
  const index = (): Map<string, number> => {
    if (chainIndex === undefined) {
      chainIndex = new Map();
      for (let i = 0; i < chains.length; i++) chainIndex.set(chains[i]!.name, i);
    }
    return chainIndex;
  };
  const jump = new Int32Array(rules.length).fill(-1);
  const references = new Uint32Array(chains.length);
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const target = r.target;
    if (target.kind !== TargetKind.Jump) continue;
    let j: number | undefined;
    if (r instanceof WrittenRule && r.owner !== undefined) j = r.owner.base + r.slot;
    else
      j =
        fixedIndex.get(target.chain) ??
        (t.fragments.length > 0 ? index().get(target.chain) : undefined);
    if (j === undefined) throw new Error(`${t.name}: ${r.line}: no chain ${target.chain}`);
    if (chains[j]!.builtin)
      throw new Error(`${t.name}: ${r.line}: cannot jump to a built-in chain`);
    jump[i] = j;
    references[j] = references[j]! + 1;
  }
  // The fixed chains' rules are packed here; each fragment's once, when first linked,
  // and then copied (an incremental sync leaves most fragments as they were).
  const packed = {
    hdr: new Uint32Array(rules.length * 4),
    hflags: new Uint8Array(rules.length),
    hproto: new Uint8Array(rules.length),
  };
  packHeadersInto(packed, rules, 0, fixedRules, 0);
  t.fragments.forEach((f, n) => {
    const at = fragmentAt[n]!;
    const end = n + 1 < fragmentAt.length ? fragmentAt[n + 1]! : rules.length;
    let p = f.packed;
    if (p === undefined || p.hflags.length !== end - at) {
      p = f.packed = packHeaders(rules.slice(at, end));
    }
    packed.hdr.set(p.hdr, at * 4);
    packed.hflags.set(p.hflags, at);
    packed.hproto.set(p.hproto, at);
  });
  return {
    name: t.name,
    chains,
    // Built on first read: the evaluator follows `jump`, only views and tests ask by name.
    get chainIndex(): ReadonlyMap<string, number> {
      return index();
    },
    rules,
    jump,
    references,
    hdr: packed.hdr,
    hflags: packed.hflags,
    hproto: packed.hproto,
    counters: new Counters(rules.length, chains.length),
  };
}
