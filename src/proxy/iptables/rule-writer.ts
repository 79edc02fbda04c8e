// Builds kube-proxy's service rules as typed Rule objects, in the order kube-proxy writes
// their arguments, with their restore text. A sync does not use it: it writes the same
// rules as integer columns (column-writer.ts). This writer serves the views, which ask a
// service port's fragment for its rules again (service-fragment.ts); both writers follow
// one RuleSink interface, so the compile code (compile-services.ts,
// compile-service-chains.ts) is the same for both.
// test/proxy/iptables/rule-writer.test.ts checks every rule against parseRuleArgs(line).
import { prefixMask } from '../../packet/addr.ts';
import { parseAddr, unquote } from './parse.ts';
import { MatchKind, RecentMode, TargetKind } from './rules.ts';
import type { OwnedChainRef } from './service-fragment.ts';
import type { Match, PortMatch, Rule, StatisticMatch, Target } from './rules.ts';

/** Arguments containing spaces are quoted as a shell (or iptables-restore) needs. */
export function quoteArg(arg: string): string {
  return arg.includes(' ') && !(arg.startsWith('"') && arg.endsWith('"')) ? `"${arg}"` : arg;
}

const PROTO_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** A DNAT destination: an EndpointInfo (its `ip:port` text is made when first read). */
export interface DnatEndpoint {
  readonly endpoint: string;
  readonly ipString: string;
  readonly ip: number;
  readonly port: number;
}

/**
 * The writer's fluent interface: begin(chain), then the options in the order kube-proxy
 * writes them, then a target call that ends the rule and returns what the writer made of
 * it (R: a Rule, or a rule number in columns).
 */
export interface RuleSink<R> {
  /** True when the writer keeps comments (the column writer drops them unread). */
  readonly comments: boolean;
  begin(chain: string): this;
  /** `-m comment --comment TEXT`; `match` shares one parsed CommentMatch between rules. */
  comment(text: string, match?: Match): this;
  proto_(p: string): this;
  dstHost(ipString: string, ip: number): this;
  source(text: string, inv?: boolean, ip?: number): this;
  dstNet(text: string): this;
  nfacct(name: string): this;
  dport_(port: number, text: string): this;
  addrType(match: Match, dst: boolean): this;
  statistic(p: string): this;
  recentSet(name: string): this;
  recentCheck(name: string, seconds: string): this;
  /** `-j CHAIN`, CHAIN one of the service port's own chains. */
  jump(chain: string): R;
  /** `-j CHAIN` to an owned chain its FragmentSink gave (a KUBE-SEP chain, maybe unnamed yet). */
  jumpTo(chain: OwnedChainRef): R;
  verdict(name: 'ACCEPT' | 'DROP' | 'REJECT'): R;
  /** `-j DNAT --to-destination IP:PORT` (the column writer never reads `ep.endpoint`). */
  dnat(ep: DnatEndpoint): R;
  none(): R;
  /** A shared target (a jump to a fixed chain such as KUBE-MARK-MASQ). */
  target(t: Target, name: string): R;
}

/** A Rule written by RuleWriter; `line` is its restore text when the writer kept it. */
export class WrittenRule implements Rule {
  private readonly text: string | undefined;
  constructor(
    readonly chain: string,
    args: readonly string[] | undefined,
    readonly src: number,
    readonly srcMask: number,
    readonly srcPrefix: number,
    readonly srcInv: boolean,
    readonly dst: number,
    readonly dstMask: number,
    readonly dstPrefix: number,
    readonly proto: number,
    readonly matches: readonly Match[],
    readonly target: Target,
  ) {
    this.text = args?.join(' ');
  }
  get line(): string {
    if (this.text === undefined) throw new Error(`${this.chain}: rule text not kept`);
    return this.text;
  }
  get dstInv(): boolean {
    return false;
  }
  get inIface(): string {
    return '';
  }
  get inInv(): boolean {
    return false;
  }
  get outIface(): string {
    return '';
  }
  get outInv(): boolean {
    return false;
  }
  get protoInv(): boolean {
    return false;
  }
}

export const ACCEPT: Target = { kind: TargetKind.Accept };
export const DROP: Target = { kind: TargetKind.Drop };
export const REJECT: Target = { kind: TargetKind.Reject, rejectWith: 'icmp-port-unreachable' };
export const NO_TARGET: Target = { kind: TargetKind.None };

const portMatches = new Map<string, PortMatch>();
const statistics = new Map<string, StatisticMatch>();

