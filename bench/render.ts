// Rendering kube-proxy's rules: svclab's `iptables-save` output for N services × 10
// endpoints — render time (`render`, ms CPU) and size (`render-size`, KiB) — and, for
// contrast, the real kernel's load time of that same text: `iptables-restore` into a
// throw-away network namespace (`kernel-restore`, ms wall; root only, skipped with a reason
// otherwise). The anchor: Huawei measured 11 minutes to add a rule at 5,000
// services with iptables (a full restore per change).
// Run: node --import=tsx --expose-gc bench/render.ts [--quick] [N...]
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';
import {
  addNfacctCounters,
  addNs,
  cleanup,
  delNs,
  kernelSkipReason,
  run,
  systemTool,
} from './netns.ts';
import { fill, newIptables } from './workload.ts';

export const FULL_SIZES = [10, 100, 1_000, 10_000, 30_000];
export const QUICK_SIZES = [10, 100, 1_000];
/** iptables-restore of 10k services × 10 endpoints takes ~50 s here; 30k would take minutes. */
const KERNEL_RESTORE_MAX = 10_000;

const gc = (globalThis as { gc?: () => void }).gc;

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/** Wall ms of `iptables-restore` of `file` into a fresh namespace (removed afterwards). */
function kernelRestore(file: string, n: number, round: number): number {
  const ns = addNs(`r${n}-${round}`);
  try {
    addNfacctCounters(ns, file);
    const t0 = performance.now();
    run('sh', ['-c', `ip netns exec ${ns} ${systemTool('iptables-restore')} < ${file}`]);
    return performance.now() - t0;
  } finally {
    delNs(ns);
  }
}

export function renderBench(sizes: readonly number[], quick: boolean): Figure[] {
  const figures: Figure[] = [];
  const skip = kernelSkipReason(['iptables-restore']);
  const dir = mkdtempSync(join(tmpdir(), 'svclab-render-'));
  const restoreVersion =
    skip === undefined ? run(systemTool('iptables-restore')!, ['--version']).trim() : '';
  try {
    for (const n of sizes) {
      console.log(`${n} services: building, rendering${skip === undefined ? ', restoring' : ''}…`);
      const px = fill(newIptables(), n);
      gc?.();
      const rounds = n >= 10_000 || quick ? 3 : 7;
      let text = '';
      const ms: number[] = [];
      for (let r = 0; r < rounds; r++) ms.push(cpuMs(() => (text = px.save())));
      const kib = Buffer.byteLength(text) / 1024;
      figures.push(figure('render', 'ms', ms, { mode: 'iptables', services: n }));
      figures.push(figure('render-size', 'KiB', [kib], { mode: 'iptables', services: n }));
      let line = `${String(n).padStart(7)} services: iptables-save ${ms.sort((a, b) => a - b)[ms.length >> 1]!.toFixed(1)} ms CPU, ${kib.toFixed(0)} KiB, ${text.split('\n').length} lines`;
      if (skip === undefined) {
        const file = join(dir, `save-${n}.txt`);
        writeFileSync(file, text);
        if (n > KERNEL_RESTORE_MAX) {
          console.log(
            `${line} | kernel iptables-restore not run above ${KERNEL_RESTORE_MAX} services (minutes)`,
          );
          continue;
        }
        const kr = n >= 10_000 || (quick && n >= 1000) ? 1 : 3;
        const loads: number[] = [];
        try {
          for (let r = 0; r < kr; r++) loads.push(kernelRestore(file, n, r));
          figures.push(
            figure('kernel-restore', 'ms', loads, { mode: 'kernel-iptables', services: n }),
          );
          line += ` | kernel iptables-restore ${loads.sort((a, b) => a - b)[loads.length >> 1]!.toFixed(0)} ms wall`;
        } catch (err) {
          // The kernel refusing svclab's text is a finding, not a reason to lose the rest.
          line += ` | kernel iptables-restore failed: ${(err as Error).message.split('\n')[0]}`;
        }
      }
      console.log(line);
    }
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  if (skip !== undefined) console.log(`kernel-restore skipped: ${skip}`);
  else console.log(`kernel: ${restoreVersion}`);
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const quick = isQuick(argv);
  const given = argv.filter((a) => /^\d+$/.test(a)).map(Number);
  const figures = renderBench(given.length > 0 ? given : quick ? QUICK_SIZES : FULL_SIZES, quick);
  printSuiteResult({ suite: 'render', figures });
}
