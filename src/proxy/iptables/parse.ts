// Parse one `-A CHAIN ...` rule, given as the argument list kube-proxy writes, into
// the typed Rule. Options go where iptables' option dispatch sends them: -s/-d/-i/-o/-p
// to the IP header part, module options to the last loaded match that knows them,
// anything after -j to the target. `!` inverts the option that follows it.
import { tryIpToU32, prefixMask } from '../../packet/addr.ts';
import { CtState } from '../netfilter.ts';
import { MatchKind, RecentMode, TargetKind } from './rules.ts';
import type { Match, Rule, Target } from './rules.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type AnyMatch = Mutable<Match>;

const PROTOCOLS: Readonly<Record<string, number>> = {
  all: 0,
  icmp: 1,
  tcp: 6,
  udp: 17,
  sctp: 132,
};

/** Protocol names iptables-save prints (/etc/protocols names for what we use). */
export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  132: 'sctp',
};

function fail(args: readonly string[], why: string): never {
  throw new Error(`iptables rule ${JSON.stringify(args.join(' '))}: ${why}`);
}

/** Strip the double quotes kube-proxy puts around multi-word values. */
export function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Split a restore line into arguments, honouring double quotes (as iptables-restore does). */
export function tokenizeLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
      has = true;
    } else if (c === ' ' && !quoted) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** `a.b.c.d[/n]` as iptables' -s/-d read it (host bits cleared). */
export function parseAddr(args: readonly string[], s: string): { addr: number; prefix: number } {
  const slash = s.indexOf('/');
  const ip = tryIpToU32(slash < 0 ? s : s.slice(0, slash));
  const prefix = slash < 0 ? 32 : Number(s.slice(slash + 1));
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    fail(args, `bad address ${s}`);
  }
  return { addr: (ip & prefixMask(prefix)) >>> 0, prefix };
}

function parsePorts(args: readonly string[], s: string): [number, number] {
  const [a, b] = s.split(':');
  const lo = Number(a);
  const hi = b === undefined ? lo : Number(b);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535 || lo > hi) {
    fail(args, `bad port ${s}`);
  }
  return [lo, hi];
}

function parseNum(args: readonly string[], s: string | undefined): number {
  const n = s === undefined ? NaN : Number(s);
  if (!Number.isFinite(n)) fail(args, `bad number ${String(s)}`);
  return n >>> 0;
}

/** Only LOCAL is modelled: the evaluator knows local addresses, not routes or broadcast. */
function addrType(args: readonly string[], t: string): string {
  return t === 'LOCAL' ? t : fail(args, `unsupported address type ${t}`);
}

function newMatch(args: readonly string[], module: string): AnyMatch {
  switch (module) {
    case 'comment':
      return { kind: MatchKind.Comment, text: '' };
    case 'tcp':
    case 'udp':
    case 'sctp':
      return {
        kind: MatchKind.Port,
        module,
        sportLo: 0,
        sportHi: 65535,
        sportInv: false,
        dportLo: 0,
        dportHi: 65535,
        dportInv: false,
      };
    case 'addrtype':
      return { kind: MatchKind.AddrType, srcType: '', srcInv: false, dstType: '', dstInv: false };
    case 'statistic':
      return { kind: MatchKind.Statistic, probability: 0, p31: 0, invert: false };
    case 'recent':
      return {
        kind: MatchKind.Recent,
        name: 'DEFAULT',
        mode: RecentMode.Check,
        seconds: 0,
        reap: false,
        mask: 0xffffffff,
        side: 'source',
        invert: false,
      };
    case 'mark':
      return { kind: MatchKind.Mark, value: 0, mask: 0xffffffff, invert: false };
    case 'conntrack':
      return { kind: MatchKind.Conntrack, states: 0, invert: false };
    case 'nfacct':
      return { kind: MatchKind.Nfacct, name: '' };
    default:
      return fail(args, `unsupported match module ${module}`);
  }
}

interface ParseState {
  readonly args: readonly string[];
  i: number;
  readonly matches: AnyMatch[];
}

/** The value after option args[i]; advances past it. */
function val(st: ParseState): string {
  const a = st.args[st.i];
  const v = st.args[++st.i];
  return v ?? fail(st.args, `${String(a)} needs a value`);
}

/** The most recently loaded match of a kind (where iptables sends its options). */
function last<K extends Match['kind']>(
  st: ParseState,
  kind: K,
): Extract<AnyMatch, { kind: K }> | undefined {
  for (let i = st.matches.length - 1; i >= 0; i--) {
    const m = st.matches[i];
    if (m !== undefined && m.kind === kind) return m as Extract<AnyMatch, { kind: K }>;
  }
  return undefined;
}

