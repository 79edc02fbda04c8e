// kube-proxy's nftables mode as a DataplaneProxier: the handlers feed a ServiceMap,
// sync() compiles the whole `ip kube-proxy` table into its flat program and swaps it in with
// one reference assignment (one nft transaction), and classify() runs a packet through the
// base chains registered at a hook, in priority order, as the kernel's nf_hook_slow does.
// The table as objects with rule text (listings, dumps, traces) is compiled from the same
// service ports when first asked for, and kept until the next change.
import { Verdict, newEvalResult, resetEvalResult } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { TABLE_FILTER, TABLE_NAT } from '../hooks.ts';
import type { DataplaneProxier } from '../hooks.ts';
import { Hook } from '../netfilter.ts';
import type { PacketMeta } from '../packet-meta.ts';
import type { ServicePortEntry } from '../service-map.ts';
import { seededRandom } from '../random.ts';
import { ServiceMapProxier } from '../service-map-proxier.ts';
import { traced } from '../trace.ts';
import type { TraceEvent } from '../trace.ts';
import { AffinityTables, FrozenAffinity } from './affinity.ts';
import { ServicePortCache, compileRuleset } from './compile.ts';
import type { NftablesOptions } from './compile.ts';
import { runBaseChain, sawVolatile, watchVolatile } from './evaluate.ts';
import type { NftEvalContext } from './evaluate.ts';
import { listRuleset } from './list.ts';
import { NameCache } from './names.ts';
import { compileFlat } from './compile-flat.ts';
import { runProgram } from './program.ts';
import type { NftProgram } from './program.ts';
import type { Ruleset } from './ruleset.ts';
import { NftablesNodeViews } from './views.ts';
import type { NodeViews } from '../views.ts';

export interface NftablesProxierOptions extends NftablesOptions {
  /** Uniform [0, 1) source for `numgen random`; default a fixed-seed generator. */
  readonly random?: () => number;
  /** Clock in seconds for affinity timeouts; default wall-clock time. */
  readonly now?: () => number;
}

// Imported constants copied once: the TypeScript loader turns imports into getters.
const ACCEPT = Verdict.Accept;
const NAT = TABLE_NAT;
const FILTER = TABLE_FILTER;
const PREROUTING = Hook.Prerouting;

export class NftablesProxier extends ServiceMapProxier implements DataplaneProxier {
  private nodeViews: NftablesNodeViews | undefined;

  /** The node's nft (and iptables-nft) tools over this proxier's table (src/proxy/views.ts). */
  views(): NodeViews {
    return (this.nodeViews ??= new NftablesNodeViews(() => this.ruleset, this.ctx.now));
  }

  /** Affinity set contents, kept across syncs as the kernel keeps them. */
  readonly affinity = new AffinityTables();
  /** The installed table as packets walk it (program.ts). */
  private program: NftProgram;
  /** The service ports it was compiled from. */
  private entries: readonly ServicePortEntry[] = [];
  /** The same table as objects with rule text, once a view asked for it. */
  private rules: Ruleset | undefined;
  private compiledGeneration = -1;
  /** Chain names the sync needs (affinity sets only). */
  private readonly names = new NameCache();
  /** Chain names and each service port's recorded part for the object table. */
  private readonly viewNames = new NameCache();
  private readonly viewPorts = new ServicePortCache();
  private readonly ctx: NftEvalContext;
  private readonly result = newEvalResult();
  /** Bumped when a table is swapped in: remembered filter walks are void then. */
  private generation = 0;

  constructor(readonly options: NftablesProxierOptions) {
    super(options.nodeName, options.nodeIPs);
    this.ctx = {
      random: options.random ?? seededRandom(1),
      now: options.now ?? (() => Date.now() / 1000),
      trace: undefined,
    };
    this.program = compileFlat([], options, this.names, this.affinity);
  }

  /** Compile the current state and swap it in; unchanged state keeps the table. */
  sync(): void {
    const snap = this.serviceMap.snapshot();
    if (snap.generation === this.compiledGeneration) return;
    const entries = snap.entries;
    this.program = compileFlat(entries, this.options, this.names, this.affinity); // the nft transaction
    this.entries = entries;
    this.rules = undefined;
    this.generation++;
    this.compiledGeneration = snap.generation;
  }

  /** The installed table as objects (compiled on first use after each change). */
  get ruleset(): Ruleset {
    return (this.rules ??= compileRuleset(
      this.entries,
      this.options,
      this.viewNames,
      new FrozenAffinity(this.affinity),
      this.viewPorts,
    ));
  }

  /**
   * Run `meta` through the base chains at `hook` in priority order: nat chains when
   * `tables` has TABLE_NAT, filter chains when it has TABLE_FILTER. filter-prerouting
   * (priority dstnat - 10, kube-proxy's pre-DNAT firewall) also runs with TABLE_NAT
   * alone, because the dataplane consults PREROUTING only for a flow's first packet,
   * as nat. After a DNAT, later chains see the new destination and CtState.DNAT.
   */
  classify(
    meta: PacketMeta,
    hook: Hook,
    tables = TABLE_NAT | TABLE_FILTER,
    out: EvalResult = this.result,
  ): EvalResult {
    resetEvalResult(out, meta.mark);
    // A trace walks the rule objects (it reports each rule's text); packets walk the program.
    const prog = this.ctx.trace === undefined ? this.program : undefined;
    const rs = prog === undefined ? this.ruleset : undefined;
    const hooks = prog ?? rs!;
    const list = hooks.hookChains[hook];
    if (list === undefined) return out;
    const filterOn = (tables & FILTER) !== 0 || (hook === PREROUTING && (tables & NAT) !== 0);
    const natOn = (tables & NAT) !== 0;
    const isNat = hooks.hookChainIsNat[hook]!;
    let p = meta;
    for (let k = 0; k < list.length; k++) {
      if (isNat[k] ? !natOn : !filterOn) continue;
      const v =
        prog !== undefined
          ? runProgram(prog, list[k]!, p, this.ctx, out)
          : runBaseChain(rs!, list[k]!, p, this.ctx, out);
      if (v !== ACCEPT) return out;
      if (out.dnat && p === meta) p = this.afterDnat(meta, out);
    }
    out.verdict = ACCEPT;
    return out;
  }

  flowGeneration(): number {
    return this.generation;
  }

  /**
   * classify(meta, hook, TABLE_FILTER, out) for an established packet: token 0 (nft rules
   * here keep no counters, nothing to count again) or -1 when numgen or a dynamic set took part.
   */
  filterEstablished(meta: PacketMeta, hook: Hook, out: EvalResult): number {
    watchVolatile();
    this.classify(meta, hook, FILTER, out);
    return sawVolatile() ? -1 : 0;
  }

  countPath(): void {}

  /** classify() reporting each rule that matched, each return and policy (see docs). */
  trace(
    meta: PacketMeta,
    hook: Hook,
    onStep: (e: TraceEvent) => void,
    tables = TABLE_NAT | TABLE_FILTER,
  ): EvalResult {
    return traced(this.ctx, onStep, () => this.classify(meta, hook, tables, newEvalResult()));
  }

  /** `nft list ruleset`, as nft 1.0.6 prints this table. */
  listRuleset(): string {
    return listRuleset(this.ruleset, this.ctx.now());
  }
}
