// How bin/svclab.js runs the CLI. Loading ~200 TypeScript modules through tsx's loader
// takes over a second per command; one plain-JavaScript bundle of src/ and its
// dependencies (dist/svclab.mjs, esbuild) loads in a fraction of that. The bundle is rebuilt
// whenever a file under src/ or package.json is newer than it (about 0.1 s, once after
// each edit); where it cannot be written or built, the sources run through tsx as before.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The svclab folder (this file is in bin/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time (ms) of the files under `dir`. */
export function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const t = e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/** Is `bundle` at least as new as every source file and package.json? */
export function isFresh(bundle, root) {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return (
    built >= newestMtime(join(root, 'src')) && built >= statSync(join(root, 'package.json')).mtimeMs
  );
}

/** Bundle src/cli/main.ts into `bundle`, written whole and then renamed into place. */
export async function buildBundle(root, bundle) {
  const { buildSync } = await import('esbuild');
  const out = buildSync({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies go in too (resolving and loading ~40 package files costs more than
    // parsing them in one file), except the big ones only some commands load on demand.
    external: ['vega', 'vega-lite', 'esbuild', 'tsx', 'raw-socket'],
    // CommonJS dependencies call require(): give the ES module one.
    banner: {
      js: "import { createRequire as svclabRequire } from 'node:module'; const require = svclabRequire(import.meta.url);",
    },
    outfile: bundle,
    write: false,
    logLevel: 'silent',
  });
  mkdirSync(dirname(bundle), { recursive: true });
  // Concurrent commands may rebuild at once: each renames a complete file of its own.
  const tmp = `${bundle}.${process.pid}.tmp`;
  writeFileSync(tmp, out.outputFiles[0].contents);
  renameSync(tmp, bundle);
}

/**
 * The module that exports main(): `{ url, how }` with how = 'bundle' or 'tsx'.
 * SVCLAB_NO_BUNDLE=1 runs the sources through tsx.
 */
export async function entry(root = ROOT, env = process.env) {
  const bundle = join(root, 'dist', 'svclab.mjs');
  if (env.SVCLAB_NO_BUNDLE !== '1') {
    try {
      if (!isFresh(bundle, root)) await buildBundle(root, bundle);
      return { url: pathToFileURL(bundle).href, how: 'bundle' };
    } catch {
      // A read-only install or no esbuild: run the sources.
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return { url: pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href, how: 'tsx' };
}
