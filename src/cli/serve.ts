// `svclab serve [-f MANIFESTS...] [--proxy-mode M] [--port N]`: the simulated cluster as
// a live process with the Kubernetes API in front, for kubectl and client libraries.
// `svclab kubeconfig` prints (or writes) the kubeconfig that reaches it.
import type { Command } from 'commander';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadManifests } from '../api/load.ts';
import { formatApplyResult } from '../control/cluster.ts';
import { kubeconfigText, newToken, writePrivateFile } from '../apiserver/kubeconfig.ts';
import { ApiServer } from '../apiserver/server.ts';
import { SimRuntime } from '../scenario/live-runtime.ts';
import { makeServingTls } from '../apiserver/tls.ts';
import { Session } from '../scenario/session.ts';
import { CliError, collect, kubernetesVersion } from './cluster-from-files.ts';
import { type KubeProxyFlagOptions, kubeProxyOptions, kubeProxySettings } from './node-view.ts';
import { labKubeconfig } from './lab-api.ts';
import { simJourneys } from './web.ts';
import { checkPrefix, DEFAULT_PREFIX } from '../lab/names.ts';
import { labPaths } from '../lab/state.ts';

/** Where `svclab serve` keeps its kubeconfig and pid (SVCLAB_HOME or ~/.svclab). */
export function serveStateDir(): string {
  return join(process.env['SVCLAB_HOME'] ?? join(homedir(), '.svclab'), 'serve');
}

interface ServeOptions extends KubeProxyFlagOptions {
  file: string[];
  recursive?: boolean;
  port: string;
  seed: string;
  stateDir?: string;
  kubeconfig?: string;
  verbose?: boolean;
}

function port(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`error: invalid port: ${s}`);
  return n;
}

export async function serve(o: ServeOptions): Promise<void> {
  const { mode, ...kubeProxy } = kubeProxySettings(o);
  const session = new Session({
    ...(mode !== undefined && mode !== '' ? { mode } : {}),
    kubeProxy,
    seed: Number(o.seed),
    baseDir: process.cwd(),
    ...(o.kubernetesVersion !== undefined
      ? { cluster: { kubernetesVersion: kubernetesVersion(o.kubernetesVersion)! } }
      : {}),
  });
  if (o.file.length > 0) {
    const cfg = session.cluster.config;
    const loaded = loadManifests(o.file, {
      recursive: o.recursive ?? false,
      serviceCidr: cfg.serviceCIDR,
      kubernetesVersion: cfg.kubernetesVersion,
      nodePortRange: cfg.nodePortRange,
    });
    if (!loaded.ok) throw new CliError(loaded.errors.map((e) => `error: ${e.format()}`).join('\n'));
    for (const r of session.cluster.apply(loaded.objects))
      process.stdout.write(`${formatApplyResult(r)}\n`);
  }
  const runtime = new SimRuntime(session);
  const token = newToken();
  const tls = makeServingTls();
  const server = new ApiServer({
    runtime,
    token,
    tls,
    port: port(o.port),
    web: { driver: simJourneys(session) },
    ...(o.verbose ? { log: (l: string) => process.stderr.write(`${l}\n`) } : {}),
  });
  let listening: number;
  try {
    listening = await server.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `port ${o.port} is in use (try --port 0)` : e.message;
    throw new CliError(`error: cannot listen on 127.0.0.1: ${why}`);
  }
  runtime.start();
  const dir = o.stateDir ?? serveStateDir();
  const kubeconfig = join(dir, 'kubeconfig');
  const text = kubeconfigText({
    server: `https://127.0.0.1:${listening}`,
    token,
    caPem: tls.caPem,
  });
  writePrivateFile(kubeconfig, text);
  writePrivateFile(
    join(dir, 'serve.json'),
    `${JSON.stringify({ pid: process.pid, port: listening })}\n`,
  );
  if (o.kubeconfig !== undefined) writePrivateFile(o.kubeconfig, text);
  const nodes = session.cluster.list('Node').length;
  process.stdout.write(
    `svclab serve: a simulated ${nodes}-node cluster (${session.modeOn('')} mode) at https://127.0.0.1:${listening}\n` +
      `  export KUBECONFIG=${o.kubeconfig ?? kubeconfig}\n` +
      `  kubectl get nodes\n` +
      `The web view (a one-time login link; \`svclab web-login\` makes another):\n` +
      `  ${server.web.loginUrl()}\n` +
      `Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      runtime.stop();
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(join(dir, 'serve.json'), { force: true });
  rmSync(kubeconfig, { force: true });
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the simulated cluster live, with the Kubernetes API for kubectl');
  kubeProxyOptions(cmd)
    .option('-f, --file <path>', 'manifests to apply at start (repeatable)', collect, [])
    .option('-R, --recursive', 'walk -f directories recursively')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', '6443')
    .option('--seed <n>', 'random seed', '1')
    .option('--state-dir <dir>', 'where the kubeconfig is written (default ~/.svclab/serve)')
    .option('--kubeconfig <file>', 'also write the kubeconfig here (mode 0600)')
    .option('-v, --verbose', 'log every request')
    .action((o: ServeOptions) => serve(o));

  program
    .command('kubeconfig')
    .description('print the kubeconfig of the running `svclab serve` (or write it with -o)')
    .option('--state-dir <dir>', 'the serve state directory (default ~/.svclab/serve)')
    .option('--lab', "the running lab's instead (root)")
    .option('--prefix <prefix>', 'the lab prefix (with --lab)', DEFAULT_PREFIX)
    .option('-o, --output <file>', 'write it to FILE (mode 0600) instead of printing')
    .action((o: { stateDir?: string; output?: string; lab?: boolean; prefix: string }) => {
      const file =
        o.lab === true
          ? labKubeconfig(labPaths(checkPrefix(o.prefix)).dir)
          : join(o.stateDir ?? serveStateDir(), 'kubeconfig');
      if (!existsSync(file)) {
        throw new CliError(
          o.lab === true
            ? `error: no running lab "${o.prefix}" with a Kubernetes API (svclab lab up)`
            : 'error: no running `svclab serve` found (start one with `svclab serve`)',
        );
      }
      const text = readFileSync(file, 'utf8');
      if (o.output === undefined) process.stdout.write(text);
      else writePrivateFile(o.output, text);
    });
}