/** `-m tcp|udp|sctp [--dport N]` (immutable, so shared between rules). */
function portMatch(module: string, dport: number): PortMatch {
  const key = `${module} ${dport}`;
  let m = portMatches.get(key);
  if (m === undefined) {
    m = {
      kind: MatchKind.Port,
      module: module as PortMatch['module'],
      sportLo: 0,
      sportHi: 65535,
      sportInv: false,
      dportLo: dport < 0 ? 0 : dport,
      dportHi: dport < 0 ? 65535 : dport,
      dportInv: false,
    };
    portMatches.set(key, m);
  }
  return m;
}

/** One rule at a time (see RuleSink); the writer itself is reused. */
export class RuleWriter implements RuleSink<Rule> {
  readonly comments = true;
  private chain = '';
  private args: string[] = [];
  /** @param keepText keep each rule's argument list (the fast writer reuses one scratch list). */
  constructor(private readonly keepText = false) {}

  private matches: Match[] = [];
  private src = 0;
  private srcMask = 0;
  private srcPrefix = -1;
  private srcInv = false;
  private dst = 0;
  private dstMask = 0;
  private dstPrefix = -1;
  private proto = 0;
  /** Index in `matches` of the pending port match (-1: none), filled by dport() or the end. */
  private portAt = -1;
  private portModule = '';
  private dport = -1;

  begin(chain: string): this {
    this.chain = chain;
    if (this.keepText) this.args = ['-A', chain];
    else {
      this.args.length = 0;
      this.args.push('-A', chain);
    }
    this.matches = [];
    this.srcPrefix = -1;
    this.src = this.srcMask = 0;
    this.srcInv = false;
    this.dstPrefix = -1;
    this.dst = this.dstMask = 0;
    this.proto = 0;
    this.portAt = -1;
    this.dport = -1;
    return this;
  }

  /** `-m comment --comment TEXT`, TEXT as kube-proxy writes it (quoted when multi-word). */
  comment(text: string, match?: Match): this {
    this.args.push('-m', 'comment', '--comment', quoteArg(text));
    this.matches.push(match ?? commentMatch(text));
    return this;
  }

  /** `-m P -p P` (P lower-case tcp/udp/sctp). */
  proto_(p: string): this {
    this.args.push('-m', p, '-p', p);
    this.portAt = this.matches.length;
    this.portModule = p;
    this.matches.push(NO_MATCH);
    this.proto = PROTO_NUMBERS[p] ?? 0;
    return this;
  }

  /** `-d A.B.C.D` (a host address). */
  dstHost(ipString: string, ip: number): this {
    this.args.push('-d', ipString);
    this.dst = ip >>> 0;
    this.dstMask = 0xffffffff;
    this.dstPrefix = 32;
    return this;
  }

  /** `[!] -s ADDR[/N]`; `ip` when the caller already has a host address's u32. */
  source(text: string, inv = false, ip?: number): this {
    if (inv) this.args.push('!');
    this.args.push('-s', text);
    if (ip !== undefined) {
      this.src = ip >>> 0;
      this.srcPrefix = 32;
    } else {
      const a = parseAddr([this.chain, text], text);
      this.src = a.addr;
      this.srcPrefix = a.prefix;
    }
    this.srcMask = prefixMask(this.srcPrefix);
    this.srcInv = inv;
    return this;
  }

  /** `-d ADDR/N` (a network). */
  dstNet(text: string): this {
    this.args.push('-d', text);
    const a = parseAddr([this.chain, text], text);
    this.dst = a.addr;
    this.dstPrefix = a.prefix;
    this.dstMask = prefixMask(a.prefix);
    return this;
  }

  /** `-m nfacct --nfacct-name NAME` (counts, always matches). */
  nfacct(name: string): this {
    this.args.push('-m', 'nfacct', '--nfacct-name', name);
    let m = nfacctMatches.get(name);
    if (m === undefined) nfacctMatches.set(name, (m = { kind: MatchKind.Nfacct, name }));
    this.matches.push(m);
    return this;
  }

  /** `--dport N` for the pending -m tcp/udp/sctp. */
  dport_(port: number, text: string): this {
    this.args.push('--dport', text);
    this.dport = port;
    return this;
  }

  /** `-m addrtype --src-type LOCAL` / `--dst-type LOCAL`. */
  addrType(match: Match, dst: boolean): this {
    this.args.push('-m', 'addrtype', dst ? '--dst-type' : '--src-type', 'LOCAL');
    this.matches.push(match);
    return this;
  }

