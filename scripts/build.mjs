// `npm run build`: the bundle that bin/svclab.js runs (dist/svclab.mjs), built now with the
// same function bin/launch.js calls when the bundle is older than src/. Type checking is
// `npm run typecheck`; esbuild only strips types.
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
