// The web view's bundle: src/web/main.tsx (Preact, the page's CSS) built by esbuild into
// dist/web/ (app.js, app.css), offline: every dependency is inside. `npm run build` makes
// it (scripts/build.mjs); the API server makes it on the page's first request when it is
// missing or older than a file under src/web/, so a clean clone needs no manual step.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoPath } from '../lab/repo.ts';

export interface WebBundle {
  dir: string;
  js: string;
  css: string;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** Build dist/web/ now (written whole, then renamed into place). */
export async function buildWebBundle(root = repoPath()): Promise<WebBundle> {
  const { build } = await import('esbuild');
  const dir = join(root, 'dist', 'web');
  const out = await build({
    entryPoints: [join(root, 'src', 'web', 'main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    outdir: dir,
    entryNames: 'app',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  mkdirSync(dir, { recursive: true });
  for (const f of out.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  return { dir, js: join(dir, 'app.js'), css: join(dir, 'app.css') };
}

let pending: Promise<WebBundle> | undefined;

/** The bundle, built first when missing or older than src/web/. */
export function webBundle(root = repoPath()): Promise<WebBundle> {
  const dir = join(root, 'dist', 'web');
  const js = join(dir, 'app.js');
  const built = mtime(js);
  let src = 0;
  try {
    src = newest(join(root, 'src', 'web'));
  } catch {
    // No sources (an installed copy with only dist/): serve what is there.
  }
  if (built > 0 && built >= src) return Promise.resolve({ dir, js, css: join(dir, 'app.css') });
  pending ??= buildWebBundle(root).finally(() => {
    pending = undefined;
  });
  return pending;
}
