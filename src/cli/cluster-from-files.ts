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
}

/** Repeatable option collector for commander (`-f a -f b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function clusterFromFiles(opts: ClusterFromFilesOptions): Cluster {
  const cluster = new Cluster({ seed: opts.seed ?? 1 });
  if (opts.files.length > 0) {
    const loaded = loadManifests(opts.files, {
      recursive: opts.recursive ?? false,
      serviceCidr: cluster.config.serviceCIDR,
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
