// Mutation fuzzing of manifests through load → validate → apply: the seed's manifests
// (every file under scenarios/seed/manifests) mutated as text (characters flipped, lines
// dropped, doubled or re-indented, values swapped for interesting ones) and as objects
// (a field set to a hostile value or removed), one document at a time, then parsed, and when they load, applied to a live
// cluster whose controllers settle after each apply. Nothing may throw.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Document, parseAllDocuments, stringify } from 'yaml';
import { parseManifestText } from '../../src/api/load.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { rng } from './packets.ts';

const SEED_DIR = 'scenarios/seed/manifests';

interface SeedDoc {
  text: string;
  obj: unknown;
}

/** Every document of every seed manifest, as text and as a parsed object. */
function seedDocs(dir = SEED_DIR): SeedDoc[] {
  const out: SeedDoc[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...seedDocs(p));
    else if (/\.(ya?ml|json)$/.test(n)) {
      for (const d of parseAllDocuments(readFileSync(p, 'utf8')) as Document[]) {
        const obj: unknown = d.toJS();
        if (obj !== null && typeof obj === 'object') out.push({ text: stringify(obj), obj });
      }
    }
  }
  return out;
}

const VALUES: unknown[] = [
  '',
  -1,
  0,
  65536,
  2 ** 31,
  1e308,
  -0.5,
  null,
  true,
  [],
  {},
  'x'.repeat(300),
  '../../etc/passwd',
  '$(reboot)',
  'a/b',
  '10.96.0.1',
  '255.255.255.255',
  '::1',
  '0.0.0.0/0',
  'NodePort',
  'LoadBalancer',
  'ExternalName',
  'None',
  'UDP',
  'SCTP',
  'ClientIP',
  'Local',
  '*.example.com',
  '/(.*)',
  '\u0000',
  'ü',
  [{}],
  [null],
  { a: { b: { c: 1 } } },
];

const PLAUSIBLE = [
  'a',
  'myapp',
  'x-1',
  'http',
  '80',
  '8080',
  'TCP',
  'UDP',
  'default',
  'kube-system',
  'app',
  'v1',
  '/',
  '/foo',
  'example.com',
  '10.96.1.1',
  'ClusterIP',
  'Prefix',
  'Exact',
];

const TEXT_SNIPPETS = [
  '\n',
  ': ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  '&a',
  '*a',
  '<<: *a',
  '!!binary',
  '"',
  "'",
  '#',
  '---\n',
  '\t',
  '  ',
];

function mutateText(text: string, r: () => number): string {
  let s = text;
  const n = 1 + (r() % 3);
  for (let k = 0; k < n; k++) {
    const lines = s.split('\n');
    const i = r() % Math.max(1, lines.length);
    switch (r() % 7) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, lines[i] ?? '');
        break;
      case 2:
        lines[i] = ' '.repeat(r() % 6) + (lines[i] ?? '').trimStart();
        break;
      case 3: {
        const at = r() % (s.length + 1);
        s = s.slice(0, at) + TEXT_SNIPPETS[r() % TEXT_SNIPPETS.length]! + s.slice(at);
        continue;
      }
      case 4: {
        const at = r() % Math.max(1, s.length);
        s = s.slice(0, at) + String.fromCharCode(32 + (r() % 95)) + s.slice(at + 1);
        continue;
      }
      case 5: {
        // A scalar value replaced: `key: value` → `key: <interesting>`.
        const m = /^(\s*-?\s*[\w.-]+:\s*)\S.*$/.exec(lines[i] ?? '');
        if (m) lines[i] = m[1]! + JSON.stringify(VALUES[r() % VALUES.length]);
        break;
      }
      case 6:
        s = s.slice(0, r() % (s.length + 1));
        continue;
    }
    s = lines.join('\n');
  }
  return s;
}

/** Paths to every value of a JSON tree. */
function paths(
  v: unknown,
  at: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
) {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function mutateObject(seed: unknown, r: () => number): string {
  const obj = structuredClone(seed);
  const all = paths(obj).filter((p) => p.length > 0);
  for (let k = 0; k < 1 + (r() % 2) && all.length > 0; k++) {
    const p = all[r() % all.length]!;
    // An earlier mutation may have removed the path: walk it while it exists.
    let parent: unknown = obj;
    for (const seg of p.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break;
      parent = (parent as Record<string | number, unknown>)[seg];
    }
    if (parent === null || typeof parent !== 'object') continue;
    const last = p[p.length - 1]!;
    const holder = parent as Record<string | number, unknown>;
    const was = holder[last];
    const pick = r() % 10;
    if (pick === 0) delete holder[last];
    else if (pick < 5) holder[last] = structuredClone(VALUES[r() % VALUES.length]);
    // Plausible values of the same type reach further: past validation into the controllers.
    else if (typeof was === 'number') holder[last] = r() % 70000;
    else if (typeof was === 'boolean') holder[last] = !was;
    else if (typeof was === 'string') holder[last] = PLAUSIBLE[r() % PLAUSIBLE.length];
    else holder[last] = structuredClone(VALUES[r() % VALUES.length]);
  }
  return stringify(obj);
}

export interface ManifestFuzzResult {
  manifests: number;
  loaded: number;
  applied: number;
  exceptions: number;
  samples: string[];
}

/** Mutate, load and (when it loads) apply `count` manifests. */
export function fuzzManifests(count: number, seed = 1): ManifestFuzzResult {
  const seeds = seedDocs();
  const r = rng(seed);
  const res: ManifestFuzzResult = {
    manifests: 0,
    loaded: 0,
    applied: 0,
    exceptions: 0,
    samples: [],
  };
  let cluster = new Cluster({ seed });
  for (let i = 0; i < count; i++) {
    if (i % 200 === 0) cluster = new Cluster({ seed: seed + i });
    const base = seeds[r() % seeds.length]!;
    const text = r() % 2 === 0 ? mutateText(base.text, r) : mutateObject(base.obj, r);
    res.manifests++;
    try {
      const loaded = parseManifestText(text, 'fuzz.yaml', {
        serviceCidr: cluster.config.serviceCIDR,
        nodePortRange: cluster.config.nodePortRange,
      });
      if (!loaded.ok) {
        for (const e of loaded.errors) e.format();
        continue;
      }
      res.loaded++;
      cluster.apply(loaded.objects);
      res.applied++;
      if (i % 50 === 0) cluster.advance(5e9);
    } catch (e) {
      res.exceptions++;
      if (res.samples.length < 5)
        res.samples.push(
          `${(e as Error).stack ?? String(e)}\n--- manifest:\n${text.slice(0, 2000)}`,
        );
      cluster = new Cluster({ seed: seed + i + 1 });
    }
  }
  return res;
}
