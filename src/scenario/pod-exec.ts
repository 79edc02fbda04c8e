// `kubectl exec` in the simulation: a command runs through the session's prompt on the
// pod's host (`pod/NS/NAME`; a hostNetwork pod's host is its node), so curl and dig see
// the pod's resolv.conf and leave from the pod's address.
//
// What a pod can run: the session's commands (curl, dig, echo, and the node views, which
// in a pod show its node's tables, as elsewhere in svclab) except kubectl (a container
// has none, and the session's kubectl reads files of the machine svclab runs on), plus
// the builtins below: cat (stdin, /etc/resolv.conf, /etc/hosts, /etc/hostname), hostname,
// true, false, pwd, and sleep on the wall clock (the server runs the cluster on it).
//
//   - `kubectl exec POD -- CMD ARGS…` runs CMD once. An unknown CMD fails as the real
//     runtime does (exec: "x": executable file not found in $PATH; kubectl exits 1).
//   - `sh -c 'SCRIPT'` (also ash, bash, /bin/sh …) runs SCRIPT: simple commands separated
//     by `;`, newlines, `&&` and `||` (and-or lists, left to right), quotes, backslashes,
//     `$(…)` substitution, `#` comments, `exit [N]`. No pipes, redirections, background
//     jobs, variables or control structures: those fail with exit code 2.
//   - `sh` with stdin (`-i`, `-it`): a line shell. With a tty it prints busybox's `/ # `
//     prompt (bash: `root@HOST:/# `), echoes what is typed, handles backspace, Ctrl-U,
//     Ctrl-C (abandons the line, or interrupts a running sleep/cat) and Ctrl-D on an empty
//     line (ends); without a tty it reads lines, no prompt, as sh does from a pipe.
//     `exit [N]` ends with N, else the last command's status.
//
// The virtual clock: curl and dig run the cluster's virtual time until they finish
// inside one synchronous call (Session.runUntil), so nothing the wall-clock driver does
// can interleave with a command's network exchange; between commands it may tick freely.
import { buildIngressConfig } from '../ingress/config.ts';
import { renderNginxConf } from '../ingress/nginx-conf.ts';
import { workloadFor } from '../workloads/kind.ts';
import { randomBytes } from 'node:crypto';
import type { Pod } from '../api/types.ts';
import { COMMANDS } from './commands/index.ts';
import type { ExecResult, Session } from './session.ts';
import { splitWords } from './shell.ts';
import type { ExecRequest, ExecStreams } from '../control/runtime.ts';

const SHELLS = new Set(['sh', 'ash', 'bash']);
/** Session commands a pod does not have. */
const NOT_IN_PODS = new Set(['kubectl']);
const BIN_DIRS = ['/bin/', '/usr/bin/', '/sbin/', '/usr/sbin/', '/usr/local/bin/'];
/** A line typed at the shell, at most (longer input rings the bell). */
const MAX_LINE = 64 << 10;