function need<K extends Match['kind']>(
  st: ParseState,
  kind: K,
  opt: string,
): Extract<AnyMatch, { kind: K }> {
  return last(st, kind) ?? fail(st.args, `${opt} without its -m module`);
}

/** Parse `-A CHAIN ...` (already split into arguments) into a Rule. */
export function parseRuleArgs(args: readonly string[]): Rule {
  if (args[0] !== '-A' || args[1] === undefined) fail(args, 'must start with -A CHAIN');
  const chain = args[1];
  const r = {
    chain,
    line: args.join(' '),
    src: 0,
    srcMask: 0,
    srcPrefix: -1,
    srcInv: false,
    dst: 0,
    dstMask: 0,
    dstPrefix: -1,
    dstInv: false,
    inIface: '',
    inInv: false,
    outIface: '',
    outInv: false,
    proto: 0,
    protoInv: false,
  };
  const matches: AnyMatch[] = [];
  let targetName = '';
  const t: { ip: string; port: number; value: number; mask: number; random: boolean; rw: string } =
    { ip: '', port: 0, value: 0, mask: 0, random: false, rw: 'icmp-port-unreachable' };
  let inv = false;
  // Parser state lives in one object so the helpers below need no per-call closures.
  const st: ParseState = { args, i: 2, matches };

  for (; st.i < args.length; st.i++) {
    const a = args[st.i] as string;
    if (a === '!') {
      inv = true;
      continue;
    }
    switch (a) {
      case '-s':
      case '--source': {
        const p = parseAddr(args, val(st));
        r.src = p.addr;
        r.srcPrefix = p.prefix;
        r.srcMask = prefixMask(p.prefix);
        r.srcInv = inv;
        break;
      }
      case '-d':
      case '--destination': {
        const p = parseAddr(args, val(st));
        r.dst = p.addr;
        r.dstPrefix = p.prefix;
        r.dstMask = prefixMask(p.prefix);
        r.dstInv = inv;
        break;
      }
      case '-i':
      case '--in-interface':
        r.inIface = val(st);
        r.inInv = inv;
        break;
      case '-o':
      case '--out-interface':
        r.outIface = val(st);
        r.outInv = inv;
        break;
      case '-p':
      case '--protocol': {
        const p = val(st);
        const n = PROTOCOLS[p] ?? Number(p);
        if (!Number.isInteger(n) || n < 0 || n > 255) fail(args, `bad protocol ${p}`);
        r.proto = n;
        r.protoInv = inv;
        break;
      }
      case '-m':
      case '--match':
        matches.push(newMatch(args, val(st)));
        break;
      case '-j':
      case '--jump':
        targetName = val(st);
        break;
      case '--comment':
        need(st, MatchKind.Comment, a).text = unquote(val(st));
        break;
      case '--sport':
      case '--source-port':
      case '--dport':
      case '--destination-port': {
        // A port option with no -m tcp/udp/sctp loads the protocol's match (iptables does).
        let m = last(st, MatchKind.Port);
        if (m === undefined) {
          const name = PROTOCOL_NAMES[r.proto] ?? fail(args, `${a} needs -p tcp|udp|sctp`);
          m = newMatch(args, name) as Extract<AnyMatch, { kind: MatchKind.Port }>;
          matches.push(m);
        }
        const [lo, hi] = parsePorts(args, val(st));
        if (a === '--sport' || a === '--source-port') {
          m.sportLo = lo;
          m.sportHi = hi;
          m.sportInv = inv;
        } else {
          m.dportLo = lo;
          m.dportHi = hi;
          m.dportInv = inv;
        }
        break;
      }
      case '--src-type': {
        const m = need(st, MatchKind.AddrType, a);
        m.srcType = addrType(args, val(st));
        m.srcInv = inv;
        break;
      }
      case '--dst-type': {
        const m = need(st, MatchKind.AddrType, a);
        m.dstType = addrType(args, val(st));
        m.dstInv = inv;
        break;
      }
      case '--mode':
        need(st, MatchKind.Statistic, a);
        if (val(st) !== 'random') fail(args, 'only --mode random is supported');
        break;
      case '--probability': {
        const m = need(st, MatchKind.Statistic, a);
        m.probability = Number(val(st));
        if (!(m.probability >= 0 && m.probability <= 1)) fail(args, 'bad probability');
        // libxt_statistic: lround(0x80000000 * probability).
        m.p31 = Math.round(0x80000000 * m.probability);
        m.invert = inv;
        break;
      }
      case '--set':
      case '--rcheck':
      case '--update':
      case '--remove': {
        const m = need(st, MatchKind.Recent, a);
        m.mode =
          a === '--set'
            ? RecentMode.Set
            : a === '--rcheck'
              ? RecentMode.Check
              : a === '--update'
                ? RecentMode.Update
                : RecentMode.Remove;
        m.invert = inv;
        break;
      }
      case '--name':
        need(st, MatchKind.Recent, a).name = val(st);
        break;
      case '--seconds':
        need(st, MatchKind.Recent, a).seconds = parseNum(args, val(st));
        break;
      case '--reap':
        need(st, MatchKind.Recent, a).reap = true;
        break;
      case '--rsource':
        need(st, MatchKind.Recent, a).side = 'source';
        break;
      case '--rdest':
        need(st, MatchKind.Recent, a).side = 'dest';
        break;
      case '--mask': {
        const m = need(st, MatchKind.Recent, a);
        m.mask = tryIpToU32(val(st)) ?? fail(args, 'bad --mask');
        break;
      }
      case '--mark': {
        const m = need(st, MatchKind.Mark, a);
        const [value, mask] = val(st).split('/');
        m.value = parseNum(args, value);
        m.mask = mask === undefined ? 0xffffffff : parseNum(args, mask);
        m.invert = inv;
        break;
      }
      case '--nfacct-name':
        need(st, MatchKind.Nfacct, a).name = val(st);
        break;
      case '--ctstate': {
        const m = need(st, MatchKind.Conntrack, a);
        for (const s of val(st).split(',')) {
          const bit = (CtState as Record<string, number>)[s];
          if (bit === undefined) fail(args, `bad ctstate ${s}`);
          m.states |= bit;
        }
        m.invert = inv;
        break;
      }
      case '--to-destination': {
        const [ip, port] = val(st).split(':');
        t.ip = ip ?? '';
        t.port = port === undefined ? 0 : parseNum(args, port);
        break;
      }
      // MARK target forms, normalised as libxt_MARK does: new = (old & ~mask) ^ value.
      case '--or-mark':
        t.value = t.mask = parseNum(args, val(st));
        break;
      case '--xor-mark':
        t.value = parseNum(args, val(st));
        t.mask = 0;
        break;
      case '--and-mark':
        t.value = 0;
        t.mask = ~parseNum(args, val(st)) >>> 0;
        break;
      case '--set-mark':
      case '--set-xmark': {
        const [value, mask] = val(st).split('/');
        t.value = parseNum(args, value);
        t.mask = mask === undefined ? 0xffffffff : parseNum(args, mask);
        // libxt_MARK: --set-mark v/m becomes mask = v | m.
        if (a === '--set-mark') t.mask = (t.mask | t.value) >>> 0;
        break;
      }
      case '--random-fully':
        t.random = true;
        break;
      case '--reject-with':
        t.rw = val(st);
        break;
      default:
        fail(args, `unsupported option ${a}`);
    }
    inv = false;
  }
  return { ...r, matches, target: makeTarget(args, targetName, t) };
}

function makeTarget(
  args: readonly string[],
  name: string,
  t: { ip: string; port: number; value: number; mask: number; random: boolean; rw: string },
): Target {
  switch (name) {
    case '':
      return { kind: TargetKind.None };
    case 'ACCEPT':
      return { kind: TargetKind.Accept };
    case 'DROP':
      return { kind: TargetKind.Drop };
    case 'RETURN':
      return { kind: TargetKind.Return };
    case 'REJECT':
      return { kind: TargetKind.Reject, rejectWith: t.rw };
    case 'DNAT': {
      const ip = tryIpToU32(t.ip) ?? fail(args, 'DNAT needs --to-destination ip[:port]');
      return { kind: TargetKind.Dnat, ip, ipString: t.ip, port: t.port };
    }
    case 'MARK':
      return { kind: TargetKind.Mark, value: t.value >>> 0, mask: t.mask >>> 0 };
    case 'MASQUERADE':
      return { kind: TargetKind.Masquerade, randomFully: t.random };
    default:
      if (!/^[A-Z][A-Z0-9-]*$/.test(name)) fail(args, `bad target ${name}`);
      return { kind: TargetKind.Jump, chain: name };
  }
}
