// How the daemon starts a pod's worker. Loading tsx costs a worker most of a second of
// start-up; bundling src/lab/workers/pod.ts once into plain JavaScript (esbuild, which
// tsx brings along) makes each worker a bare `node pod-worker.mjs`. Without esbuild,
// the workers run through tsx.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface EsbuildLike {
  buildSync(o: Record<string, unknown>): unknown;
}

export function workerCommand(outDir: string): string[] {
  const source = fileURLToPath(new URL('./workers/pod.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx');
  try {
    const esbuild = createRequire(fileURLToPath(tsx))('esbuild') as EsbuildLike;
    const outfile = join(outDir, 'pod-worker.mjs');
    esbuild.buildSync({
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
