// `npm run bench`: every benchmark suite in turn, each in its own process so one suite's
// heap and JIT state do not colour the next. Figures are printed by each suite.
// `npm run bench -- packet dataplane` runs only those.
import { spawnSync } from 'node:child_process';

const SUITES = [
  'packet',
  'dataplane',
  'conntrack',
  'iptables',
  'ipvs',
  'nftables',
  'control',
  'sim',
];
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = chosen.filter((s) => !SUITES.includes(s));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')} (have: ${SUITES.join(', ')})`);
  process.exit(2);
}
let failed = 0;
for (const suite of chosen.length > 0 ? chosen : SUITES) {
  console.log(`\n== bench/${suite}.ts`);
  const r = spawnSync(process.execPath, ['--import=tsx', '--expose-gc', `bench/${suite}.ts`], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
