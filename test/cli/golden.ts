// Golden files: compare output with test/cli/golden/NAME; UPDATE_GOLDEN=1 rewrites them.
import type { ExecutionContext } from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function matchGolden(t: ExecutionContext, name: string, actual: string): void {
  const path = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.CI) {
      t.fail(`golden file ${name} is missing (run the tests once locally to create it)`);
      return;
    }
    writeFileSync(path, actual);
  }
  t.is(actual, readFileSync(path, 'utf8'), `golden ${name}`);
}
