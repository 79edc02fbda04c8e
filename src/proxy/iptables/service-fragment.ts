// The rules one service port contributes to the rule set, kept between syncs: the
// Proxier reuses a fragment as long as its ServicePortEntry object is the same (the
// ServiceMap replaces an entry only when the service or its endpoints changed), so an
// incremental sync writes rules only for changed services, as kube-proxy rewrites only
// changed chains.
import type { ServicePortEntry } from '../service-map.ts';
import { WrittenRule } from './rule-writer.ts';
import { TargetKind } from './rules.ts';
import type { Rule, Table } from './rules.ts';

/** A chain the service port owns (KUBE-SVC/SVL/EXT/FW/SEP-...), always in nat. */
export interface OwnedChain {
  readonly name: string;
  readonly rules: Rule[];
  declared: boolean;
}

export class ServiceFragment {
  /** nat rules of chains the fragment does not own (KUBE-SERVICES, KUBE-NODEPORTS). */
  readonly natShared: Rule[] = [];
  /** filter rules (all in shared chains), in write order. */
  readonly filter: Rule[] = [];
  /** Owned chains, in the order first written or declared. */
  readonly chains: OwnedChain[] = [];
  /** Names of declared chains in declaration order (the restore payload's chain lines). */
  readonly declared: string[] = [];
  /** Every nat rule in write order (the restore payload's rule lines). */
  readonly natOrder: Rule[] = [];
  /** Number of nat rules in owned chains. */
  ownedRules = 0;
  /** Index of the first owned chain in the table being linked (scratch for the linker). */
  base = 0;
  /** Every rule in the order written (the order rewrite() writes them again). */
  readonly all: Rule[] = [];
  /**
   * The packed headers of the rules of its declared owned chains, in chain order (as
   * the linker lays them out): made once, copied into every table that links the fragment.
   */
  packed: Pick<Table, 'hdr' | 'hflags' | 'hproto'> | undefined = undefined;
  /** Write the same rules again into another fragment, with a text-keeping writer. */
  rewrite: ((into: ServiceFragment) => void) | undefined = undefined;

  constructor(
    readonly entry: ServicePortEntry,
    /** Large-cluster mode (no endpoint comments) it was written in. */
    readonly large: boolean,
  ) {}

  /** The owned chain `name`, created on first use. */
  owned(name: string): OwnedChain {
    const cs = this.chains;
    for (let i = 0; i < cs.length; i++) if (cs[i]!.name === name) return cs[i]!;
    const c: OwnedChain = { name, rules: [], declared: false };
    cs.push(c);
    return c;
  }

  /** `:NAME - [0:0]`: declare an owned chain. */
  declare(name: string): OwnedChain {
    const c = this.owned(name);
    if (!c.declared) {
      c.declared = true;
      this.declared.push(name);
    }
    return c;
  }

  private add(r: Rule): void {
    this.all.push(r);
    if (r instanceof WrittenRule) r.home = this;
  }

  /** Give every rule its restore text (on the first read of any rule's `line`). */
  renderText(): void {
    if (this.rewrite === undefined) return;
    const shadow = new ServiceFragment(this.entry, this.large);
    this.rewrite(shadow);
    if (shadow.all.length !== this.all.length) throw new Error('fragment rewrite differs');
    for (let i = 0; i < this.all.length; i++) {
      const r = this.all[i];
      if (r instanceof WrittenRule) r.setText(shadow.all[i]!.line);
    }
  }

  /** A nat rule in an owned chain. */
  ownedRule(c: OwnedChain, r: Rule): void {
    this.add(r);
    c.rules.push(r);
    this.natOrder.push(r);
    this.ownedRules++;
  }

  /** A nat rule in a shared chain. */
  natRule(r: Rule): void {
    this.add(r);
    this.natShared.push(r);
    this.natOrder.push(r);
  }

  filterRule(r: Rule): void {
    this.add(r);
    this.filter.push(r);
  }

  /**
   * After writing: every nat rule that jumps to an owned chain learns that chain's place
   * in `chains`, so linking resolves it by arithmetic instead of a name lookup.
   */
  seal(): void {
    for (const r of this.natOrder) {
      if (!(r instanceof WrittenRule) || r.target.kind !== TargetKind.Jump) continue;
      const name = r.target.chain;
      const cs = this.chains;
      for (let i = 0; i < cs.length; i++) {
        if (cs[i]!.name === name) {
          r.slot = i;
          r.owner = this;
          break;
        }
      }
    }
  }
}
