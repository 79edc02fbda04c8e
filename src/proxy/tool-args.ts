// One grammar per emulated node tool: argv (argv[0] is the tool) → a request for the node's
// views (views.ts), or the real tool's complaint about bad arguments (its stderr text and
// exit status). Shared by the CLI, the scenario session, the lab and the API server's
// node-tool endpoint, so `iptables -t nat -nvL` means the same everywhere.
//
// The tools are read-only here: commands that would change the kernel's state (iptables -A,
// ipvsadm -A, conntrack -D, ...) answer with svclab's own message.
import type { CtFilter } from '../conntrack/entries.ts';
import { CtStatus } from '../conntrack/constants.ts';
import { tryIpToU32 } from '../packet/addr.ts';

/** The tools runNodeTool answers, by argv[0]. */
export const NODE_TOOL_NAMES = [
  'iptables-save',
  'iptables',
  'nft',
  'ipvsadm',
  'ipset',
  'conntrack',
] as const;
export type NodeToolName = (typeof NODE_TOOL_NAMES)[number];

/** The iptables tables svclab models (kube-proxy writes only these two). */
export type IptablesTable = 'filter' | 'nat';

/** The node's iptables binary, where its output differs by version. */
export interface IptablesBinary {
  /** As `iptables -V` and iptables-save's header print it: `v1.8.9 (nf_tables)`, `v1.4.21`. */
  readonly version: string;
  /** iptables before 1.8 lists the protocol by name (`tcp`, `all`) even with -n. */
  readonly protocolNames: boolean;
}

export interface IptablesSaveRequest {
  readonly tool: 'iptables-save';
  /** The node's binary (default: iptables v1.8.9 (nf_tables)). */
  readonly binary?: IptablesBinary;
  /** -t: only this table. */
  readonly table?: IptablesTable;
  /** -c: [pkts:bytes] before each rule. */
  readonly counters: boolean;
}

export interface IptablesListRequest {
  readonly tool: 'iptables';
  /** The node's binary (default: iptables v1.8.9 (nf_tables)). */
  readonly binary?: IptablesBinary;
  /** -L (list) or -S (list-rules). */
  readonly op: 'list' | 'rules';
  readonly table: IptablesTable;
  readonly chain?: string;
  /** -n: always numeric in svclab (no name lookups); kept for fidelity of the request. */
  readonly numeric: boolean;
  /** -v */
  readonly verbose: boolean;
  /** -x */
  readonly exact: boolean;
  /** --line-numbers */
  readonly lineNumbers: boolean;
}

export interface NftRequest {
  readonly tool: 'nft';
  readonly what: 'ruleset' | 'tables' | 'table' | 'chain' | 'set' | 'map';
  /** The family named (undefined: any for ruleset/tables, `ip` otherwise). */
  readonly family?: string;
  readonly table?: string;
  /** The chain, set or map name. */
  readonly name?: string;
  /** The command as nft echoes it in errors (`list table ip foo`). */
  readonly line: string;
}

export interface IpvsadmRequest {
  readonly tool: 'ipvsadm';
  /** -c: the connection entries instead of the services. */
  readonly connections: boolean;
  readonly stats: boolean;
  readonly rate: boolean;
  readonly thresholds: boolean;
  readonly persistentConn: boolean;
  readonly exact: boolean;
  readonly nosort: boolean;
  /** -t/-u/--sctp-service ADDR:PORT: one virtual service. */
  readonly service?: { readonly protocol: 'TCP' | 'UDP' | 'SCTP'; readonly address: string };
}

export interface IpsetRequest {
  readonly tool: 'ipset';
  /** One set (`ipset list NAME`), or all. */
  readonly name?: string;
  /** -name: set names only. */
  readonly names: boolean;
  /** -terse: headers without members. */
  readonly terse: boolean;
}

export interface ConntrackRequest {
  readonly tool: 'conntrack';
  readonly op: 'list' | 'count' | 'stats';
  /** -o extended */
  readonly extended: boolean;
  readonly filter: CtFilter;
}

export type ToolRequest =
  | IptablesSaveRequest
  | IptablesListRequest
  | NftRequest
  | IpvsadmRequest
  | IpsetRequest
  | ConntrackRequest;

