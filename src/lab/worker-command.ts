// How the daemon starts a pod's worker. Loading tsx costs a worker most of a second of
// start-up; bundling src/lab/workers/pod.ts once into plain JavaScript (esbuild) makes
// each worker a bare `node`. The bundle is built in memory from the installed package's
// source and handed to each worker on its stdin (`node --input-type=module - SPEC`): no
// copy of the code is ever written where someone could change it before root runs it.
// If bundling fails, the workers run the package's source through tsx.
import type * as Esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { repoPath } from './repo.ts';

export interface WorkerCommand {
  /** argv before the worker's spec: node and its arguments. */
  argv: string[];
  /** The worker's code, written to its stdin (with `-` in argv), when bundled. */
  code?: string;
}

export function workerCommand(): WorkerCommand {
  const source = repoPath('src', 'lab', 'workers', 'pod.ts');
  const tsx = import.meta.resolve('tsx');
  try {
    // Required here, not imported: only the lab daemon bundles, every other command skips it.
    const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
    const out = buildSync({
      entryPoints: [source],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    return {
      argv: [process.execPath, '--input-type=module', '-'],
      code: out.outputFiles[0]!.text,
    };
  } catch {
    return { argv: [process.execPath, '--import', tsx, source] };
  }
}
