// bin/launch.js: the svclab command runs a bundle of src/ that is rebuilt whenever a source
// is newer, and falls back to the sources through tsx when it cannot bundle.
import test from 'ava';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
// @ts-expect-error: plain JavaScript without declarations
import { entry, isFresh } from '../../bin/launch.js';

interface Entry {
  url: string;
  how: 'bundle' | 'tsx';
}
const launch = entry as (root: string, env?: NodeJS.ProcessEnv) => Promise<Entry>;
const fresh = isFresh as (bundle: string, root: string) => boolean;

/** A tiny svclab-shaped folder: package.json and src/cli/main.ts importing a second module. */
function fakeRoot(t: { teardown(fn: () => void): void }, mainSource?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'svl-launch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"svclab","type":"module"}\n');
  writeFileSync(
    join(root, 'src', 'count.ts'),
    'export const count = (a: string[]): number => a.length;\n',
  );
  writeFileSync(
    join(root, 'src', 'cli', 'main.ts'),
    mainSource ??
      "import { count } from '../count.ts';\nexport async function main(argv: string[]): Promise<number> {\n  return count(argv);\n}\n",
  );
  return root;
}

test('the first run bundles src/ and the bundle runs main()', async (t) => {
  const root = fakeRoot(t);
  const e = await launch(root, {});
  t.is(e.how, 'bundle');
  const bundle = join(root, 'dist', 'svclab.mjs');
  t.is(e.url, `file://${bundle}`);
  t.true(fresh(bundle, root));
  const mod = (await import(e.url)) as { main(a: string[]): Promise<number> };
  t.is(await mod.main(['a', 'b', 'c']), 3);
});

test('a source newer than the bundle makes it stale, and the next run rebuilds it', async (t) => {
  const root = fakeRoot(t);
  await launch(root, {});
  const bundle = join(root, 'dist', 'svclab.mjs');
  // The bundle as if built a minute ago, then a source edited now.
  const past = new Date(Date.now() - 60_000);
  utimesSync(bundle, past, past);
  writeFileSync(
    join(root, 'src', 'count.ts'),
    'export const count = (a: string[]): number => 40 + a.length;\n',
  );
  t.false(fresh(bundle, root));
  await launch(root, {});
  t.true(fresh(bundle, root));
  t.regex(readFileSync(bundle, 'utf8'), /40 \+ a\.length/);
});

test('SVCLAB_NO_BUNDLE=1, or a source that does not build, runs the sources through tsx', async (t) => {
  const root = fakeRoot(t);
  const e = await launch(root, { SVCLAB_NO_BUNDLE: '1' });
  t.is(e.how, 'tsx');
  t.is(e.url, `file://${join(root, 'src', 'cli', 'main.ts')}`);
  const broken = fakeRoot(t, 'export async function main( {\n');
  t.is((await launch(broken, {})).how, 'tsx');
});

test('the svclab command runs from dist/svclab.mjs and prints what the sources print', (t) => {
  const bin = fileURLToPath(new URL('../../bin/svclab.js', import.meta.url));
  const viaBundle = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  const viaTsx = execFileSync(process.execPath, [bin, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, SVCLAB_NO_BUNDLE: '1' },
  });
  t.is(viaBundle, viaTsx);
  t.regex(viaBundle, /^\d+\.\d+\.\d+\n$/);
  const bundle = fileURLToPath(new URL('../../dist/svclab.mjs', import.meta.url));
  t.true(statSync(bundle).size > 100_000);
});
