// Profiling aid (not part of the suite): established-flow batches through the node pipeline,
// the same packets bench/dataplane.ts times (iptables mode unless the mode argument says).
// Run: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-established.ts \
//        [iptables|ipvs|nftables] [packets]
import { Verdict } from '../src/dataplane/counters.ts';
import { type DataplaneMode, MODES, establishedFlow } from './dataplane.ts';

const arg = process.argv[2] ?? 'iptables';
const mode = (MODES as readonly string[]).includes(arg) ? (arg as DataplaneMode) : 'iptables';
const f = establishedFlow(mode);
const n = Number(process.argv[3] ?? 4_000_000);
let bad = 0;
let ns = 0;
for (let done = 0; done < n; done += f.packets.length) {
  f.fill();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < f.packets.length; i++) {
    if (f.dp.process(f.packets[i]!, f.ifs[i]!) !== Verdict.Forward) bad++;
  }
  ns += Number(process.hrtime.bigint() - t0);
}
console.log(
  `${mode}: ${(ns / n).toFixed(0)} ns/packet, ${bad} not forwarded`,
  f.dp.counters.summary(),
);