/** A word quoted so that scenario/shell.ts splitWords gives it back unchanged. */
export function quoteWord(w: string): string {
  if (/^[A-Za-z0-9_./:=,@%+^-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

export const quoteLine = (argv: readonly string[]): string => argv.map(quoteWord).join(' ');

/** What containerd and runc answer when the executable is missing (kubectl exits 1). */
export function notFoundMessage(cmd: string): string {
  const cause = cmd.includes('/')
    ? `exec: "${cmd}": stat ${cmd}: no such file or directory`
    : `exec: "${cmd}": executable file not found in $PATH`;
  return (
    'Internal error occurred: error executing command in container: failed to exec in container: ' +
    `failed to start exec "${randomBytes(32).toString('hex')}": OCI runtime exec failed: ` +
    `exec failed: unable to start container process: ${cause}: unknown`
  );
}

// ---- the script language --------------------------------------------------------------

export type AndOr = ';' | '&&' | '||';
export interface ScriptCommand {
  /** How it joins the one before: `;` (always), `&&` (after success), `||` (after failure). */
  op: AndOr;
  text: string;
}

/** Split a script into simple commands, or say which construct it cannot run. */
export function splitScript(script: string): ScriptCommand[] | { unsupported: string } {
  const out: ScriptCommand[] = [];
  let op: AndOr = ';';
  let cur = '';
  let quote = '';
  let depth = 0;
  const flush = (next: AndOr) => {
    if (cur.trim() !== '') out.push({ op, text: cur.trim() });
    cur = '';
    op = next;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote !== '') {
      cur += c;
      if (c === '\\' && quote === '"' && i + 1 < script.length) cur += script[++i];
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '\\' && i + 1 < script.length) {
      // A backslash-newline joins lines.
      if (script[i + 1] === '\n') i++;
      else cur += c + script[++i];
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      cur += c;
      continue;
    }
    if (c === '$' && script[i + 1] === '(') {
      depth++;
      cur += '$(';
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      cur += c;
      continue;
    }
    if (c === '#' && (cur === '' || /\s$/.test(cur))) {
      while (i + 1 < script.length && script[i + 1] !== '\n') i++;
      continue;
    }
    const two = script.slice(i, i + 2);
    if (c === ';' || c === '\n') flush(';');
    else if (two === '&&' || two === '||') {
      if (cur.trim() === '') return { unsupported: `syntax error: unexpected "${two}"` };
      flush(two);
      i++;
    } else if (c === '|' || c === '&' || c === '<' || c === '>' || c === '`' || c === '(') {
      return { unsupported: `"${c}" is not supported (svclab's sh runs simple commands only)` };
    } else if (c === '$' && /[A-Za-z_{?#@*!0-9$-]/.test(script[i + 1] ?? '')) {
      return { unsupported: `"$${script[i + 1]}": variables are not supported` };
    } else cur += c;
  }
  if (quote !== '') return { unsupported: `syntax error: unterminated quoted string` };
  if (depth > 0) return { unsupported: `syntax error: unterminated $(` };
  if (op !== ';' && cur.trim() === '')
    return { unsupported: `syntax error: end of file unexpected` };
  flush(';');
  const first = out[0]?.text.split(/\s+/)[0] ?? '';
  if (/^(if|then|else|elif|fi|for|while|until|do|done|case|esac|function)$/.test(first))
    return { unsupported: `"${first}": control structures are not supported` };
  return out;
}

// ---- input: a pipe, or a terminal with a line discipline --------------------------------

/** A line (without its end); undefined at end of input; null when interrupted. */
type LineResult = string | undefined | null;

interface Input {
  line(signal: AbortSignal): Promise<LineResult>;
  /** For cat: bytes as they come from a pipe; lines (with their end) from a terminal. */
  chunk(signal: AbortSignal): Promise<Uint8Array | string | undefined | null>;
  /** A command is running in the foreground: Ctrl-C aborts it. */
  foreground: AbortController | undefined;
  close(): void;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
const ABORTED = Symbol('aborted');

/** stdin from a pipe (`kubectl exec -i`): read on demand, nothing echoed. */
class PipeInput implements Input {
  foreground: AbortController | undefined;
  private readonly it: AsyncIterator<Uint8Array>;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;
  private readonly decoder = new TextDecoder();
  private text = '';
  private ended = false;

  constructor(stdin: AsyncIterable<Uint8Array>) {
    this.it = stdin[Symbol.asyncIterator]();
  }

  /** The next raw chunk; a read cut short by `signal` is kept for the next call. */
  private async next(signal: AbortSignal): Promise<Uint8Array | undefined | null> {
    if (this.ended) return undefined;
    this.pending ??= this.it.next();
    const r = await raceAbort(this.pending, signal);
    if (r === ABORTED) return null;
    this.pending = undefined;
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  async line(signal: AbortSignal): Promise<LineResult> {
    for (;;) {
      const nl = this.text.indexOf('\n');
      if (nl >= 0) {
        const l = this.text.slice(0, nl).replace(/\r$/, '');
        this.text = this.text.slice(nl + 1);
        return l;
      }
      if (this.text.length > MAX_LINE) {
        const l = this.text;
        this.text = '';
        return l;
      }
      const b = await this.next(signal);
      if (b === null) return null;
      if (b === undefined) {
        this.text += this.decoder.decode();
        if (this.text === '') return undefined;
        const l = this.text;
        this.text = '';
        return l;
      }
      this.text += this.decoder.decode(b, { stream: true });
    }
  }

  async chunk(signal: AbortSignal): Promise<Uint8Array | string | undefined | null> {
    if (this.text !== '') {
      const t = this.text;
      this.text = '';
      return t;
    }
    return this.next(signal);
  }

  close(): void {
    void this.it.return?.();
  }
}

type TermEvent = { kind: 'line'; text: string } | { kind: 'eof' } | { kind: 'interrupt' };

/**
 * stdin from a terminal (`kubectl exec -it`, the client's terminal in raw mode): what a
 * pty's line discipline does — echo, erase, Ctrl-C, Ctrl-D — read as it arrives, so
 * typing ahead of a running command and interrupting it work.
 */
class TtyInput implements Input {
  foreground: AbortController | undefined;
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly events: TermEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private buf = '';
  private esc = 0; // 0 text, 1 after ESC, 2 in a CSI sequence, 3 after ESC O
  private lastCR = false;

  constructor(
    stdin: AsyncIterable<Uint8Array>,
    private readonly echo: (s: string) => void,
  ) {
    this.it = stdin[Symbol.asyncIterator]();
    void this.pump();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done) break;
        this.feed(decoder.decode(r.value, { stream: true }));
      }
    } catch {
      // The connection went away: end of input.
    }
    this.ended = true;
    this.notify();
  }

  private push(e: TermEvent): void {
    this.events.push(e);
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private feed(text: string): void {
    for (const ch of text) {
      const cr = this.lastCR;
      this.lastCR = ch === '\r';
      if (this.esc === 1) {
        this.esc = ch === '[' ? 2 : ch === 'O' ? 3 : 0;
        continue;
      }
      if (this.esc === 2) {
        if (ch >= '@' && ch <= '~') this.esc = 0;
        continue;
      }
      if (this.esc === 3) {
        this.esc = 0;
        continue;
      }
      switch (ch) {
        case '\r':
        case '\n':
          if (ch === '\n' && cr) break;
          this.echo('\r\n');
          this.push({ kind: 'line', text: this.buf });
          this.buf = '';
          break;
        case '\x7f':
        case '\b':
          if (this.buf !== '') {
            this.buf = Array.from(this.buf).slice(0, -1).join('');
            this.echo('\b \b');
          }
          break;
        case '\x15': // Ctrl-U
          this.echo('\b \b'.repeat(Array.from(this.buf).length));
          this.buf = '';
          break;
        case '\x03': // Ctrl-C
          this.echo('^C\r\n');
          this.buf = '';
          if (this.foreground !== undefined) this.foreground.abort();
          else this.push({ kind: 'interrupt' });
          break;
        case '\x04': // Ctrl-D
          if (this.buf === '') this.push({ kind: 'eof' });
          break;
        case '\x1b':
          this.esc = 1;
          break;
        default:
          if (ch < ' ') break;
          if (this.buf.length >= MAX_LINE) {
            this.echo('\x07');
            break;
          }
          this.buf += ch;
          this.echo(ch);
      }
    }
  }

  async line(signal: AbortSignal): Promise<LineResult> {
    for (;;) {
      if (signal.aborted) return null;
      const e = this.events.shift();
      if (e !== undefined) {
        if (e.kind === 'line') return e.text;
        if (e.kind === 'eof') return undefined;
        return null;
      }
      if (this.ended) return undefined;
      const woke = new Promise<void>((resolve) => (this.wake = resolve));
      if ((await raceAbort(woke, signal)) === ABORTED) return null;
    }
  }

  async chunk(signal: AbortSignal): Promise<string | undefined | null> {
    const l = await this.line(signal);
    return typeof l === 'string' ? `${l}\n` : l;
  }

  close(): void {
    void this.it.return?.();
  }
}

// ---- running commands -------------------------------------------------------------------

interface Io {
  out(s: string | Uint8Array): void;
  err(s: string): void;
  signal: AbortSignal;
  input: Input | undefined;
}

class ExitShell {
  constructor(readonly code: number) {}
}

/** The pod a command runs in, and what its files say. */
class PodView {
  constructor(
    readonly session: Session,
    readonly pod: Pod,
  ) {}

  get on(): string {
    const p = this.pod;
    return p.spec.hostNetwork === true && p.spec.nodeName !== undefined
      ? p.spec.nodeName
      : `pod/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
  }

  get hostname(): string {
    const p = this.pod;
    if (p.spec.hostNetwork === true) return p.spec.nodeName ?? p.metadata.name;
    return (p.spec.hostname ?? p.metadata.name).slice(0, 63);
  }

  file(path: string): string | undefined {
    const p = this.pod;
    const cfg = this.session.cluster.config;
    const ns = p.metadata.namespace ?? 'default';
    const domain = cfg.clusterDomain;
    switch (path.replace(/\/+/g, '/')) {
      case '/etc/hostname':
        return `${this.hostname}\n`;
      case '/etc/resolv.conf': {
        // containerd's order: search, nameserver, options.
        if (p.spec.hostNetwork === true && p.spec.dnsPolicy !== 'ClusterFirstWithHostNet')
          return `nameserver ${cfg.dnsServiceIP}\n`;
        if (p.spec.dnsPolicy === 'Default' || p.spec.dnsPolicy === 'None')
          return `nameserver ${cfg.dnsServiceIP}\n`;
        return (
          `search ${ns}.svc.${domain} svc.${domain} ${domain}\n` +
          `nameserver ${cfg.dnsServiceIP}\noptions ndots:5\n`
        );
      }
      case '/etc/hosts': {
        let s =
          '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n' +
          '::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
          'fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
        const ip = p.status.podIP;
        if (ip !== undefined && p.spec.hostNetwork !== true) {
          const h = this.hostname;
          s +=
            p.spec.subdomain !== undefined
              ? `${ip}\t${h}.${p.spec.subdomain}.${ns}.svc.${domain}\t${h}\n`
              : `${ip}\t${h}\n`;
        }
        return s;
      }
      case '/etc/nginx/nginx.conf': {
        // The controller's generated configuration, from the live Ingresses (as the seed shows).
        if (!p.spec.containers.some((c) => workloadFor(c.image) === 'ingress-nginx'))
          return undefined;
        const cluster = this.session.cluster;
        const config = buildIngressConfig(cluster.list('Ingress'), (sns, name) =>
          cluster.get('Secret', sns, name),
        );
        return renderNginxConf(config);
      }
      default:
        return undefined;
    }
  }
}

type Builtin = (args: string[], io: Io, view: PodView) => Promise<number> | number;

/** Seconds of a busybox sleep argument (`1.5`, `2m`, `infinity`), or undefined. */
function sleepSeconds(arg: string): number | undefined {
  if (arg === 'inf' || arg === 'infinity') return Infinity;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
  if (m === null) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

const BUILTINS: Record<string, Builtin> = {
  true: () => 0,
  false: () => 1,
  pwd: (_args, io) => (io.out('/\n'), 0),
  hostname: (_args, io, view) => (io.out(`${view.hostname}\n`), 0),
  cat: async (args, io, view) => {
    const files = args.filter((a) => a !== '-u');
    if (files.length === 0) files.push('-');
    let rc = 0;
    for (const f of files) {
      if (f !== '-') {
        const text = view.file(f);
        if (text === undefined) {
          io.err(`cat: can't open '${f}': No such file or directory\n`);
          rc = 1;
        } else io.out(text);
        continue;
      }
      if (io.input === undefined) continue;
      for (;;) {
        const c = await io.input.chunk(io.signal);
        if (c === null) return 130;
        if (c === undefined) break;
        io.out(c);
      }
    }
    return rc;
  },
  sleep: async (args, io) => {
    if (args.length === 0) {
      io.err('sleep: missing operand\n');
      return 1;
    }
    let total = 0;
    for (const a of args) {
      const s = sleepSeconds(a);
      if (s === undefined) {
        io.err(`sleep: invalid number '${a}'\n`);
        return 1;
      }
      total += s;
    }
    if (io.signal.aborted) return 130;
    await new Promise<void>((resolve) => {
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        io.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(total)
        ? setTimeout(done, Math.min(total * 1000, 2 ** 31 - 1))
        : undefined;
      io.signal.addEventListener('abort', done, { once: true });
    });
    return io.signal.aborted ? 130 : 0;
  },
};

/** The command name argv[0] stands for, when the pod has it. */
function resolveCommand(name: string): string | undefined {
  let base = name;
  if (name.includes('/')) {
    const dir = BIN_DIRS.find((d) => name.startsWith(d));
    if (dir === undefined) return undefined;
    base = name.slice(dir.length);
    if (base.includes('/')) return undefined;
  }
  if (SHELLS.has(base) || base in BUILTINS) return base;
  if (Object.hasOwn(COMMANDS, base) && !NOT_IN_PODS.has(base)) return base;
  return undefined;
}

class Shell {
  status = 0;

  constructor(
    readonly view: PodView,
    readonly tty: boolean,
    readonly streams: ExecStreams,
    readonly input: Input | undefined,
    /** The shell's name for its own messages: sh, ash or bash. */
    readonly name: string,
  ) {}

  out = (s: string | Uint8Array): void => {
    if (this.tty && typeof s === 'string') this.streams.stdout(s.replace(/\r?\n/g, '\r\n'));
    else if (this.tty)
      this.streams.stdout(Buffer.from(s).toString('utf8').replace(/\r?\n/g, '\r\n'));
    else this.streams.stdout(s);
  };

  err = (s: string): void => {
    if (this.tty) this.streams.stdout(s.replace(/\r?\n/g, '\r\n'));
    else this.streams.stderr(s);
  };

  /** Run argv (already split) with `io`; unknown commands are the shell's `not found`. */
  async runArgv(argv: string[], io: Io): Promise<number> {
    const [name, ...args] = argv;
    if (name === undefined) return 0;
    if (name === 'exit') {
      const n = args[0] === undefined ? this.status : Number.parseInt(args[0], 10);
      throw new ExitShell(Number.isNaN(n) ? 2 : n & 0xff);
    }
    if (name === 'cd') return 0;
    const cmd = resolveCommand(name);
    if (cmd === undefined || SHELLS.has(cmd)) {
      if (cmd !== undefined) {
        io.err(`${this.name}: nested shells are not supported\n`);
        return 2;
      }
      io.err(
        this.name === 'bash'
          ? `bash: ${name}: command not found\n`
          : `${this.name}: ${name}: not found\n`,
      );
      return 127;
    }
    const builtin = BUILTINS[cmd];
    if (builtin !== undefined) return builtin(args, io, this.view);
    const r: ExecResult = await this.view.session.exec(quoteLine([cmd, ...args]), this.view.on);
    if (this.tty && r.transcript !== undefined) io.out(r.transcript);
    else {
      if (r.stdout !== '') io.out(r.stdout);
      if (r.stderr !== '') io.err(r.stderr);
    }
    return r.exitCode;
  }

  /** One simple command's text: words (with $(…) run through this shell), then run. */
  async runSimple(text: string, io: Io): Promise<number> {
    let words: string[];
    try {
      words = await splitWords(text, async (inner) => {
        let captured = '';
        const sub: Io = {
          ...io,
          out: (s) => (captured += typeof s === 'string' ? s : Buffer.from(s).toString()),
        };
        try {
          await this.runScript(inner, sub);
        } catch (e) {
          if (!(e instanceof ExitShell)) throw e;
        }
        return captured;
      });
    } catch (e) {
      io.err(`${this.name}: ${(e as Error).message}\n`);
      return 2;
    }
    return this.runArgv(words, io);
  }

  /** A script: and-or lists of simple commands. `exit` throws ExitShell. */
  async runScript(script: string, io: Io): Promise<number> {
    const parsed = splitScript(script);
    if ('unsupported' in parsed) {
      io.err(`${this.name}: ${parsed.unsupported}\n`);
      this.status = 2;
      return 2;
    }
    for (const c of parsed) {
      if (c.op === '&&' && this.status !== 0) continue;
      if (c.op === '||' && this.status === 0) continue;
      if (this.streams.signal.aborted) return this.status;
      this.status = await this.runSimple(c.text, io);
    }
    return this.status;
  }

  /** One command line typed at the shell, Ctrl-C interrupting it. */
  async runForeground(line: string): Promise<number> {
    const ac = new AbortController();
    const onClose = () => ac.abort();
    this.streams.signal.addEventListener('abort', onClose, { once: true });
    if (this.input !== undefined) this.input.foreground = ac;
    try {
      return await this.runScript(line, this.io(ac.signal));
    } finally {
      if (this.input !== undefined) this.input.foreground = undefined;
      this.streams.signal.removeEventListener('abort', onClose);
    }
  }

  io(signal: AbortSignal): Io {
    return { out: this.out, err: this.err, signal, input: this.input };
  }

  prompt(): string {
    return this.name === 'bash' ? `root@${this.view.hostname}:/# ` : '/ # ';
  }

  /** The interactive loop: prompt (with a tty), read a line, run it, until exit or EOF. */
  async interactive(): Promise<number> {
    const input = this.input;
    if (input === undefined) return 0;
    for (;;) {
      if (this.tty) this.streams.stdout(this.prompt());
      const line = await input.line(this.streams.signal);
      if (this.streams.signal.aborted) return this.status;
      if (line === undefined) {
        if (this.tty) this.streams.stdout(this.name === 'bash' ? 'exit\r\n' : '\r\n');
        return this.status;
      }
      if (line === null) {
        this.status = 130;
        continue;
      }
      try {
        await this.runForeground(line);
      } catch (e) {
        if (e instanceof ExitShell) return e.code;
        throw e;
      }
    }
  }
}

/** Run a `kubectl exec` in the simulated pod. Resolves to the exit code. */
export async function simExec(
  session: Session,
  req: ExecRequest,
  streams: ExecStreams,
): Promise<number> {
  const pod = session.cluster.get('Pod', req.namespace, req.pod);
  const container = req.container ?? pod?.spec.containers[0]?.name ?? req.pod;
  if (pod === undefined || pod.status.phase !== 'Running')
    throw new Error(`container not found ("${container}")`);
  const argv = req.command;
  const cmd = argv[0] === undefined ? undefined : resolveCommand(argv[0]);
  if (cmd === undefined) throw new Error(notFoundMessage(argv[0] ?? ''));

  const view = new PodView(session, pod);
  const stdin = req.stdin ? streams.stdin : undefined;
  const input: Input | undefined =
    stdin === undefined
      ? undefined
      : req.tty
        ? new TtyInput(stdin, (s) => streams.stdout(s))
        : new PipeInput(stdin);
  try {
    const sh = new Shell(view, req.tty, streams, input, SHELLS.has(cmd) ? cmd : 'sh');
    if (SHELLS.has(cmd)) {
      const args = argv.slice(1);
      const c = args.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
      if (c >= 0) {
        const script = args[c + 1];
        if (script === undefined) {
          sh.err(`${cmd}: -c requires an argument\n`);
          return 2;
        }
        try {
          return await sh.runScript(script, sh.io(streams.signal));
        } catch (e) {
          if (e instanceof ExitShell) return e.code;
          throw e;
        }
      }
      const file = args.find((a) => !a.startsWith('-'));
      if (file !== undefined) {
        sh.err(`${cmd}: can't open '${file}': No such file or directory\n`);
        return 2;
      }
      return await sh.interactive();
    }
    // One command, as the container runtime runs it: no shell in between.
    const ac = new AbortController();
    const onClose = () => ac.abort();
    streams.signal.addEventListener('abort', onClose, { once: true });
    if (input !== undefined) input.foreground = ac;
    try {
      return await sh.runArgv([cmd, ...argv.slice(1)], sh.io(ac.signal));
    } catch (e) {
      // `exit` is no executable; resolveCommand never lets it through.
      if (e instanceof ExitShell) return e.code;
      throw e;
    } finally {
      streams.signal.removeEventListener('abort', onClose);
    }
  } finally {
    input?.close();
  }
}
