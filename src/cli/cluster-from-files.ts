// `-f MANIFESTS...` for the view commands: a fresh simulated cluster (the seed's three
// nodes by default) with the manifests applied and virtual time run forward until the
// pods are up, as a reader would see it a minute after `kubectl apply`.
import { loadManifests } from '../api/load.ts';
import { SECOND } from '../control/clock.ts';
import { Cluster, formatApplyResult } from '../control/cluster.ts';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ClusterFromFilesOptions {
  files: string[];
  seed?: number;
  /** Virtual seconds to run after applying (default 60). */
  waitSeconds?: number;
  recursive?: boolean;
  /** The cluster's Kubernetes release (--kubernetes-version); default: the current one. */
  kubernetesVersion?: string;
}

/** --kubernetes-version's value checked: `v1.15.1`, `1.15.1` (a missing v is added). */
export function kubernetesVersion(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const withV = v.startsWith('v') ? v : `v${v}`;
  if (!/^v1\.\d{1,3}\.\d{1,3}$/.test(withV))
    throw new CliError(`error: --kubernetes-version ${JSON.stringify(v)}: a release like v1.15.1`);
  return withV;
}

/** Repeatable option collector for commander (`-f a -f b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function clusterFromFiles(opts: ClusterFromFilesOptions): Cluster {
  const version = kubernetesVersion(opts.kubernetesVersion);
  const cluster = new Cluster({
    seed: opts.seed ?? 1,
    ...(version !== undefined ? { kubernetesVersion: version } : {}),
  });
  if (opts.files.length > 0) {
    const loaded = loadManifests(opts.files, {
      recursive: opts.recursive ?? false,
      serviceCidr: cluster.config.serviceCIDR,
      kubernetesVersion: cluster.config.kubernetesVersion,
      nodePortRange: cluster.config.nodePortRange,
    });
    if (!loaded.ok) {
      throw new CliError(loaded.errors.map((e) => `error: ${e.format()}`).join('\n'));
    }
    const results = cluster.apply(loaded.objects);
    const failed = results.filter((r) => r.error !== undefined);
    if (failed.length > 0) {
      throw new CliError(failed.map(formatApplyResult).join('\n'));
    }
  }
  cluster.advance((opts.waitSeconds ?? 60) * SECOND);
  return cluster;
}
