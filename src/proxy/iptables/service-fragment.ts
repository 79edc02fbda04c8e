// One service port's part of the rule set. A sync writes it as columns (column-writer.ts)
// and keeps only this small record: the ServiceMap entry it came from and how to write
// it again. Views (iptables-save, -L, traces, the restore payload, Table.rules) ask it
// for its rules as objects with their text, written again from the same entry by the same
// compile code (ObjectFragment), so the text is never kept by a sync.
import type { ServicePortEntry } from '../service-map.ts';
import type { EndpointKey, PortNames } from './compile-cache.ts';
import type { Rule, Table, TableName } from './rules.ts';

/** A chain the service port owns (KUBE-SVC/SVL/EXT/FW/SEP-...), always in nat. */
export interface OwnedChainRef {
  readonly name: string;
}

/** Where the compile code puts a service port's rules (R: what its writer returns). */
export interface FragmentSink<R> {
  /** The owned chain `name`, created on first use. */
  owned(name: string): OwnedChainRef;
  /** `:NAME - [0:0]`: declare an owned chain. */
  declare(name: string): OwnedChainRef;
  /**
   * The KUBE-SEP chain of `ep` (`names.endpoint(ep)`), created on first use like owned(),
   * declared too when `declare`. The column writer does not hash its name: a sync never
   * reads it, views and traces ask for it (FragmentPlace.names).
   */
  endpointChain(names: PortNames, ep: EndpointKey, declare: boolean): OwnedChainRef;
  /** A nat rule in an owned chain. */
  ownedRule(c: OwnedChainRef, r: R): void;
  /** A nat rule in a shared chain (KUBE-SERVICES, KUBE-NODEPORTS). */
  natRule(r: R): void;
  /** A filter rule (all in shared chains). */
  filterRule(r: R): void;
}

export interface OwnedChain extends OwnedChainRef {
  readonly rules: Rule[];
  declared: boolean;
}

/** A service port's rules as objects, in kube-proxy's write order and by chain. */
export class ObjectFragment implements FragmentSink<Rule> {
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
  private byChain: { nat: Map<string, Rule[]>; filter: Map<string, Rule[]> } | undefined;

  owned(name: string): OwnedChain {
    const cs = this.chains;
    for (let i = 0; i < cs.length; i++) if (cs[i]!.name === name) return cs[i]!;
    const c: OwnedChain = { name, rules: [], declared: false };
    cs.push(c);
    return c;
  }

  declare(name: string): OwnedChain {
    const c = this.owned(name);
    if (!c.declared) {
      c.declared = true;
      this.declared.push(name);
    }
    return c;
  }

  endpointChain(names: PortNames, ep: EndpointKey, declare: boolean): OwnedChain {
    const name = names.endpoint(ep);
    return declare ? this.declare(name) : this.owned(name);
  }

  ownedRule(c: OwnedChainRef, r: Rule): void {
    (c as OwnedChain).rules.push(r);
    this.natOrder.push(r);
  }

  natRule(r: Rule): void {
    this.natShared.push(r);
    this.natOrder.push(r);
  }

  filterRule(r: Rule): void {
    this.filter.push(r);
  }

  /** The fragment's rules in `chain` of `table`, in the order the table holds them. */
  rulesIn(table: TableName, chain: string): readonly Rule[] {
    if (this.byChain === undefined) {
      const group = (rules: readonly Rule[], into: Map<string, Rule[]>) => {
        for (const r of rules) {
          let l = into.get(r.chain);
          if (l === undefined) into.set(r.chain, (l = []));
          l.push(r);
        }
        return into;
      };
      const nat = group(this.natShared, new Map());
      for (const c of this.chains) if (c.declared) nat.set(c.name, c.rules);
      this.byChain = { nat, filter: group(this.filter, new Map()) };
    }
    return this.byChain[table].get(chain) ?? [];
  }
}

/**
 * Where a fragment's rules sit in the rule set it was last linked into, so the next sync
 * can copy them instead of writing them again: its own chains' rules [ownedFirst,
 * ownedEnd) and chains [chainBase, chainBase + chains) of nat, and its shared-chain rules
 * as (table: 0 nat / 1 filter, fixed chain index, rule index) triples in write order.
 * Made while building (rule indices of shared rules within their chain's run); the build
 * completes it (`link`) once the tables exist.
 */
export class FragmentPlace {
  nat!: Table;
  filter!: Table;
  /** Its fragment number (Table.fragments, cols.owner) there. */
  number = -1;

  constructor(
    readonly ownedFirst: number,
    readonly ownedEnd: number,
    readonly chainBase: number,
    readonly chains: number,
    /**
     * Its own chains' names, in chain order; a KUBE-SEP chain's as its endpoint, named
     * by `portNames` when asked (see chainName).
     */
    readonly names: readonly (string | EndpointKey)[],
    readonly portNames: PortNames | undefined,
    readonly shared: number[],
    /** Which parts of the restore payload it fills. */
    readonly shape: FragmentShape,
  ) {}

  /** Chain `k`'s name (k < chains). */
  chainName(k: number): string {
    const n = this.names[k]!;
    return typeof n === 'string' ? n : this.portNames!.endpoint(n);
  }

  link(nat: Table, filter: Table, number: number): void {
    const shared = this.shared;
    for (let j = 0; j < shared.length; j += 3) {
      const t = shared[j] === 0 ? nat : filter;
      shared[j + 2] = t.chainFirst[shared[j + 1]!]! + shared[j + 2]!;
    }
    this.nat = nat;
    this.filter = filter;
    this.number = number;
  }
}

export interface FragmentShape {
  readonly declared: boolean;
  readonly nat: boolean;
  readonly filter: boolean;
}

export class ServiceFragment {
  private kept: ObjectFragment | undefined = undefined;
  /** Set after each build that linked it. */
  placed: FragmentPlace | undefined = undefined;

  /** True when `next` was linked right after this fragment, in the same rule set. */
  followedBy(next: ServiceFragment): boolean {
    const a = this.placed;
    const b = next.placed;
    return (
      a !== undefined &&
      b !== undefined &&
      a.nat === b.nat &&
      b.number === a.number + 1 &&
      b.ownedFirst === a.ownedEnd &&
      b.chainBase === a.chainBase + a.chains
    );
  }

  constructor(
    readonly entry: ServicePortEntry,
    /** Large-cluster mode (no endpoint comments) it was written in. */
    readonly large: boolean,
    /** Writes an entry's rules again, as objects with text (shared by a compile's fragments). */
    private readonly write: (into: ObjectFragment, entry: ServicePortEntry) => void,
  ) {}

  /**
   * The rules as objects. `keep`: remember them (Table.rules gives the same objects for
   * an unchanged service port in every later rule set); views pass false.
   */
  objects(keep = false): ObjectFragment {
    if (this.kept !== undefined) return this.kept;
    const o = new ObjectFragment();
    this.write(o, this.entry);
    if (keep) this.kept = o;
    return o;
  }
}
