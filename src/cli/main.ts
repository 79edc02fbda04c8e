// The `svclab` command line: one file per subcommand under src/cli/, wired here.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerBench } from './bench.ts';
import { CliError } from './cluster-from-files.ts';
import { registerConntrack } from './conntrack.ts';
import { registerGet } from './get.ts';
import { registerIptables, registerNft } from './iptables.ts';
import { registerIpvs } from './ipvs.ts';
import { registerLab } from './lab.ts';
import { repoPath } from '../lab/repo.ts';
import { registerProbe } from './probe.ts';
import { type NodeViewOptions, remoteViewHook } from './node-view.ts';
import { registerReplay } from './replay.ts';
import { registerRun } from './run.ts';
import { registerServe } from './serve.ts';
import { registerTrace } from './trace.ts';
import { registerWalkthrough } from './walkthrough.ts';
import { registerWebLogin } from './web.ts';

const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('svclab')
    .description(
      'Packet-level simulator of Kubernetes Service networking (kube-proxy userspace, iptables, ipvs, nftables).',
    )
    .version(pkg.version, '-V, --version')
    .exitOverride();
  registerGet(program);
  registerIptables(program);
  registerIpvs(program);
  registerNft(program);
  registerTrace(program);
  registerRun(program);
  registerConntrack(program);
  registerReplay(program);
  registerProbe(program);
  registerWalkthrough(program);
  registerServe(program);
  registerWebLogin(program);
  registerLab(program);
  registerBench(program);
  return program;
}

/**
 * `--debug` anywhere before a `--` (after it, the words are a command's, as in
 * `lab exec NAME -- cmd --debug`): stack traces on errors. Returns argv without it.
 */
export function takeDebug(argv: string[]): { argv: string[]; debug: boolean } {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  const tail = end < 0 ? [] : argv.slice(end);
  const kept = head.filter((a) => a !== '--debug');
  return {
    argv: [...kept, ...tail],
    debug: kept.length !== head.length || process.env.SVCLAB_DEBUG === '1',
  };
}

/** An error as the user sees it: its first line (no stack), with svclab's name. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? (err as Error)?.name ?? 'error';
  return first.startsWith('svclab') || first.startsWith('error:') ? first : `svclab: ${first}`;
}

/** Runs the CLI and returns the process exit code. */
export async function main(rawArgv: string[]): Promise<number> {
  const { argv, debug } = takeDebug(rawArgv);
  const program = buildProgram();
  program.option('--debug', 'show stack traces on errors');
  program.hook('preAction', (_program, action) =>
    remoteViewHook(argv, action.opts() as NodeViewOptions),
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      if (err.message !== '') process.stderr.write(`${err.message}\n`);
      if (debug && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    // Anything else is still the user's error to read in one line; the trace on --debug.
    process.stderr.write(`${oneLine(err)}\n`);
    if (debug) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