/** What a tool printed when its arguments were wrong (no `tool` field: not a request). */
export interface ArgError {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

const argError = (stderr: string, exitCode: number): ArgError => ({ stdout: '', stderr, exitCode });

// ---- a getopt for the tools' options ------------------------------------------------------

interface OptSpec {
  /** Short options taking no argument. */
  readonly flags: string;
  /** Short options taking an argument. */
  readonly withArg: string;
  /** Long options (without --): true when they take an argument. */
  readonly long: Readonly<Record<string, boolean>>;
}

type Opt =
  | { readonly name: string; readonly value?: string; readonly raw: string }
  | { readonly positional: string };

type OptFailure =
  | { readonly kind: 'unknown'; readonly opt: string; readonly raw: string }
  | { readonly kind: 'missing'; readonly opt: string; readonly raw: string };

/** getopt_long with permutation: option words and positionals, in order. */
function getopt(args: readonly string[], spec: OptSpec): Opt[] | OptFailure {
  const out: Opt[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      for (const p of args.slice(i + 1)) out.push({ positional: p });
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const takes = spec.long[name];
      if (takes === undefined) return { kind: 'unknown', opt: `--${name}`, raw: a };
      if (!takes) {
        out.push({ name: `--${name}`, raw: a });
        continue;
      }
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) return { kind: 'missing', opt: `--${name}`, raw: a };
      out.push({ name: `--${name}`, value, raw: a });
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && a !== '!') {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (spec.flags.includes(c)) {
          out.push({ name: `-${c}`, raw: a });
        } else if (spec.withArg.includes(c)) {
          const value = k + 1 < a.length ? a.slice(k + 1) : args[++i];
          if (value === undefined) return { kind: 'missing', opt: `-${c}`, raw: a };
          out.push({ name: `-${c}`, value, raw: a });
          break;
        } else {
          return { kind: 'unknown', opt: `-${c}`, raw: a };
        }
      }
      continue;
    }
    out.push({ positional: a });
  }
  return out;
}

const isFailure = (x: Opt[] | OptFailure): x is OptFailure => !Array.isArray(x);

// ---- iptables, iptables-save ---------------------------------------------------------------

const IPTABLES = 'iptables v1.8.9 (nf_tables)';
const IPTABLES_TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";

function iptablesProblem(msg: string): ArgError {
  return argError(`${IPTABLES}: ${msg}\n${IPTABLES_TRY}`, 2);
}

function tableName(t: string, tool: string): IptablesTable | ArgError {
  if (t === 'nat' || t === 'filter') return t;
  return argError(`${tool} v1.8.9 (nf_tables): table '${t}' does not exist\n`, 1);
}

/** iptables commands that change rules: svclab's node views are read-only. */
const IPTABLES_WRITES = new Set([
  '-A', '-C', '-D', '-I', '-R', '-F', '-Z', '-N', '-X', '-P', '-E',
  '--append', '--check', '--delete', '--insert', '--replace', '--flush', '--zero',
  '--new-chain', '--delete-chain', '--policy', '--rename-chain',
]); // prettier-ignore

function parseIptables(args: readonly string[]): IptablesListRequest | ArgError {
  const write = args.find((a) => IPTABLES_WRITES.has(a));
  if (write !== undefined)
    return argError(
      `svclab: iptables ${write} would change the rules; the node views are read-only (try -L or -S)\n`,
      2,
    );
  const opts = getopt(args, {
    flags: 'LSnvxhFZXV',
    withArg: 'tACDIRNPE',
    long: {
      table: true,
      list: false,
      'list-rules': false,
      numeric: false,
      verbose: false,
      exact: false,
      'line-numbers': false,
      ...Object.fromEntries(
        [...IPTABLES_WRITES].filter((w) => w.startsWith('--')).map((w) => [w.slice(2), false]),
      ),
    },
  });
  if (isFailure(opts)) {
    if (opts.kind === 'missing')
      return iptablesProblem(`option "${opts.opt}" requires an argument`);
    return iptablesProblem(`unknown option "${opts.raw}"`);
  }
  let op: 'list' | 'rules' | undefined;
  let opName = '';
  let table: IptablesTable = 'filter';
  let chain: string | undefined;
  let expectChain = false;
  const f = { numeric: false, verbose: false, exact: false, lineNumbers: false };
  for (const o of opts) {
    if ('positional' in o) {
      if (expectChain && chain === undefined) {
        chain = o.positional;
        continue;
      }
      return iptablesProblem(`Bad argument \`${o.positional}'`);
    }
    expectChain = false;
    if (IPTABLES_WRITES.has(o.name) || ['-F', '-Z', '-X'].includes(o.name))
      return argError(
        `svclab: iptables ${o.name} would change the rules; the node views are read-only (try -L or -S)\n`,
        2,
      );
    switch (o.name) {
      case '-t':
      case '--table': {
        const t = tableName(o.value!, 'iptables');
        if (typeof t !== 'string') return t;
        table = t;
        break;
      }
      case '-L':
      case '--list':
      case '-S':
      case '--list-rules': {
        const next = o.name === '-L' || o.name === '--list' ? 'list' : 'rules';
        const letter = next === 'list' ? 'L' : 'S';
        if (op !== undefined && op !== next)
          return iptablesProblem(`Cannot use -${letter} with -${opName}`);
        op = next;
        opName = letter;
        expectChain = true;
        break;
      }
      case '-n':
      case '--numeric':
        f.numeric = true;
        break;
      case '-v':
      case '--verbose':
        f.verbose = true;
        break;
      case '-x':
      case '--exact':
        f.exact = true;
        break;
      case '--line-numbers':
        f.lineNumbers = true;
        break;
      case '-V':
        return argError('', 0);
      case '-h':
        return argError(
          'svclab: iptables -L/-S [-t nat|filter] [CHAIN] [-n] [-v] [-x] [--line-numbers]\n',
          0,
        );
    }
  }
  if (op === undefined) return iptablesProblem('no command specified');
  return { tool: 'iptables', op, table, ...(chain !== undefined ? { chain } : {}), ...f };
}

