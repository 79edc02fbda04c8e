// `kubectl exec` in the lab: the command runs in the pod's network namespace
// (`ip netns exec NS argv…`, the argv as an array: no shell sees it), its stdin, stdout and
// stderr piped to the exec's streams. The process sees the machine's files (the lab has
// network namespaces, not containers) but the namespace's /etc/resolv.conf, which
// `ip netns exec` bind-mounts from /etc/netns/NS/.
//
// A tty needs a pseudo-terminal, which Node cannot open without a native module: util-
// linux `script -qfec CMD /dev/null` opens one and runs CMD in it (through /bin/sh -c, so
// the argv is quoted word by word into CMD), and its stdio are the pipes. The terminal is
// 80x24 (the exec streams carry no resize). Without util-linux script, a tty exec runs on
// plain pipes: no echo and no line editing, output as the command writes it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ExecRequest, ExecStreams } from '../control/runtime.ts';

/** The PATH a command sees (a container runtime's default), not the server's own. */
export const EXEC_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Output is passed on at this rate at most, after a burst of BURST bytes. */
export const OUTPUT_RATE = 8 << 20;
const OUTPUT_BURST = 1 << 20;
/** After SIGTERM on abort, SIGKILL follows this much later. */
const KILL_GRACE_MS = 2000;
/** After the command exits, its output pipes are read this much longer at most. */
const EXIT_DRAIN_MS = 2000;
const NETNS_DIRS = ['/run/netns', '/var/run/netns'];

/**
 * A lab namespace name (names.ts: prefix of letters, digits and '-', then a kind and
 * Kubernetes names, which add '.'): it starts with a letter or digit and fits a file
 * name. Anything else never reaches a command line.
 */
export function checkNetnsName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$/.test(name))
    throw new Error(`bad lab namespace name "${name}"`);
  return name;
}

