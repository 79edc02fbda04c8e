// Collects chains and rules the way kube-proxy fills its LineBuffers (natChains,
// natRules, filterChains, filterRules), then links them into an immutable RuleSet.
// Rules written through chain()/rule() form kube-proxy's iptables-restore payload;
// ensureChain()/builtinRule() model what kube-proxy sets up with EnsureChain and
// EnsureRule (the jumps from PREROUTING, OUTPUT, ...), which are not in that payload.
// Fixed rules are parsed into objects and encoded into their chain's column run; a
// service port's rules arrive as columns (column-writer.ts). Linking concatenates the
// runs, fixed chains first, and resolves jumps to chain indices.
import { ColumnWriter } from './column-writer.ts';
import type { FragmentTarget } from './column-writer.ts';
import { parseRuleArgs } from './parse.ts';
import { HDR_IFACE, OP_CONNTRACK, OP_MARK, RuleColumns, encodeRule } from './rule-columns.ts';
import { BUILTIN_CHAINS, Counters, TargetKind } from './rules.ts';
import type { Chain, Rule, RuleSet, Table, TableName } from './rules.ts';
import type { GenerationalCache } from './compile-cache.ts';
import { allRules } from './table-rules.ts';
import type { FragmentPlace, ServiceFragment } from './service-fragment.ts';

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

/** Jump targets by name, shared by both tables: a reference is -1 - id. */
class ChainNames {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  ref(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return -1 - id;
  }
}

class TableBuilder {
  /** Chain lines in the order written to the restore payload. */
  readonly chainLines: Lines[] = [];
  readonly ruleLines: Lines[] = [];
  /** Declared user chains (restore payload or ensured). */
  readonly userChains = new Set<string>();
  /** Each fixed chain's rules, in order. */
  readonly runs = new Map<string, RuleColumns>();
  readonly policies = new Map<string, 'ACCEPT' | 'DROP'>();
  readonly objRules: Rule[] = [];
  /**
   * Once service fragments are written (nat), the fixed chains are final: built-ins, then
   * user chains sorted by name. The fragments' own chains follow them.
   */
  fixed: string[] | undefined;
  fixedIndex: Map<string, number> | undefined;
  /** The fragments' own chains' rules: the table's columns, fixed chains' runs appended last. */
  owned: RuleColumns | undefined;
  /** Once frozen: the number of chains (fixed ones first), and each chain's rules' range. */
  chainCount = 0;
  first = new Int32Array(0);
  end = new Int32Array(0);

  constructor(
    readonly name: TableName,
    private readonly cache: GenerationalCache<Rule> | undefined,
    private readonly jumpNames: ChainNames,
  ) {
    for (const c of BUILTIN_CHAINS[name]) this.policies.set(c, 'ACCEPT');
  }

  declare(chain: string): void {
    if (this.policies.has(chain)) throw new Error(`${chain} is a built-in chain`);
    if (this.fixed !== undefined && !this.userChains.has(chain)) {
      throw new Error(`${this.name}: chain ${chain} declared after service rules`);
    }
    this.userChains.add(chain);
  }

  /** Fix the chain list (see `fixed`); `capacity`: expected rules (and chains) in own chains. */
  freeze(capacity: number, ops: number, chains: number): void {
    if (this.fixed !== undefined) return;
    const fixed = (this.fixed = [...BUILTIN_CHAINS[this.name], ...[...this.userChains].sort()]);
    this.fixedIndex = new Map(fixed.map((n, i) => [n, i]));
    this.chainCount = fixed.length;
    this.owned = new RuleColumns(capacity, ops);
    // Sized once (doubling from a small array copied ~10 MiB at 100,000 Services).
    this.first = new Int32Array(fixed.length + chains);
    this.end = new Int32Array(fixed.length + chains);
  }

  run(chain: string): RuleColumns {
    let r = this.runs.get(chain);
    if (r === undefined) this.runs.set(chain, (r = new RuleColumns(8)));
    return r;
  }

