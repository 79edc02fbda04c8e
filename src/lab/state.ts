// The lab's state directory, /run/svclab/<prefix>/: the daemon's pid file, its log,
// its control socket and lab.json (what it made), so that `lab status`, `lab show`,
// `lab down` and a later `lab up` find a running or crashed lab.
import { readdirSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_ROOT = process.env.SVCLAB_STATE_ROOT ?? '/run/svclab';

export interface LabPaths {
  dir: string;
  pidFile: string;
  logFile: string;
  socket: string;
  stateFile: string;
}

export function labPaths(prefix: string): LabPaths {
  const dir = join(STATE_ROOT, prefix);
  return {
    dir,
    pidFile: join(dir, 'daemon.pid'),
    logFile: join(dir, 'daemon.log'),
    socket: join(dir, 'control.sock'),
    stateFile: join(dir, 'lab.json'),
  };
}

export function ensureStateDir(p: LabPaths): string {
  mkdirSync(p.dir, { recursive: true, mode: 0o755 });
  return p.dir;
}

/** The daemon's pid when its pid file names a live process. */
export function livePid(p: LabPaths): number | undefined {
  if (!existsSync(p.pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(p.pidFile, 'utf8'), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export function writePid(p: LabPaths, pid: number): void {
  writeFileSync(p.pidFile, `${pid}\n`);
}

/** Drop the pid file, socket and lab.json; the log stays for a post-mortem. */
export function clearState(p: LabPaths): void {
  for (const f of [p.pidFile, p.socket, p.stateFile, join(p.dir, 'pod-worker.mjs')])
    rmSync(f, { force: true });
}

/**
 * Drop the key material a lab kept (Secret manifests made by `lab create secret` or a
 * scenario's `kubectl create secret`, ingress-nginx's fake certificate): `lab down` does,
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
    if (/^secret-.*\.yaml$|^ingress-fake\.(crt|key)$/.test(n))
      rmSync(join(p.dir, n), { force: true });
  }
}
