// The daemon parses `lab apply`/`lab delete` files in a worker thread: the same objects
// and errors as loading inline, while its own thread keeps running (packets flow).
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifests } from '../../src/api/load.ts';
import { ManifestLoader } from '../../src/lab/manifest-loader.ts';

const SEED = 'scenarios/seed/manifests';

test('objects and errors as an inline load gives them', async (t) => {
  const loader = new ManifestLoader();
  t.teardown(() => loader.close());
  const files = [`${SEED}/svc-deployment.yaml`, `${SEED}/svc.yaml`, `${SEED}/ingress`];
  const off = await loader.load(files, {});
  const inline = loadManifests(files, {});
  t.true(off.ok && inline.ok);
  if (off.ok && inline.ok) t.deepEqual(off.objects, JSON.parse(JSON.stringify(inline.objects)));
  const bad = await loader.load(['/dev/zero', '/nonexistent.yaml'], {});
  t.false(bad.ok);
  if (!bad.ok)
    t.deepEqual(bad.errors, [
      'error: /dev/zero: not a regular file (a character device): refused',
      'error: /nonexistent.yaml: the path "/nonexistent.yaml" does not exist',
    ]);
});

test("a large manifest loads while the daemon's thread keeps ticking", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-loader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const svc = (i: number) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${i}\nspec:\n  selector: { app: a }\n  ports:\n  - port: 80\n    targetPort: 8080\n`;
  const big = join(dir, 'big.yaml');
  writeFileSync(big, Array.from({ length: 3000 }, (_, i) => svc(i)).join('---\n'));
  const loader = new ManifestLoader();
  t.teardown(() => loader.close());
  await loader.load([`${SEED}/svc.yaml`], {}); // the worker is up
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const t0 = Date.now();
  const r = await loader.load([big], {});
  const ms = Date.now() - t0;
  clearInterval(timer);
  t.true(r.ok);
  if (r.ok) t.is(r.objects.length, 3000);
  t.log(`3000 Services loaded in ${ms} ms; the thread ticked ${ticks} times meanwhile`);
  // Loading inline would block the thread for the whole load: at most one tick.
  t.true(ticks >= 3, `${ticks} ticks in ${ms} ms`);
});
