// kube-proxy's iptables mode as a Proxier: the handlers feed a ServiceMap, sync()
// compiles the whole rule set (kube-proxy restores all its chains every sync) and
// swaps it in with one reference assignment, and classify() walks the current rules
// for one packet at one netfilter hook, in the kernel's table order for that hook.
import { Verdict, newEvalResult, resetEvalResult } from '../eval-result.ts';
import type { EvalResult } from '../eval-result.ts';
import { TABLE_FILTER, TABLE_NAT } from '../hooks.ts';
import type { DataplaneProxier } from '../hooks.ts';
import { Hook } from '../netfilter.ts';
import type { PacketMeta } from '../packet-meta.ts';
import { seededRandom } from '../random.ts';
import { ServiceMapProxier } from '../service-map-proxier.ts';
import type { ServiceMapSnapshot } from '../service-map.ts';
import { traced } from '../trace.ts';
import type { TraceEvent } from '../trace.ts';
import { CompileCache } from './compile-cache.ts';
import { compileRuleSet } from './compile.ts';
import type { IptablesOptions } from './compile.ts';
import {
  countRecordedPath,
  evaluateTable,
  evaluateTableRecorded,
  hookChainIndex,
} from './evaluate.ts';
import type { EvalContext } from './evaluate.ts';
import { iptablesList } from './list.ts';
import type { ListOptions } from './list.ts';
import { RecentTables } from './recent.ts';
import { restoreText } from './rules.ts';
import type { RuleSet, Table, TableName } from './rules.ts';
import { iptablesSave } from './save.ts';
import type { SaveOptions } from './save.ts';
import { PathTokens } from './path-tokens.ts';
import { IptablesNodeViews } from './views.ts';
import { ruleAt } from './table-rules.ts';
import type { NodeViews } from '../views.ts';

/** Which tables classify() consults (nat only sees a connection's first packet). */
export { TABLE_FILTER, TABLE_NAT };

export interface IptablesProxierOptions extends IptablesOptions {
  /** Uniform [0, 1) source for `-m statistic`; default a fixed-seed generator. */
  readonly random?: () => number;
  /** Clock in seconds for `-m recent`; default wall-clock time. */
  readonly now?: () => number;
}

const HOOK_INPUT = Hook.Input;
const NAT = TABLE_NAT;
const FILTER = TABLE_FILTER;
const ACCEPT = Verdict.Accept;
/** Longest filter walk remembered per flow (rules counted); a longer one is walked per packet. */
const PATH_MAX = 256;

export class IptablesProxier extends ServiceMapProxier implements DataplaneProxier {
  private nodeViews: IptablesNodeViews | undefined;

  /** The node's iptables tools over this proxier's rules (src/proxy/views.ts). */
  views(): NodeViews {
    return (this.nodeViews ??= new IptablesNodeViews(() => this.ruleSet));
  }

  readonly recent = new RecentTables();
  private rules!: RuleSet;
  /** Built-in chain index per hook for the installed rules (-1: none), nat then filter. */
  private natStart = new Int32Array(5);
  private filterStart = new Int32Array(5);
  private compiledGeneration = -1;
  private readonly cache = new CompileCache();
  private readonly ctx: EvalContext;
  private readonly result = newEvalResult();
  /** Bumped when rules are swapped in: remembered filter walks are void then. */
  private generation = 0;
  /** Recorded filter walks of established packets (the installed rules'), by token. */
  private readonly paths = new PathTokens();
  private readonly pathScratch = new Int32Array(PATH_MAX);
  /** kube-proxy sets route_localnet=1 for localhost NodePorts (iptables mode only). */
  readonly routeLocalnet: boolean;

  constructor(readonly options: IptablesProxierOptions) {
    super(options.nodeName, options.nodeIPs);
    this.routeLocalnet = options.localhostNodePorts ?? true;
    this.ctx = {
      random: options.random ?? seededRandom(1),
      now: options.now ?? (() => Date.now() / 1000),
      recent: this.recent,
      trace: undefined,
    };
    this.install(compileRuleSet([], options));
  }

  private install(rs: RuleSet): void {
    this.rules = rs;
    this.generation++;
    this.paths.clear();
    for (let h = 0; h < 5; h++) {
      this.natStart[h] = hookChainIndex(rs.nat, h as Hook);
      this.filterStart[h] = hookChainIndex(rs.filter, h as Hook);
    }
  }

