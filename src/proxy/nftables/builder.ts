// Builds one Ruleset the way kube-proxy fills its nft transaction: chains and sets
// in creation order (which is the order `nft list ruleset` prints them in), rules
// appended to chains, elements added to sets and maps (a later element with the same
// key replaces the value, as nftElementStorage.ensureElem does). build() resolves
// every verdict's chain name to an index.
import { PairTable } from './pair-table.ts';
import type { AffinitySet } from './affinity.ts';
import type { Part, Stmt } from './exprs.ts';
import { ActionKind, packVerdict } from './ruleset.ts';
import type {
  BaseChainSpec,
  NftChain,
  NftElement,
  NftRule,
  NftSet,
  NftVerdict,
  Ruleset,
} from './ruleset.ts';

interface ChainDraft {
  name: string;
  comment: string | undefined;
  base: BaseChainSpec | undefined;
  rules: NftRule[];
}

interface SetDraft extends NftSet {
  readonly elements: NftElement[];
}

export interface SetSpec {
  readonly type: string;
  readonly isMap?: boolean;
  readonly comment?: string;
  readonly flags?: string;
  readonly timeout?: number;
  readonly size?: number;
  readonly dyn?: AffinitySet;
  /** Expected element count (sizes the hash). */
  readonly expected?: number;
}

export class RulesetBuilder {
  private readonly chains: ChainDraft[] = [];
  private readonly chainIndex = new Map<string, number>();
  private readonly sets: SetDraft[] = [];
  private readonly setIndex = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly comment: string,
  ) {}

  /** Create a chain if it does not exist yet (kube-proxy's ensureChain). */
  chain(name: string, opts: { comment?: string; base?: BaseChainSpec } = {}): void {
    if (this.chainIndex.has(name)) return;
    this.chainIndex.set(name, this.chains.length);
    this.chains.push({ name, comment: opts.comment, base: opts.base, rules: [] });
  }

  hasChain(name: string): boolean {
    return this.chainIndex.has(name);
  }

  /** Append `matches... statement [comment "..."]` to `chain` (created if missing). */
  rule(chain: string, matches: readonly Part[], s: Stmt, comment?: string): void {
    this.chain(chain);
    let text = '';
    for (const m of matches) text += m.text + ' ';
    text += s.text;
    if (comment !== undefined) text += ` comment "${comment}"`;
    const c = this.chains[this.chainIndex.get(chain)!]!;
    c.rules.push({ text, matches: matches.map((m) => m.match), action: s.action });
  }

  /** Create a set or map if it does not exist; returns it. */
  set(name: string, spec: SetSpec): NftSet {
    const i = this.setIndex.get(name);
    if (i !== undefined) return this.sets[i]!;
    const s: SetDraft = {
      name,
      isMap: spec.isMap ?? false,
      type: spec.type,
      comment: spec.comment,
      flags: spec.flags,
      timeout: spec.timeout,
      size: spec.size,
      elements: [],
      table: new PairTable(spec.expected),
      dyn: spec.dyn ?? null,
    };
    this.setIndex.set(name, this.sets.length);
    this.sets.push(s);
    return s;
  }

  /** Add an element keyed by the words (a, b); a map element carries `value`. */
  element(
    set: NftSet,
    a: number,
    b: number,
    e: Omit<NftElement, 'value'> & { value?: NftVerdict },
  ): void {
    const draft = set as SetDraft;
    const at = draft.table.get(a, b);
    const el: NftElement = { ...e, value: e.value };
    if (at >= 0) draft.elements[at] = el;
    else {
      draft.table.set(a, b, draft.elements.length);
      draft.elements.push(el);
    }
  }

  /** Resolve chain references and freeze. Unknown targets get an empty chain. */
  build(hookOrder: (chains: readonly NftChain[]) => number[][]): Ruleset {
    const resolve = (v: NftVerdict | null) => {
      if (v === null || v.target === '') return;
      if (!this.chainIndex.has(v.target)) this.chain(v.target);
      v.chain = this.chainIndex.get(v.target)!;
    };
    for (let ci = 0; ci < this.chains.length; ci++) {
      for (const r of this.chains[ci]!.rules) {
        resolve(r.action.verdict);
        if (r.action.kind === ActionKind.Numgen) r.action.entries.forEach(resolve);
      }
    }
    for (const s of this.sets) {
      for (const e of s.elements) resolve(e.value ?? null);
      if (s.isMap) s.table.remap((i) => packVerdict(s.elements[i]!.value!));
    }
    const chains: NftChain[] = this.chains;
    const hookChains = hookOrder(chains);
    return {
      family: 'ip',
      name: this.name,
      comment: this.comment,
      sets: this.sets,
      chains,
      chainIndex: this.chainIndex,
      hookChains,
      hookChainIsNat: hookChains.map((l) => l.map((ci) => chains[ci]!.base!.type === 'nat')),
    };
  }
}
