// Where a run happened: machine, Node version, git commit — figures mean little without it.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Machine } from './results.ts';

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    platform: `${os.platform()} ${os.arch()}`,
  };
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

export function gitCommit(cwd: string): { commit: string; dirty: boolean } {
  const commit = git(['rev-parse', '--short', 'HEAD'], cwd) ?? 'unknown';
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, dirty: status !== undefined && status !== '' };
}
