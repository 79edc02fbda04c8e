import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

test('svclab --version prints the package version', (t) => {
  const out = execFileSync('node', ['bin/svclab.js', '--version'], { encoding: 'utf8' });
  t.is(out.trim(), pkg.version);
});

test('svclab --help lists the commands', (t) => {
  const out = execFileSync('node', ['bin/svclab.js', '--help'], { encoding: 'utf8' });
  t.regex(out, /Usage: svclab/);
  t.regex(out, /walkthrough/);
});

test('an unknown command exits non-zero', (t) => {
  const err = t.throws(() =>
    execFileSync('node', ['bin/svclab.js', 'no-such-command'], { stdio: 'pipe' }),
  ) as Error & { status: number };
  t.not(err.status, 0);
});