function parseIptablesSave(args: readonly string[]): IptablesSaveRequest | ArgError {
  const opts = getopt(args, {
    flags: 'c',
    withArg: 'tM',
    long: { counters: false, table: true, modprobe: true },
  });
  const manual = "Look at manual page `iptables-save.8' for more information.\n";
  if (isFailure(opts)) {
    const what =
      opts.kind === 'missing'
        ? `option requires an argument -- '${opts.opt.replace(/^-+/, '')}'`
        : opts.opt.startsWith('--')
          ? `unrecognized option '${opts.opt}'`
          : `invalid option -- '${opts.opt.slice(1)}'`;
    return argError(`iptables-save: ${what}\n${manual}`, 1);
  }
  let table: IptablesTable | undefined;
  let counters = false;
  for (const o of opts) {
    if ('positional' in o)
      return argError(`${IPTABLES}: Unknown arguments found on commandline\n`, 1);
    if (o.name === '-c' || o.name === '--counters') counters = true;
    if (o.name === '-t' || o.name === '--table') {
      const t = tableName(o.value!, 'iptables');
      if (typeof t !== 'string') return t;
      table = t;
    }
  }
  return { tool: 'iptables-save', ...(table !== undefined ? { table } : {}), counters };
}

// ---- nft -----------------------------------------------------------------------------------

const NFT_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/** nft's parser error: the message, the command, carets under the offending word. */
export function nftError(msg: string, words: readonly string[], at: number): string {
  const line = words.join(' ');
  const start = words.slice(0, at).reduce((n, w) => n + w.length + 1, 0);
  const len = Math.max(1, (words[at] ?? '').length);
  return `Error: ${msg}\n${line}\n${' '.repeat(start)}${'^'.repeat(len)}\n`;
}

