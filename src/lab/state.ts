// The lab's state directory, /run/svclab/<prefix>/: the daemon's pid file, its log,
// its control socket and lab.json (what it made), so that `lab status`, `lab show`,
// `lab down` and a later `lab up` find a running or crashed lab.
//
// The lab runs as root, so everything here is private to the user running it: the
// directories are 0700 and the files 0600 whatever the umask, an existing directory is
// used only when it is a real directory owned by this user and writable by no one else,
// and paths inside it are built with inside() so no name can leave it.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const STATE_ROOT = process.env.SVCLAB_STATE_ROOT ?? '/run/svclab';

export interface LabPaths {
  dir: string;
  pidFile: string;
  logFile: string;
  socket: string;
  stateFile: string;
  /** What the lab made on the machine (namespaces, devices), written before it makes them. */
  ownedFile: string;
  /** flock(2)ed by `lab up` and `lab down` while they work; never removed. */
  lockFile: string;
}

/** A state-directory problem the user must fix (printed as one line). */
export class LabStateError extends Error {}

/** `dir/name`, refusing a name that would leave `dir` (`..`, `/`, an absolute path). */
export function inside(dir: string, name: string): string {
  const full = resolve(dir, name);
  const rel = relative(resolve(dir), full);
  if (rel === '' || rel.startsWith('..') || rel.includes(sep) || name.includes('\0'))
    throw new LabStateError(`refusing the file name ${JSON.stringify(name)}: it leaves ${dir}`);
  return full;
}

export function labPaths(prefix: string): LabPaths {
  const dir = inside(STATE_ROOT, prefix);
  return {
    dir,
    pidFile: join(dir, 'daemon.pid'),
    logFile: join(dir, 'daemon.log'),
    socket: join(dir, 'control.sock'),
    stateFile: join(dir, 'lab.json'),
    ownedFile: join(dir, 'owned.json'),
    lockFile: join(dir, 'lock'),
  };
}

const euid = (): number => process.geteuid?.() ?? 0;

/**
 * Make sure `dir` is a private directory: create it 0700, or accept an existing one only
 * when it is a directory (not a link), owned by us and writable by nobody else; a
 * readable one is tightened to 0700.
 */
function privateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700); // the umask only takes bits away; make sure
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new LabStateError(`permission denied creating ${dir} (the lab runs as root)`);
    if (code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory())
    throw new LabStateError(`${dir} is not a directory (a link or a file): remove it first`);
  if (st.uid !== euid())
    throw new LabStateError(
      `${dir} belongs to uid ${st.uid}, not to us (uid ${euid()}): remove it`,
    );
  if ((st.mode & 0o022) !== 0)
    throw new LabStateError(
      `${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)}): remove it or chmod 700 it`,
    );
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

export function ensureStateDir(p: LabPaths): string {
  privateDir(dirname(p.dir));
  privateDir(p.dir);
  return p.dir;
}

