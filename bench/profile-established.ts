// Profiling aid (not part of the suite): a tight loop of established packets (iptables mode
// unless the second argument says ipvs).
// Run: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-established.ts [n] [ipvs]
import { established } from './dataplane.ts';

const e = established(process.argv[3] === 'ipvs' ? 'ipvs' : 'iptables');
const work = new Uint8Array(e.out.length);
const n = Number(process.argv[2] ?? 2_000_000);
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  if (i & 1) {
    work.set(e.out);
    e.dp.process(work, e.clientIf);
  } else {
    work.set(e.back);
    e.dp.process(work, 1);
  }
}
const ns = Number(process.hrtime.bigint() - t0) / n;
console.log(`${ns.toFixed(0)} ns/packet`, e.dp.counters.summary());