/** What containerd and runc answer when the executable cannot be run (kubectl exits 1). */
function runtimeError(cause: string): Error {
  return new Error(
    'Internal error occurred: error executing command in container: failed to exec in container: ' +
      `failed to start exec "${randomBytes(32).toString('hex')}": OCI runtime exec failed: ` +
      `exec failed: unable to start container process: ${cause}: unknown`,
  );
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The file argv[0] runs, as execvp finds it; undefined with why not. */
export function findExecutable(
  cmd: string,
  path = EXEC_PATH,
): { file: string } | { error: string } {
  if (cmd === '') return { error: `exec: "": executable file not found in $PATH` };
  if (cmd.includes('/')) {
    if (!existsSync(cmd))
      return { error: `exec: "${cmd}": stat ${cmd}: no such file or directory` };
    if (!isExecutableFile(cmd)) return { error: `exec: "${cmd}": permission denied` };
    return { file: cmd };
  }
  for (const dir of path.split(':')) {
    const file = `${dir === '' ? '.' : dir}/${cmd}`;
    if (isExecutableFile(file)) return { file };
  }
  return { error: `exec: "${cmd}": executable file not found in $PATH` };
}

/** A word for /bin/sh -c, single-quoted. */
export const shQuote = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`;

let scriptPath: string | null | undefined;

/** util-linux `script`, when installed (busybox's has no -e). */
export function utilLinuxScript(): string | undefined {
  if (scriptPath === undefined) {
    const found = findExecutable('script', `${EXEC_PATH}:${process.env['PATH'] ?? ''}`);
    scriptPath = null;
    if ('file' in found) {
      const v = spawnSync(found.file, ['--version'], { encoding: 'utf8', timeout: 5000 });
      if (/util-linux/.test(`${v.stdout}${v.stderr}`)) scriptPath = found.file;
    }
  }
  return scriptPath ?? undefined;
}

function ipPath(): string {
  const found = findExecutable('ip', `${EXEC_PATH}:${process.env['PATH'] ?? ''}`);
  return 'file' in found ? found.file : 'ip';
}

/** Run `req.command` in network namespace `netnsName`; resolves to its exit code. */
export async function labExec(
  netnsName: string,
  req: ExecRequest,
  streams: ExecStreams,
): Promise<number> {
  const ns = checkNetnsName(netnsName);
  if (!NETNS_DIRS.some((d) => existsSync(`${d}/${ns}`)))
    throw new Error(
      `Internal error occurred: error executing command in container: network namespace "${ns}" not found`,
    );
  const argv = req.command;
  const found = findExecutable(argv[0] ?? '');
  if ('error' in found) throw runtimeError(found.error);

  const env: Record<string, string> = { PATH: EXEC_PATH, HOME: '/root' };
  let command = argv;
  const script = req.tty ? utilLinuxScript() : undefined;
  if (req.tty) env['TERM'] = 'xterm';
  if (script !== undefined) {
    env['SHELL'] = '/bin/sh';
    const line = `stty rows 24 cols 80 2>/dev/null; exec ${argv.map(shQuote).join(' ')}`;
    command = [script, '-qfec', line, '/dev/null'];
  }
  if (streams.signal.aborted) return 130;

  const child = spawn(ipPath(), ['netns', 'exec', ns, ...command], {
    cwd: '/',
    env,
    stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    // Its own process group, so an abort reaches what the command started too.
    detached: true,
  });

  // ---- output, at OUTPUT_RATE at most ----
  let tokens = OUTPUT_BURST;
  let last = Date.now();
  let resumeTimer: NodeJS.Timeout | undefined;
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  const outputs = [stdout, stderr];
  const meter = (n: number) => {
    const now = Date.now();
    tokens = Math.min(OUTPUT_BURST, tokens + ((now - last) / 1000) * OUTPUT_RATE);
    last = now;
    tokens -= n;
    if (tokens < 0 && resumeTimer === undefined) {
      for (const s of outputs) s.pause();
      resumeTimer = setTimeout(
        () => {
          resumeTimer = undefined;
          for (const s of outputs) s.resume();
        },
        Math.ceil((-tokens / OUTPUT_RATE) * 1000),
      );
    }
  };
  stdout.on('data', (b: Buffer) => {
    meter(b.length);
    streams.stdout(b);
  });
  stderr.on('data', (b: Buffer) => {
    meter(b.length);
    streams.stderr(b);
  });

  // ---- stdin ----
  const input = child.stdin;
  if (input !== null) {
    input.on('error', () => undefined);
    const source = streams.stdin;
    if (source === undefined) input.end();
    else
      void (async () => {
        try {
          for await (const chunk of source) {
            if (input.destroyed || streams.signal.aborted) break;
            if (!input.write(chunk))
              await new Promise<void>((resolve) => {
                input.once('drain', resolve);
                input.once('close', resolve);
              });
          }
        } catch {
          // The client went away: the abort below ends the command.
        }
        if (!input.destroyed) input.end();
      })();
  }

  // ---- abort: the client went away ----
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // Already gone.
      }
    }
  };
  const onAbort = () => {
    kill('SIGTERM');
    killTimer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  streams.signal.addEventListener('abort', onAbort, { once: true });

  try {
    return await new Promise<number>((resolve, reject) => {
      const codeOf = (code: number | null, signal: NodeJS.Signals | null) =>
        code ?? 128 + (signal === null ? 1 : (osConstants.signals[signal] ?? 1));
      child.once('error', (err) =>
        reject(
          runtimeError(`ip netns exec: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
        ),
      );
      // 'close' comes once the pipes are drained too; a background process the command
      // left holding them does not keep the exec open past EXIT_DRAIN_MS.
      child.once('close', (code, signal) => resolve(codeOf(code, signal)));
      child.once('exit', (code, signal) => {
        setTimeout(() => {
          for (const s of outputs) s.destroy();
          resolve(codeOf(code, signal));
        }, EXIT_DRAIN_MS).unref();
      });
    });
  } finally {
    streams.signal.removeEventListener('abort', onAbort);
    if (resumeTimer !== undefined) clearTimeout(resumeTimer);
  }
}
