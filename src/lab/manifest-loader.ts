// Manifests loaded off the daemon's thread: a worker thread (load-worker.ts, bundled in
// memory from the installed package with esbuild) parses and validates them while the
// daemon keeps forwarding packets. The worker has a heap limit and each load a deadline;
// a worker that dies or overruns is replaced and the request answered with the reason.
// Where esbuild is missing, the load runs on the daemon's thread as before.
import type * as Esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { loadManifests } from '../api/load.ts';
import type { LoadOptions } from '../api/options.ts';
import type { KubeObject } from '../api/types.ts';
import type { LoadReply, LoadRequest } from './load-worker.ts';
import { repoPath } from './repo.ts';

/** How long one load may take before its worker is stopped. */
export const LOAD_DEADLINE_MS = 60_000;
/** The worker's heap (MiB): a manifest at the size limit needs far less. */
export const LOAD_HEAP_MB = 512;

export type Loaded = { ok: true; objects: KubeObject[] } | { ok: false; errors: string[] };

export class ManifestLoader {
  private code: string | undefined | null = null;
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: Loaded) => void; timer: NodeJS.Timeout }
  >();

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  private bundle(): string | undefined {
    if (this.code !== null) return this.code;
    try {
      const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
      const out = buildSync({
        entryPoints: [repoPath('src', 'lab', 'load-worker.ts')],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        write: false,
        logLevel: 'silent',
      });
      this.code = out.outputFiles[0]!.text;
    } catch (e) {
      this.log(
        `manifest loader: no worker (${(e as Error).message.split('\n')[0]}); loading inline`,
      );
      this.code = undefined;
    }
    return this.code;
  }

  private spawn(code: string): Worker {
    const w = new Worker(code, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: LOAD_HEAP_MB },
    });
    w.unref();
    w.on('message', (m: LoadReply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      p.resolve(m.ok ? { ok: true, objects: m.objects as KubeObject[] } : m);
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ ok: false, errors: [`error: loading the manifests failed: ${why}`] });
        this.pending.delete(id);
      }
    };
    w.on('error', (e) => fail(e.message.split('\n')[0]!));
    w.on('exit', (code) => fail(`the loader exited (${code})`));
    return w;
  }

  /** Load and validate `files` as `svclab lab apply -f` does, off the daemon's thread. */
  load(files: string[], opts: LoadOptions): Promise<Loaded> {
    const code = this.bundle();
    if (code === undefined) {
      const r = loadManifests(files, opts);
      return Promise.resolve(
        r.ok ? r : { ok: false, errors: r.errors.map((e) => `error: ${e.format()}`) },
      );
    }
    this.worker ??= this.spawn(code);
    const w = this.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          ok: false,
          errors: [`error: loading the manifests took longer than ${LOAD_DEADLINE_MS / 1000} s`],
        });
        // The worker is busy with it still: stop it; the next load starts a fresh one.
        if (this.worker === w) this.worker = undefined;
        void w.terminate(); // its exit handler answers anything else it held
      }, LOAD_DEADLINE_MS);
      this.pending.set(id, { resolve, timer });
      const req: LoadRequest = { id, files, opts };
      w.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