  /** `-m statistic --mode random --probability P`. */
  statistic(p: string): this {
    this.args.push('-m', 'statistic', '--mode', 'random', '--probability', p);
    let m = statistics.get(p);
    if (m === undefined) {
      const probability = Number(p);
      m = {
        kind: MatchKind.Statistic,
        probability,
        p31: Math.round(0x80000000 * probability),
        invert: false,
      };
      statistics.set(p, m);
    }
    this.matches.push(m);
    return this;
  }

  /** `-m recent --name N --set`. */
  recentSet(name: string): this {
    this.args.push('-m', 'recent', '--name', name, '--set');
    this.matches.push(recent(name, RecentMode.Set, 0, false));
    return this;
  }

  /** `-m recent --name N --rcheck --seconds S --reap`. */
  recentCheck(name: string, seconds: string): this {
    this.args.push('-m', 'recent', '--name', name, '--rcheck', '--seconds', seconds, '--reap');
    this.matches.push(recent(name, RecentMode.Check, Number(seconds) >>> 0, true));
    return this;
  }

  /** `-j CHAIN` and the rule. */
  jump(chain: string): Rule {
    this.args.push('-j', chain);
    return this.end({ kind: TargetKind.Jump, chain });
  }

  jumpTo(chain: OwnedChainRef): Rule {
    return this.jump(chain.name);
  }

  /** `-j ACCEPT|DROP|REJECT` (a shared target constant) and the rule. */
  verdict(name: 'ACCEPT' | 'DROP' | 'REJECT'): Rule {
    this.args.push('-j', name);
    return this.end(name === 'ACCEPT' ? ACCEPT : name === 'DROP' ? DROP : REJECT);
  }

  /** `-j DNAT --to-destination IP:PORT` and the rule. */
  dnat(ep: DnatEndpoint): Rule {
    const { ip, ipString, port } = ep;
    this.args.push('-j', 'DNAT', '--to-destination', ep.endpoint);
    return this.end({ kind: TargetKind.Dnat, ip, ipString, port });
  }

  /** No -j: a rule that only counts. */
  none(): Rule {
    return this.end(NO_TARGET);
  }

  /** The rule with a target shared by the caller (e.g. one Jump object per chain). */
  target(t: Target, name: string): Rule {
    this.args.push('-j', name);
    return this.end(t);
  }

  private end(target: Target): Rule {
    const list = this.matches;
    if (this.portAt >= 0) list[this.portAt] = portMatch(this.portModule, this.dport);
    // Most rules have none or one shared match: share the list too (rules are immutable).
    let m: readonly Match[] = list;
    if (list.length === 0) m = NO_MATCHES;
    else if (list.length === 1) {
      const only = list[0]!;
      const shared = singleLists.get(only);
      if (shared !== undefined) m = shared;
      else if (only.kind === MatchKind.Port || only.kind === MatchKind.Statistic) {
        // Only shared matches are worth a table entry; a fresh one would pin it forever.
        singleLists.set(only, list);
      }
    }
    return new WrittenRule(
      this.chain,
      this.keepText ? this.args : undefined,
      this.src,
      this.srcMask,
      this.srcPrefix,
      this.srcInv,
      this.dst,
      this.dstMask,
      this.dstPrefix,
      this.proto,
      m,
      target,
    );
  }
}

const NO_MATCH: Match = { kind: MatchKind.Comment, text: '' };
const NO_MATCHES: readonly Match[] = [];
const singleLists = new Map<Match, readonly Match[]>();
const nfacctMatches = new Map<string, Match>();

/** `-m recent --name NAME --rsource --set|--rcheck [--seconds N --reap]`. */
export function recent(name: string, mode: RecentMode, seconds: number, reap: boolean): Match {
  return {
    kind: MatchKind.Recent,
    name,
    mode,
    seconds,
    reap,
    mask: 0xffffffff,
    side: 'source',
    invert: false,
  };
}

/** The comment match for comment text as written (quotes stripped as the parser does). */
export function commentMatch(text: string): Match {
  return { kind: MatchKind.Comment, text: unquote(quoteArg(text)) };
}

export const ADDRTYPE_SRC_LOCAL: Match = {
  kind: MatchKind.AddrType,
  srcType: 'LOCAL',
  srcInv: false,
  dstType: '',
  dstInv: false,
};
export const ADDRTYPE_DST_LOCAL: Match = {
  kind: MatchKind.AddrType,
  srcType: '',
  srcInv: false,
  dstType: 'LOCAL',
  dstInv: false,
};
