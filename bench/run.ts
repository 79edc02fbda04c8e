// `npm run bench`: the same as `svclab bench` (src/cli/bench.ts → bench/harness.ts).
// `npm run bench -- --quick`, `npm run bench -- classify render` (bare names are --suite).
import { main } from '../src/cli/main.ts';

const args = process.argv
  .slice(2)
  .flatMap((a, i, all) =>
    a.startsWith('-') || ['--suite', '--out'].includes(all[i - 1] ?? '') ? [a] : ['--suite', a],
  );
process.exitCode = await main(['bench', ...args]);
