// How the daemon starts a pod's worker. Loading tsx costs a worker most of a second of
// start-up; bundling src/lab/workers/pod.ts once into plain JavaScript (esbuild) makes
// each worker a bare `node pod-worker.mjs`. If bundling fails, the workers run through tsx.
import type * as Esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoPath } from './repo.ts';

export function workerCommand(outDir: string): string[] {
  const source = repoPath('src', 'lab', 'workers', 'pod.ts');
  const tsx = import.meta.resolve('tsx');
  try {
    // Required here, not imported: only the lab daemon bundles, every other command skips it.
    const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
    const outfile = join(outDir, 'pod-worker.mjs');
    buildSync({
      entryPoints: [source],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    return [process.execPath, outfile];
  } catch {
    return [process.execPath, '--import', tsx, source];
  }
}
