// `svclab get RESOURCE [-n NS|-A] [-o wide|yaml|json] -f MANIFESTS...`: kubectl get,
// on a fresh simulated cluster with the manifests applied.
import type { Command } from 'commander';
import { KubectlError, renderGet } from '../control/kubectl-get.ts';
import { type RemoteOptions, remoteGet, wantsRemote } from './remote.ts';
import { CliError, clusterFromFiles, collect } from './cluster-from-files.ts';

/** kubectl's own errors become the CLI's exit status 1 with the same message. */
function kubectlToCli<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KubectlError) throw new CliError(err.message);
    throw err;
  }
}

/** kubectl's output for several types: tables separated by a blank line. */
function print(outs: { stdout: string; stderr: string }[]): void {
  process.stdout.write(
    outs
      .map((x) => x.stdout)
      .filter((x) => x !== '')
      .join('\n'),
  );
  if (outs.every((x) => x.stdout === '')) process.stderr.write(outs[0]?.stderr ?? '');
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description(
      'kubectl get on a simulated cluster: svc|pods|endpoints|endpointslices|ingress|deploy|rs|nodes|cm|secrets|ns|events',
    )
    .argument(
      '<resource>',
      'resource type (svc, pods, endpoints, endpointslices, ingress, deploy, rs, nodes)',
    )
    .argument('[names...]', 'object names')
    .option('-f, --filename <path>', 'manifest file or directory (repeatable)', collect, [])
    .option('--server', 'the running cluster (svclab serve, or the lab via KUBECONFIG)')
    .option('--kubeconfig <file>', 'the running cluster of this kubeconfig')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-o, --output <format>', 'wide, yaml or json')
    .option('-R, --recursive', 'walk directories given with -f recursively')
    .option('--seed <n>', 'seed of the simulated cluster', (v) => Number.parseInt(v, 10), 1)
    .option('--kubernetes-version <v>', "the cluster's release (default: the current one)")
    .action(async (resource: string, names: string[], o: Record<string, unknown>) => {
      const types = resource.split(',').filter((r) => r !== '');
      const remote = o as RemoteOptions;
      if (wantsRemote(remote)) {
        const outs: { stdout: string; stderr: string }[] = [];
        for (const r of types) {
          outs.push(
            await remoteGet(remote, r, names, {
              namespace: o.namespace as string,
              allNamespaces: o.allNamespaces === true,
              withKind: types.length > 1,
              ...(typeof o.output === 'string' ? { output: o.output } : {}),
            }),
          );
        }
        print(outs);
        return;
      }
      if ((o.filename as string[]).length === 0) {
        throw new CliError('error: -f MANIFESTS is required (or --server for a running cluster)');
      }
      const cluster = clusterFromFiles({
        files: o.filename as string[],
        seed: o.seed as number,
        recursive: o.recursive === true,
        ...(typeof o.kubernetesVersion === 'string'
          ? { kubernetesVersion: o.kubernetesVersion }
          : {}),
      });
      const outs = types.map((r) =>
        kubectlToCli(() =>
          renderGet(cluster, r, names, {
            namespace: o.namespace as string,
            allNamespaces: o.allNamespaces === true,
            withKind: types.length > 1,
            ...(typeof o.output === 'string' ? { output: o.output } : {}),
          }),
        ),
      );
      print(outs);
    });
}