function parseNft(args: readonly string[]): NftRequest | ArgError {
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    if (['-n', '--numeric', '-s', '--stateless', '-N', '--reversedns', '-y'].includes(a)) continue;
    if (a === '-a' || a === '--handle')
      return argError('svclab: nft -a (rule handles) is not simulated\n', 2);
    return argError(`nft: unrecognized option '${a}'\n`, 1);
  }
  // nft joins its arguments into one command line.
  const words = args
    .slice(i)
    .join(' ')
    .split(/\s+/)
    .filter((w) => w !== '');
  const line = words.join(' ');
  if (words.length === 0) return argError('', 0);
  if (words[0] !== 'list') {
    if (
      ['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush', 'reset'].includes(
        words[0]!,
      )
    )
      return argError(
        `svclab: nft ${words[0]} would change the ruleset; the node views are read-only\n`,
        2,
      );
    return argError(nftError('syntax error, unexpected string', words, 0), 1);
  }
  const what = words[1];
  const rest = words.slice(2);
  const unexpected = (at: number) =>
    argError(
      nftError(
        at >= words.length ? 'syntax error, unexpected newline' : 'syntax error, unexpected string',
        words,
        Math.min(at, words.length - 1),
      ),
      1,
    );
  switch (what) {
    case 'ruleset':
    case 'tables': {
      if (rest.length > 1 || (rest.length === 1 && !NFT_FAMILIES.has(rest[0]!)))
        return unexpected(2);
      return { tool: 'nft', what, ...(rest[0] !== undefined ? { family: rest[0] } : {}), line };
    }
    case 'table': {
      const fam = rest.length === 2 && NFT_FAMILIES.has(rest[0]!);
      if (rest.length === 0 || rest.length > 2 || (rest.length === 2 && !fam))
        return unexpected(2 + rest.length);
      return { tool: 'nft', what, family: fam ? rest[0]! : 'ip', table: rest[fam ? 1 : 0]!, line };
    }
    case 'chain':
    case 'set':
    case 'map': {
      const fam = rest.length === 3 && NFT_FAMILIES.has(rest[0]!);
      if (rest.length < 2 || rest.length > 3 || (rest.length === 3 && !fam))
        return unexpected(2 + rest.length);
      const off = fam ? 1 : 0;
      return {
        tool: 'nft',
        what,
        family: fam ? rest[0]! : 'ip',
        table: rest[off]!,
        name: rest[off + 1]!,
        line,
      };
    }
    default:
      return unexpected(1);
  }
}

// ---- ipvsadm -------------------------------------------------------------------------------

const IPVSADM_WRITES = new Set(['-A', '-E', '-D', '-C', '-R', '-a', '-e', '-d', '-Z', '-S']);

function parseIpvsadm(args: readonly string[]): IpvsadmRequest | ArgError {
  const opts = getopt(args, {
    flags: 'LlncAEDCRaedZS6h',
    withArg: 'tuf',
    long: {
      list: false,
      numeric: false,
      connection: false,
      stats: false,
      rate: false,
      thresholds: false,
      'persistent-conn': false,
      exact: false,
      nosort: false,
      sort: false,
      'tcp-service': true,
      'udp-service': true,
      'sctp-service': true,
      'fwmark-service': true,
      help: false,
    },
  });
  if (isFailure(opts))
    return argError(
      `${opts.raw}: ${opts.kind === 'missing' ? 'missing argument' : 'unknown option'}\n`,
      2,
    );
  const r = {
    list: args.length === 0,
    connections: false,
    stats: false,
    rate: false,
    thresholds: false,
    persistentConn: false,
    exact: false,
    nosort: false,
  };
  let service: IpvsadmRequest['service'];
  for (const o of opts) {
    if ('positional' in o) return argError(`ipvsadm: unexpected argument ${o.positional}\n`, 2);
    if (IPVSADM_WRITES.has(o.name))
      return argError(
        `svclab: ipvsadm ${o.name} would change the IPVS table; the node views are read-only (try -Ln)\n`,
        2,
      );
    switch (o.name) {
      case '-L':
      case '-l':
      case '--list':
        r.list = true;
        break;
      case '-c':
      case '--connection':
        r.connections = true;
        break;
      case '--stats':
        r.stats = true;
        break;
      case '--rate':
        r.rate = true;
        break;
      case '--thresholds':
        r.thresholds = true;
        break;
      case '--persistent-conn':
        r.persistentConn = true;
        break;
      case '--exact':
        r.exact = true;
        break;
      case '--nosort':
        r.nosort = true;
        break;
      case '-t':
      case '--tcp-service':
      case '-u':
      case '--udp-service':
      case '--sctp-service': {
        const v = o.value!;
        const m = /^([0-9.]+):(\d+)$/.exec(v);
        if (m === null || tryIpToU32(m[1]!) === undefined || Number(m[2]) > 65535)
          return argError('Illegal virtual server address[:port] specified\n', 2);
        const protocol =
          o.name === '-t' || o.name === '--tcp-service'
            ? 'TCP'
            : o.name === '-u' || o.name === '--udp-service'
              ? 'UDP'
              : 'SCTP';
        service = { protocol, address: `${m[1]!}:${Number(m[2])}` };
        break;
      }
      case '-f':
      case '--fwmark-service':
        return argError('svclab: ipvsadm -f (fwmark services) is not simulated\n', 2);
      case '-h':
      case '--help':
        return argError(
          'svclab: ipvsadm -L|-l [-n] [-c] [--stats|--rate|--exact] [-t|-u ADDR:PORT]\n',
          0,
        );
    }
  }
  if (!r.list && !r.connections)
    return argError(
      'svclab: only ipvsadm -L/-Ln (with --stats, --rate, -c, -t/-u) is simulated\n',
      2,
    );
  const { list: _list, ...rest } = r;
  return { tool: 'ipvsadm', ...rest, ...(service !== undefined ? { service } : {}) };
}

