// `npm run build`: the bundle that bin/svclab.js runs (dist/svclab.mjs), built now with the
// same function bin/launch.js calls when the bundle is older than src/, and the web view's
// bundle (dist/web/, with the function the API server calls when it is missing or stale).
// Type checking is `npm run typecheck`; esbuild only strips types.
import { join, relative } from 'node:path';
import { ROOT, buildBundle } from '../bin/launch.js';

const bundle = join(ROOT, 'dist', 'svclab.mjs');
const started = Date.now();
try {
  await buildBundle(ROOT, bundle);
} catch (err) {
  // esbuild's errors carry file:line:column in their text.
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
const ms = Math.round(Date.now() - started);
console.log(`${relative(process.cwd(), bundle) || bundle} built in ${ms} ms`);

const webStarted = Date.now();
try {
  const { tsImport } = await import('tsx/esm/api');
  const { buildWebBundle } = await tsImport('../src/apiserver/web-bundle.ts', import.meta.url);
  const web = await buildWebBundle(ROOT);
  console.log(
    `${relative(process.cwd(), web.dir) || web.dir}/ built in ${Date.now() - webStarted} ms`,
  );
} catch (err) {
  console.error(`web bundle failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
