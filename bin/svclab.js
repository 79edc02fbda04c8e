#!/usr/bin/env node
// The svclab command: runs the CLI from a bundle of src/ kept fresh, or through tsx (bin/launch.js).
import { entry } from './launch.js';

const first = await entry();
let cli;
try {
  cli = await import(first.url);
} catch (err) {
  if (first.how !== 'bundle') throw err;
  // A bundle that does not load must not cost the user the command: run the sources.
  process.stderr.write(`svclab: dist/svclab.mjs did not load (${err.message}); running src/\n`);
  cli = await import((await entry(undefined, { ...process.env, SVCLAB_NO_BUNDLE: '1' })).url);
}
process.exitCode = await cli.main(process.argv.slice(2));