// ---- ipset ---------------------------------------------------------------------------------

const IPSET = 'ipset v7.17';

function parseIpset(args: readonly string[]): IpsetRequest | ArgError {
  let names = false;
  let terse = false;
  const words: string[] = [];
  for (const a of args) {
    if (a === '-n' || a === '-name' || a === '--name') names = true;
    else if (a === '-t' || a === '-terse' || a === '--terse') terse = true;
    else if (a === '-o' || a === '-output') continue;
    else if (a.startsWith('-'))
      return argError(
        `${IPSET}: No command specified: unknown argument ${a}\nTry \`ipset help' for more help.\n`,
        1,
      );
    else words.push(a);
  }
  const cmd = words[0];
  if (cmd === undefined)
    return argError(`${IPSET}: No command specified.\nTry \`ipset help' for more help.\n`, 1);
  if (cmd !== 'list' && cmd !== '-L') {
    if (['create', 'add', 'del', 'destroy', 'flush', 'rename', 'swap', 'restore'].includes(cmd))
      return argError(
        `svclab: ipset ${cmd} would change the sets; the node views are read-only\n`,
        2,
      );
    return argError(
      `${IPSET}: No command specified: unknown argument ${cmd}\nTry \`ipset help' for more help.\n`,
      1,
    );
  }
  if (words.length > 2)
    return argError(
      `${IPSET}: Unknown argument: \`${words[2]}'\nTry \`ipset help' for more help.\n`,
      1,
    );
  return { tool: 'ipset', ...(words[1] !== undefined ? { name: words[1] } : {}), names, terse };
}

// ---- conntrack -----------------------------------------------------------------------------

const CONNTRACK = 'conntrack v1.4.7 (conntrack-tools)';
const CONNTRACK_TRY = "Try `conntrack -h' or 'conntrack --help' for more information.\n";
const CT_PROTOS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, sctp: 132 };

function conntrackProblem(msg: string): ArgError {
  return argError(`${CONNTRACK}: ${msg}\n${CONNTRACK_TRY}`, 2);
}