  /** Compile the current state and swap it in; unchanged state keeps the rule set. */
  sync(): void {
    const snap: ServiceMapSnapshot = this.serviceMap.snapshot();
    if (snap.generation === this.compiledGeneration) return;
    const next = compileRuleSet(snap.entries, this.options, this.cache);
    carryBuiltinCounters(this.rules.filter, next.filter);
    carryBuiltinCounters(this.rules.nat, next.nat);
    this.install(next); // the userspace iptables-restore: one reference assignment
    this.compiledGeneration = snap.generation;
  }

  /** The installed rule set. */
  get ruleSet(): RuleSet {
    return this.rules;
  }

  /**
   * Run `meta` through the tables at `hook` in kernel priority order (OUTPUT: nat
   * then filter; INPUT: filter then nat). A DNAT in nat rewrites the destination
   * the filter table sees and adds CtState.DNAT. Returns a reused result object.
   */
  classify(
    meta: PacketMeta,
    hook: Hook,
    tables = TABLE_NAT | TABLE_FILTER,
    out: EvalResult = this.result,
  ): EvalResult {
    const rs = this.rules;
    resetEvalResult(out, meta.mark);
    const natFirst = hook !== HOOK_INPUT;
    let p = meta;
    if (natFirst && tables & NAT) this.walk(rs.nat, this.natStart[hook]!, p, out);
    if (out.verdict !== ACCEPT) return out;
    if (out.dnat) p = this.afterDnat(meta, out);
    if (tables & FILTER) this.walk(rs.filter, this.filterStart[hook]!, p, out);
    if (out.verdict !== ACCEPT) return out;
    if (!natFirst && tables & NAT) this.walk(rs.nat, this.natStart[hook]!, p, out);
    return out;
  }

  flowGeneration(): number {
    return this.generation;
  }

  /**
   * The filter walk of an established packet, recorded: a token for countPath(), or -1
   * when statistic or recent took part. Same verdict and counters as
   * classify(meta, hook, TABLE_FILTER, out).
   */
  filterEstablished(meta: PacketMeta, hook: Hook, out: EvalResult): number {
    resetEvalResult(out, meta.mark);
    const start = this.filterStart[hook]!;
    if (start < 0) return 0; // counted nothing: token 0, nothing to repeat
    const path = this.pathScratch;
    const n = evaluateTableRecorded(this.rules.filter, start, meta, this.ctx, out, path);
    return n < 0 ? -1 : this.paths.intern(path, n);
  }

  /** One more packet along a recorded filter walk: the counters it bumped, bumped again. */
  countPath(token: number, len: number): void {
    const path = this.paths.path(token);
    if (path.length > 0) countRecordedPath(this.rules.filter, path, len);
  }

  private walk(t: Table, start: number, p: PacketMeta, out: EvalResult): void {
    if (start >= 0) evaluateTable(t, start, p, this.ctx, out);
  }

  /** classify() with a trace callback, as `iptables -j TRACE` would log each step. */
  trace(
    meta: PacketMeta,
    hook: Hook,
    onStep: (e: TraceEvent) => void,
    tables = TABLE_NAT | TABLE_FILTER,
  ): EvalResult {
    return traced(this.ctx, onStep, () => this.classify(meta, hook, tables, newEvalResult()));
  }

  /** `iptables-save` of the installed rules. */
  save(opts?: SaveOptions): string {
    return iptablesSave(this.rules, opts);
  }

  /** `iptables -t TABLE -nvL` of the installed rules. */
  list(table: TableName, opts?: ListOptions): string {
    return iptablesList(this.rules, table, opts);
  }

  /** The payload kube-proxy would hand to `iptables-restore --noflush`. */
  restoreInput(): string {
    return restoreText(this.rules);
  }
}

/** Built-in chains are not rewritten by kube-proxy's restore, so their counters persist. */
function carryBuiltinCounters(prev: Table, next: Table): void {
  for (let ci = 0; ci < next.builtins && ci < prev.builtins; ci++) {
    if (prev.fixedNames[ci] !== next.fixedNames[ci]) continue;
    next.counters.policyPkts[ci] = prev.counters.policyPkts[ci] ?? 0;
    next.counters.policyBytes[ci] = prev.counters.policyBytes[ci] ?? 0;
    const a = prev.chainFirst[ci]!;
    const b = next.chainFirst[ci]!;
    const count = next.chainEnd[ci]! - b;
    if (prev.chainEnd[ci]! - a !== count) continue;
    // Built-in chains hold only fixed rules, kept as objects.
    for (let k = 0; k < count; k++) {
      if (ruleAt(prev, a + k).line !== ruleAt(next, b + k).line) continue;
      next.counters.pkts[b + k] = prev.counters.pkts[a + k] ?? 0;
      next.counters.bytes[b + k] = prev.counters.bytes[a + k] ?? 0;
    }
  }
}