/** Write a file 0600 whatever the umask: a fresh temporary file renamed into place. */
export function writePrivate(path: string, text: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Why the state directory cannot be read by us (a non-root `lab status`), if it cannot. */
export function stateAccessProblem(p: LabPaths): string | undefined {
  for (const d of [dirname(p.dir), p.dir]) {
    try {
      readdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'EACCES' || code === 'EPERM')
        return `permission denied reading ${d} (the lab runs as root: use sudo)`;
      return `${d}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** The start time of a process (clock ticks since boot, /proc/PID/stat field 22). */
export function processStart(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses; fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

function processArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

export interface PidRecord {
  pid: number;
  /** processStart(pid) when it was written: a reused pid has another. */
  start: string;
  prefix: string;
}

/**
 * Is `rec.pid` this lab's daemon: the start time recorded, and a command line of
 * `lab daemon` (or `lab up --foreground`) with this prefix?
 */
export function isLabDaemon(rec: PidRecord): boolean {
  if (processStart(rec.pid) !== rec.start) return false;
  const argv = processArgv(rec.pid);
  if (!argv.includes('lab') || !(argv.includes('daemon') || argv.includes('up'))) return false;
  const at = argv.indexOf('--prefix');
  const prefix =
    at >= 0
      ? argv[at + 1]
      : (argv.find((a) => a.startsWith('--prefix='))?.slice('--prefix='.length) ?? 'svl-');
  return prefix === rec.prefix;
}

export function readPidRecord(p: LabPaths): PidRecord | undefined {
  if (!existsSync(p.pidFile)) return undefined;
  try {
    const r = JSON.parse(readFileSync(p.pidFile, 'utf8')) as Partial<PidRecord>;
    if (!Number.isInteger(r.pid) || (r.pid as number) <= 0 || typeof r.start !== 'string')
      return undefined;
    return { pid: r.pid as number, start: r.start, prefix: String(r.prefix) };
  } catch {
    return undefined; // an old bare pid, or garbage: not a daemon we can vouch for
  }
}

/** The daemon's pid when its pid file names a live process that is this lab's daemon. */
export function livePid(p: LabPaths): number | undefined {
  const rec = readPidRecord(p);
  return rec !== undefined && isLabDaemon(rec) ? rec.pid : undefined;
}

export function writePid(p: LabPaths, pid: number, prefix: string): void {
  const start = processStart(pid);
  if (start === undefined) throw new Error(`no /proc/${pid}/stat`);
  writePrivate(p.pidFile, `${JSON.stringify({ pid, start, prefix })}\n`);
}

/** What a lab has made (or is about to make), kept so `lab down` removes exactly that. */
export interface Owned {
  namespaces: string[];
  devices: string[];
}

export function readOwned(p: LabPaths): Owned {
  try {
    const o = JSON.parse(readFileSync(p.ownedFile, 'utf8')) as Partial<Owned>;
    const strings = (v: unknown): string[] =>
      Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    return { namespaces: strings(o.namespaces), devices: strings(o.devices) };
  } catch {
    return { namespaces: [], devices: [] };
  }
}

export function writeOwned(p: LabPaths, o: Owned): void {
  writePrivate(p.ownedFile, `${JSON.stringify(o)}\n`);
}

/** Drop the pid file, socket, lab.json and the record; the log stays for a post-mortem. */
export function clearState(p: LabPaths): void {
  for (const f of [p.pidFile, p.socket, p.stateFile, p.ownedFile, join(p.dir, 'pod-worker.mjs')])
    rmSync(f, { force: true });
}

/**
 * Drop the key material a lab kept (Secret manifests made by `lab create secret` or a
 * scenario's `kubectl create secret`, ingress-nginx's fake certificate, a kubeconfig a
 * crashed daemon left): `lab down` does,
 * not the start-up cleanup (a new lab's secrets are written before its daemon starts).
 */
export function clearSecrets(p: LabPaths): void {
  let names: string[] = [];
  try {
    names = readdirSync(p.dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (/^secret-.*\.yaml$|^ingress-fake\.(crt|key)$|^kubeconfig$/.test(n))
      rmSync(join(p.dir, n), { force: true });
  }
}

/** An flock(2) held on the lab's lock file; release() drops it. */
export interface LabLock {
  release(): void;
}

/**
 * Take the lab's lock without waiting (flock(1) locks our descriptor's open file, which
 * stays locked after flock exits until we close it). Undefined when another `lab up` or
 * `lab down` of this prefix holds it.
 */
export function tryLock(p: LabPaths): LabLock | undefined {
  const fd = openSync(p.lockFile, 'a', 0o600);
  const r = spawnSync('flock', ['--nonblock', '--exclusive', '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
  });
  if (r.error !== undefined) {
    closeSync(fd);
    throw new LabStateError(`flock: ${r.error.message} (util-linux's flock is needed)`);
  }
  if (r.status !== 0) {
    closeSync(fd);
    return undefined;
  }
  let held = true;
  return {
    release() {
      if (held) closeSync(fd);
      held = false;
    },
  };
}
