// Throw-away network namespaces for the kernel-side benchmarks: names carry a per-process
// prefix, every one made is remembered and deleted in cleanup(), which also runs on SIGINT
// and SIGTERM, so an interrupted run leaves nothing behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PREFIX = `svl-k${process.pid}-`;

/**
 * The system's `name` (e.g. nft), never a node_modules/.bin namesake: under `npm run` and
 * `npx` those come first in PATH, and @vercel/nft installs a `nft` that exits 0 doing nothing.
 */
export function systemTool(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes('node_modules'));
  for (const d of [...dirs, '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why kernel benchmarks cannot run here, or undefined when they can. */
export function kernelSkipReason(tools: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables, nft)';
  for (const t of ['ip', ...tools]) if (systemTool(t) === undefined) return `${t} not found`;
  return undefined;
}

export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
    ...(input !== undefined ? { input } : {}),
  });
}

export const inNs = (ns: string, cmd: string, args: readonly string[], input?: string): string =>
  run('ip', ['netns', 'exec', ns, cmd, ...args], input);

/**
 * kube-proxy creates the nfacct counters its rules name (over netlink, v1.30+) before it
 * restores them; do the same in `ns` for the rules in `file`, or iptables-restore fails with
 * "RULE_APPEND failed (No such file or directory)".
 */
export function addNfacctCounters(ns: string, file: string): void {
  const names = new Set(
    [...readFileSync(file, 'utf8').matchAll(/--nfacct-name\s+(\S+)/g)].map((m) => m[1]!),
  );
  if (names.size === 0) return;
  const nfacct = systemTool('nfacct');
  if (nfacct === undefined)
    throw new Error(`the rules name nfacct counters (${[...names].join(', ')}): install nfacct`);
  for (const name of names) inNs(ns, nfacct, ['add', name]);
}

const made = new Set<string>();

export function addNs(suffix: string): string {
  const name = PREFIX + suffix;
  run('ip', ['netns', 'add', name]);
  made.add(name);
  inNs(name, 'ip', ['link', 'set', 'lo', 'up']);
  return name;
}

export function delNs(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  made.delete(name);
}

const cleanups: (() => void)[] = [];

/** Run fn at cleanup (before the namespaces go), e.g. killing a server. */
export function atCleanup(fn: () => void): void {
  cleanups.push(fn);
}

export function cleanup(): void {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort: the namespaces below must still go
    }
  }
  for (const ns of [...made]) delNs(ns);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanup();
    process.exit(130);
  });
}