function parseConntrack(args: readonly string[]): ConntrackRequest | ArgError {
  const opts = getopt(args, {
    flags: 'LCSngDEFIGUh',
    withArg: 'opsdrqmf',
    long: {
      dump: false,
      count: false,
      stats: false,
      output: true,
      proto: true,
      'orig-src': true,
      src: true,
      'orig-dst': true,
      dst: true,
      'reply-src': true,
      'reply-dst': true,
      sport: true,
      'orig-port-src': true,
      dport: true,
      'orig-port-dst': true,
      'reply-port-src': true,
      'reply-port-dst': true,
      mark: true,
      'src-nat': false,
      'dst-nat': false,
      family: true,
      help: false,
    },
  });
  if (isFailure(opts)) {
    if (opts.kind === 'missing')
      return conntrackProblem(`option \`${opts.opt}' requires an argument`);
    return conntrackProblem(`unknown option \`${opts.opt}'`);
  }
  let op: ConntrackRequest['op'] | undefined;
  let extended = false;
  let proto: number | undefined;
  const filter: { -readonly [K in keyof CtFilter]: CtFilter[K] } = {};
  let expectTable = false;
  const addr = (v: string): number | ArgError =>
    tryIpToU32(v) ?? conntrackProblem(`Bad parameter \`${v}'`);
  const port = (name: string, v: string): number | ArgError => {
    if (proto !== 6 && proto !== 17 && proto !== 132)
      return conntrackProblem(`unknown option \`${name}'`);
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535
      ? n
      : conntrackProblem(`Bad parameter \`${v}'`);
  };
  for (const o of opts) {
    if ('positional' in o) {
      if (expectTable && (o.positional === 'conntrack' || o.positional === 'expect')) {
        if (o.positional === 'expect')
          return argError('svclab: conntrack expectations are not simulated\n', 2);
        expectTable = false;
        continue;
      }
      return conntrackProblem(`Bad parameter \`${o.positional}'`);
    }
    expectTable = false;
    const setOp = (next: ConntrackRequest['op'], letter: string): ArgError | undefined => {
      if (op !== undefined && op !== next)
        return conntrackProblem(`Invalid parameters: cannot use -${letter} with another command`);
      op = next;
      expectTable = true;
      return undefined;
    };
    let err: ArgError | undefined;
    let v: number | ArgError;
    switch (o.name) {
      case '-L':
      case '--dump':
        err = setOp('list', 'L');
        break;
      case '-C':
      case '--count':
        err = setOp('count', 'C');
        break;
      case '-S':
      case '--stats':
        err = setOp('stats', 'S');
        break;
      case '-D':
      case '-E':
      case '-F':
      case '-I':
      case '-U':
      case '-G':
        return argError(
          `svclab: conntrack ${o.name} is not simulated; the node views are read-only (try -L)\n`,
          2,
        );
      case '-o':
      case '--output':
        for (const fmt of o.value!.split(',')) {
          if (fmt === 'extended') extended = true;
          else return conntrackProblem(`Bad parameter \`${fmt}'`);
        }
        break;
      case '-p':
      case '--proto': {
        const p = CT_PROTOS[o.value!.toLowerCase()] ?? Number(o.value);
        if (!Number.isInteger(p) || p < 0 || p > 255)
          return conntrackProblem(`proto \`${o.value!}' not found`);
        proto = p;
        filter.proto = p;
        break;
      }
      case '-f':
      case '--family':
        if (o.value !== 'ipv4') return argError('svclab: only the ipv4 family is simulated\n', 2);
        break;
      case '-s':
      case '--orig-src':
      case '--src':
        if (typeof (v = addr(o.value!)) !== 'number') return v;
        filter.origSrc = v;
        break;
      case '-d':
      case '--orig-dst':
      case '--dst':
        if (typeof (v = addr(o.value!)) !== 'number') return v;
        filter.origDst = v;
        break;
      case '-r':
      case '--reply-src':
        if (typeof (v = addr(o.value!)) !== 'number') return v;
        filter.replySrc = v;
        break;
      case '-q':
      case '--reply-dst':
        if (typeof (v = addr(o.value!)) !== 'number') return v;
        filter.replyDst = v;
        break;
      case '--sport':
      case '--orig-port-src':
        if (typeof (v = port(o.name, o.value!)) !== 'number') return v;
        filter.origSport = v;
        break;
      case '--dport':
      case '--orig-port-dst':
        if (typeof (v = port(o.name, o.value!)) !== 'number') return v;
        filter.origDport = v;
        break;
      case '--reply-port-src':
        if (typeof (v = port(o.name, o.value!)) !== 'number') return v;
        filter.replySport = v;
        break;
      case '--reply-port-dst':
        if (typeof (v = port(o.name, o.value!)) !== 'number') return v;
        filter.replyDport = v;
        break;
      case '-m':
      case '--mark': {
        const n = Number(o.value!.split('/')[0]);
        if (!Number.isInteger(n)) return conntrackProblem(`Bad parameter \`${o.value!}'`);
        filter.mark = n;
        break;
      }
      case '-n':
      case '--src-nat':
        filter.status = (filter.status ?? 0) | CtStatus.SRC_NAT;
        break;
      case '-g':
      case '--dst-nat':
        filter.status = (filter.status ?? 0) | CtStatus.DST_NAT;
        break;
      case '-h':
      case '--help':
        return argError(
          'svclab: conntrack -L|-C|-S [-p PROTO] [-s|-d|-r|-q ADDR] [--sport|--dport N] [-o extended]\n',
          0,
        );
    }
    if (err !== undefined) return err;
  }
  if (op === undefined) return conntrackProblem('no command specified');
  return { tool: 'conntrack', op, extended, filter };
}

/** Parse one tool's argv (argv[0] is the tool's name). */
export function parseToolArgv(argv: readonly string[]): ToolRequest | ArgError {
  const [tool, ...args] = argv;
  switch (tool) {
    case 'iptables':
      return parseIptables(args);
    case 'iptables-save':
      return parseIptablesSave(args);
    case 'nft':
      return parseNft(args);
    case 'ipvsadm':
      return parseIpvsadm(args);
    case 'ipset':
      return parseIpset(args);
    case 'conntrack':
      return parseConntrack(args);
    default:
      return argError(
        `svclab: ${tool ?? '(none)'} is not a node tool (${NODE_TOOL_NAMES.join(', ')})\n`,
        127,
      );
  }
}