  /** Chains may be declared after their rules (kube-proxy fills separate buffers); build() checks. */
  add(args: string[]): Rule {
    // Rules are immutable, so one with the same text can be shared between rule sets.
    const rule =
      this.cache === undefined
        ? parseRuleArgs(args)
        : this.cache.get(args.join(' '), () => parseRuleArgs(args));
    const t = rule.target;
    const ref = t.kind === TargetKind.Jump ? this.jumpNames.ref(t.chain) : 0;
    encodeRule(this.run(rule.chain), rule, -1 - this.objRules.length, ref);
    this.objRules.push(rule);
    return rule;
  }

  addOwnedChain(name: string): number {
    if (this.fixedIndex!.has(name)) throw new Error(`${this.name}: chain ${name} declared twice`);
    const c = this.chainCount++;
    if (c >= this.first.length) this.growChains(2 * c + 16);
    return c;
  }

  /** Chains [from, to) of `t` (a fragment run's own chains), their rules moved by `shift`. */
  copyOwnedChains(t: Table, from: number, to: number, shift: number): void {
    const c = this.chainCount;
    const n = to - from;
    if (c + n > this.first.length) this.growChains(2 * (c + n));
    this.chainCount = c + n;
    const first = this.first;
    const end = this.end;
    first.set(t.chainFirst.subarray(from, to), c);
    end.set(t.chainEnd.subarray(from, to), c);
    if (shift !== 0) {
      for (let j = c; j < c + n; j++) {
        first[j]! += shift;
        end[j]! += shift;
      }
    }
  }

  private growChains(cap: number): void {
    const f = new Int32Array(cap);
    f.set(this.first);
    this.first = f;
    const e = new Int32Array(cap);
    e.set(this.end);
    this.end = e;
  }

  place(chain: number, first: number, end: number): void {
    this.first[chain] = first;
    this.end[chain] = end;
  }

  fixedChain(name: string): number {
    const c = this.fixedIndex?.get(name);
    if (c === undefined) throw new Error(`${this.name}: no chain ${name}`);
    if (c < BUILTIN_CHAINS[this.name].length) {
      throw new Error(`${this.name}: cannot jump to a built-in chain ${name}`);
    }
    return c;
  }
}

/** Restore lines, expanding fragments (nat: declared chains / rules in write order). */
function payloadLines(
  table: TableName,
  src: readonly Lines[],
  which: 'chains' | 'rules',
  out: string[],
): void {
  for (const l of src) {
    if (typeof l === 'string') {
      out.push(l);
      continue;
    }
    const o = l.objects();
    if (which === 'chains') for (const c of o.declared) out.push(`:${c} - [0:0]`);
    else for (const r of table === 'nat' ? o.natOrder : o.filter) out.push(r.line);
  }
}

export class RuleSetBuilder {
  private readonly tables: { readonly [T in TableName]: TableBuilder };
  private readonly jumpNames = new ChainNames();
  private readonly fragments: ServiceFragment[] = [];
  /** Each fragment's place in the rule set being built, made FragmentPlace by build(). */
  private readonly pending: FragmentPlace[] = [];
  private checkedNat: Table | undefined;
  private writer: ColumnWriter | undefined;

