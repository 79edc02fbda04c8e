// First-packet cost of two svclab trees side by side in ONE process (a before/after pair on
// a shared, noisy machine): each tree's bench/workload.ts builds its own proxier of N
// Services × 10 endpoints, then each tree's bench/classify.ts firstPacket() runs in
// alternation, so both sides see the same load. Prints median and minimum per side and the
// ratio. The "before" tree is typically a git worktree of an older commit:
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --max-old-space-size=12000 --import=tsx --expose-gc bench/classify-ab.ts \
//     --base /tmp/base --mode ipvs 100000 [--alternations 6]
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

interface Side {
  name: string;
  px: unknown;
  firstPacket: (px: unknown, n: number, quick: boolean) => { ns: number[] };
  ns: number[];
  buildMs: number;
  mib: number;
}

function arg(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const gc = (globalThis as { gc?: () => void }).gc;
const argv = process.argv.slice(2);
const base = arg(argv, '--base');
const mode = arg(argv, '--mode') ?? 'ipvs';
const alternations = Number(arg(argv, '--alternations') ?? 6);
const sizes = argv.filter((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--alternations');
const n = Number(sizes.at(-1) ?? 10_000);
if (base === undefined || gc === undefined) {
  console.error(
    'usage: node --import=tsx --expose-gc bench/classify-ab.ts --base DIR [--mode M] N',
  );
  process.exit(2);
}
const here = fileURLToPath(new URL('..', import.meta.url));
const sides: Side[] = [];
for (const [name, dir] of [
  ['before', base],
  ['after', here],
] as const) {
  const wl = (await import(`${dir}/bench/workload.ts`)) as {
    fill: (px: unknown, n: number) => unknown;
    newProxier: (m: string) => unknown;
  };
  const cl = (await import(`${dir}/bench/classify.ts`)) as { firstPacket: Side['firstPacket'] };
  gc();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  const px = wl.fill(wl.newProxier(mode), n);
  const buildMs = performance.now() - t0;
  gc();
  const m1 = process.memoryUsage();
  const mib = (m1.heapUsed - m0.heapUsed + m1.arrayBuffers - m0.arrayBuffers) / 2 ** 20;
  sides.push({ name, px, firstPacket: cl.firstPacket, ns: [], buildMs, mib });
}
for (let a = 0; a < alternations; a++) {
  for (const s of a % 2 === 0 ? sides : [...sides].reverse())
    s.ns.push(...s.firstPacket(s.px, n, true).ns);
}
const q = (xs: readonly number[], f: number) =>
  [...xs].sort((x, y) => x - y)[Math.floor(f * (xs.length - 1))]!;
for (const s of sides) {
  console.log(
    `${s.name.padEnd(6)} ${mode} ${n}: first packet median ${q(s.ns, 0.5).toFixed(0)} ns, ` +
      `min ${q(s.ns, 0).toFixed(0)} ns (${s.ns.length} rounds); build ${s.buildMs.toFixed(0)} ms; ` +
      `heap + typed arrays ${s.mib.toFixed(0)} MiB`,
  );
}
const [b, a] = sides as [Side, Side];
console.log(
  `before/after: median ${(q(b.ns, 0.5) / q(a.ns, 0.5)).toFixed(2)}×, min ${(q(b.ns, 0) / q(a.ns, 0)).toFixed(2)}×; ` +
    `load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
