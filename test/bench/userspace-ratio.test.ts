// The userspace suite's headline: its ratio figure, measured in one run, judged > 1.
import test from 'ava';
import { headlineRatios } from '../../bench/ratios.ts';
import { f, fixedResults } from './fixtures.ts';

test('userspace / iptables comes from the userspace suite and is judged against > 1', (t) => {
  const r = fixedResults();
  const none = headlineRatios(r).find((x) => x.id === 'userspace-over-iptables')!;
  t.is(none.value, null);
  t.is(none.met, null);
  r.suites.push({
    name: 'userspace',
    file: 'bench/userspace.ts',
    status: 'ok',
    exitCode: 0,
    durationMs: 60_000,
    figures: [
      f('bulk-transfer', 'ns/KiB', 58_000, { mode: 'iptables' }),
      f('bulk-transfer', 'ns/KiB', 103_000, { mode: 'userspace' }),
      f('userspace-vs-iptables', 'ratio', 1.66, { mode: 'userspace' }),
    ],
    log: 'userspace.log',
  });
  const x = headlineRatios(r).find((y) => y.id === 'userspace-over-iptables')!;
  t.is(x.value, 1.66);
  t.true(x.met);
});
