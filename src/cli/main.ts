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
      'Packet-level simulator of Kubernetes Service networking (kube-proxy iptables, ipvs, nftables).',
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

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
      return err.exitCode;
    }
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