  /** @param cache parsed fixed rules from earlier builds, keyed by rule text (optional). */
  constructor(cache?: GenerationalCache<Rule>) {
    this.tables = {
      filter: new TableBuilder('filter', cache, this.jumpNames),
      nat: new TableBuilder('nat', cache, this.jumpNames),
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

  /**
   * The writer for service fragments' rules: startFragment(), write, then fragment(f).
   * From the first call on no chain can be declared. `capacity`: the rules expected in
   * the fragments' own chains (the columns grow past it).
   */
  columnWriter(capacity = 1024, ops = capacity, chains = 1024): ColumnWriter {
    if (this.writer === undefined) {
      const nat = this.tables.nat;
      const filter = this.tables.filter;
      nat.freeze(capacity, ops, chains);
      filter.freeze(0, 0, 0);
      const target: FragmentTarget = {
        chainRun: (table, chain) => (table === 'nat' ? nat : filter).run(chain),
        owned: nat.owned!,
        addOwnedChain: (name) => nat.addOwnedChain(name),
        place: (chain, first, end) => nat.place(chain, first, end),
        copyOwnedChains: (t, from, to, shift) => nat.copyOwnedChains(t, from, to, shift),
        nextChain: () => nat.chainCount,
        fixedChain: (name) => nat.fixedChain(name),
        fixed: { nat: nat.fixed!, filter: filter.fixed! },
      };
      this.writer = new ColumnWriter(target);
    }
    return this.writer;
  }

  /** Start writing the next service fragment's rules (see columnWriter). */
  startFragment(): ColumnWriter {
    const w = this.columnWriter();
    w.start(this.fragments.length);
    return w;
  }

  /** The service port's rules, just written, placed in the payload where this is called. */
  fragment(f: ServiceFragment): void {
    this.placeFragment(f, this.columnWriter().finish());
  }

  /**
   * Whether `f`'s rules can be copied from the rule set it was last linked into: the
   * same fixed chains (always, for one proxier's options).
   */
  canReplay(f: ServiceFragment): boolean {
    const p = f.placed;
    if (p === undefined) return false;
    if (p.nat === this.checkedNat) return true;
    this.columnWriter();
    const fixed = this.tables.nat.fixed!;
    const old = p.nat.fixedNames;
    const filterFixed = this.tables.filter.fixed!;
    const same =
      old.length === fixed.length &&
      fixed.every((n, i) => old[i] === n) &&
      p.filter.fixedNames.length === filterFixed.length &&
      filterFixed.every((n, i) => p.filter.fixedNames[i] === n);
    if (same) this.checkedNat = p.nat;
    return same;
  }

  /**
   * Copy fragments' rules from their last rule set (canReplay must hold for each): `fs`
   * lie one after another there (see follows()), so their own chains move as one block.
   */
  replayFragments(fs: readonly ServiceFragment[]): void {
    const w = this.columnWriter();
    const places = w.replay(
      fs.map((f) => f.placed!),
      this.fragments.length,
    );
    fs.forEach((f, k) => this.placeFragment(f, places[k]!));
  }

  private placeFragment(f: ServiceFragment, place: FragmentPlace): void {
    const shape = place.shape;
    this.fragments.push(f);
    this.pending.push(place);
    const nat = this.tables.nat;
    if (shape.declared) nat.chainLines.push(f);
    if (shape.nat) nat.ruleLines.push(f);
    if (shape.filter) this.tables.filter.ruleLines.push(f);
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

  /** Tell each fragment where its rules are in the tables just linked. */
  private placeAll(tables: { nat: Table; filter: Table }): void {
    // Shared-chain rules move with their chain's place in the table.
    const fs = this.fragments;
    for (let n = 0; n < fs.length; n++) {
      const p = this.pending[n]!;
      p.link(tables.nat, tables.filter, n);
      fs[n]!.placed = p;
    }
  }

  /** Link jumps, check every jump target exists, allocate counters. */
  build(): RuleSet {
    const filter = this.tables.filter;
    const nat = this.tables.nat;
    let restore: string[] | undefined;
    const tables = {
      filter: linkTable(filter, this.jumpNames.names, this.fragments, this.pending),
      nat: linkTable(nat, this.jumpNames.names, this.fragments, this.pending),
    };
    this.placeAll(tables);
    this.checkedNat = undefined;
    // The payload needs only the builders' line lists, not their columns.
    const payload = [filter, nat].map((t) => ({
      name: t.name,
      chainLines: t.chainLines,
      ruleLines: t.ruleLines,
    }));
    return {
      ...tables,
      // Rendered on first read: a large cluster's payload is hundreds of thousands of lines.
      get restoreLines(): readonly string[] {
        if (restore === undefined) {
          restore = [];
          for (const t of payload) {
            restore.push(`*${t.name}`);
            payloadLines(t.name, t.chainLines, 'chains', restore);
            payloadLines(t.name, t.ruleLines, 'rules', restore);
            restore.push('COMMIT');
          }
        }
        return restore;
      },
    };
  }
}

/** Append run `src` to `dst` (exactly sized), resolving its jumps with `resolve`. */
function appendRun(
  dst: RuleColumns,
  src: RuleColumns,
  resolve: (ref: number, i: number) => number,
): void {
  const at = dst.n;
  const opAt = dst.nOps;
  const n = src.n;
  const ops = src.nOps;
  dst.hdr.set(src.hdr.subarray(0, 4 * n), 4 * at);
  dst.hflags.set(src.hflags.subarray(0, n), at);
  dst.hproto.set(src.hproto.subarray(0, n), at);
  dst.target.set(src.target.subarray(0, n), at);
  dst.targA.set(src.targA.subarray(0, n), at);
  dst.targB.set(src.targB.subarray(0, n), at);
  dst.owner.set(src.owner.subarray(0, n), at);
  dst.op.set(src.op.subarray(0, ops), opAt);
  dst.arg.set(src.arg.subarray(0, 4 * ops), 4 * opAt);
  dst.inv.set(src.inv.subarray(0, ops), opAt);
  const opStart = dst.opStart;
  const target = dst.target;
  const targA = dst.targA;
  for (let i = 0; i < n; i++) {
    opStart[at + i] = src.opStart[i]! + opAt;
    if (target[at + i] === TargetKind.Jump) targA[at + i] = resolve(targA[at + i]!, at + i);
  }
  if (src.objects !== undefined) {
    const objs = (dst.objects ??= new Map());
    for (const [k, m] of src.objects) objs.set(k + opAt, m);
  }
  dst.n = at + n;
  dst.nOps = opAt + ops;
  opStart[dst.n] = dst.nOps;
}

/** Fixed rules name their targets (-1 - id); the fragments' already hold chain indices. */
function jumpResolver(
  table: TableName,
  jumpNames: readonly string[],
  fixedIndex: ReadonlyMap<string, number>,
  builtins: number,
): (ref: number, i: number) => number {
  return (ref, i) => {
    if (ref >= 0) return ref;
    const name = jumpNames[-1 - ref]!;
    const j = fixedIndex.get(name);
    if (j === undefined) throw new Error(`${table}: rule ${i}: no chain ${name}`);
    if (j < builtins) throw new Error(`${table}: rule ${i}: cannot jump to a built-in chain`);
    return j;
  };
}

// The Table's getters (made here) keep this function's variables: only the table's own.
function linkTable(
  t: TableBuilder,
  jumpNames: readonly string[],
  fragments: readonly ServiceFragment[],
  places: readonly FragmentPlace[],
): Table {
  for (const chain of t.runs.keys()) {
    if (!t.userChains.has(chain) && !t.policies.has(chain)) {
      throw new Error(`${t.name}: rules for undeclared chain ${chain}`);
    }
  }
  // The fragments' chains (in no global order: views sort them for printing, see
  // chainPrintOrder) and their rules come first in memory, then the fixed chains' rules;
  // chain indices start with the built-ins, then the fixed user chains.
  const fixed = t.fixed ?? [...BUILTIN_CHAINS[t.name], ...[...t.userChains].sort()];
  const fixedIndex = t.fixedIndex ?? new Map(fixed.map((n, i) => [n, i]));
  const builtins = BUILTIN_CHAINS[t.name].length;
  const frozen = t.fixed !== undefined;
  const chainCount = frozen ? t.chainCount : fixed.length;
  const cols = t.owned ?? new RuleColumns(0, 0);
  const fixedAt = cols.n;
  let rules = cols.n;
  let ops = cols.nOps;
  for (const r of t.runs.values()) {
    rules += r.n;
    ops += r.nOps;
  }
  cols.reserve(rules, ops);
  // The fragments' chains' ranges were set as they were written or copied.
  // Views of the builder's arrays (sized for this build, not written after it): no copy.
  const chainFirst = frozen ? t.first.subarray(0, chainCount) : new Int32Array(chainCount);
  const chainEnd = frozen ? t.end.subarray(0, chainCount) : new Int32Array(chainCount);
  const chainDrop = new Uint8Array(chainCount);
  const resolve = jumpResolver(t.name, jumpNames, fixedIndex, builtins);
  fixed.forEach((name, c) => {
    chainFirst[c] = cols.n;
    const run = t.runs.get(name);
    if (run !== undefined) appendRun(cols, run, resolve);
    chainEnd[c] = cols.n;
    if (t.policies.get(name) === 'DROP') chainDrop[c] = 1;
  });
  cols.trim();
  // Fragments write no conntrack or mark match: only fixed rules can be `single`.
  const single = new Uint8Array(rules);
  for (let i = fixedAt; i < rules; i++) {
    const k = cols.opStart[i]!;
    const op = cols.op[k];
    if (cols.opStart[i + 1] === k + 1 && (op === OP_CONNTRACK || op === OP_MARK)) {
      // -i/-o rules are left to the slow path.
      if ((cols.hflags[i]! & HDR_IFACE) === 0) single[i] = op;
    }
  }
  let chainIndex: Map<string, number> | undefined;
  let chains: Chain[] | undefined;
  let names: string[] | undefined;
  // The fragments' chains are named by their fragments (nat only), in chain order.
  const chainNames = (): string[] => {
    if (names === undefined) {
      names = [...fixed];
      if (t.name === 'nat') {
        for (const p of places) for (let k = 0; k < p.chains; k++) names.push(p.chainName(k));
      }
    }
    return names;
  };
  let ruleObjects: Rule[] | undefined;
  let references: Uint32Array | undefined;
  const table: Table = {
    name: t.name,
    // Built on first read: the evaluator follows chain indices, only views and tests ask by name.
    get chainIndex(): ReadonlyMap<string, number> {
      if (chainIndex === undefined) {
        const chainName = chainNames();
        chainIndex = new Map();
        for (let i = 0; i < chainName.length; i++) chainIndex.set(chainName[i]!, i);
      }
      return chainIndex;
    },
    get chains(): readonly Chain[] {
      return (chains ??= chainNames().map((name, c) => ({
        name,
        builtin: c < builtins,
        policy: c < builtins ? (chainDrop[c] === 1 ? 'DROP' : 'ACCEPT') : undefined,
        first: chainFirst[c]!,
        count: chainEnd[c]! - chainFirst[c]!,
      })));
    },
    // Made on first read (views, traces): a sync needs only the fixed ones.
    get chainName(): readonly string[] {
      return chainNames();
    },
    fixedNames: fixed,
    chainCount,
    chainFirst,
    chainEnd,
    builtins,
    fixedChains: fixed.length,
    fixedAt,
    chainDrop,
    size: rules,
    get rules(): readonly Rule[] {
      return (ruleObjects ??= allRules(table, true));
    },
    cols,
    single,
    // Counted on first read (iptables -L): a sync does not need them.
    get references(): Uint32Array {
      if (references === undefined) {
        references = new Uint32Array(chainCount);
        for (let i = 0; i < rules; i++) {
          if (cols.target[i] === TargetKind.Jump) references[cols.targA[i]!]!++;
        }
      }
      return references;
    },
    counters: new Counters(rules, builtins), // policy counters: built-in chains only
    objRules: t.objRules,
    fragments,
  };
  return table;
}
