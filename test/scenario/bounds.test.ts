// Time and work in scenarios are bounded: wait, repeat and sleep have maxima with clear
// errors, and expectation regexes cannot backtrack without bound.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, parseScenario } from '../../src/scenario/format.ts';
import { compileExpectRegex, nestedQuantifier } from '../../src/scenario/regex.ts';
import { runScenario } from '../../src/scenario/runner.ts';

const bad = (text: string): string | undefined => {
  try {
    parseScenario(text, 'x.yaml');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

test('wait: 1000000h is refused with the maximum named', (t) => {
  t.is(
    bad('title: t\nsteps:\n  - wait: 1000000h'),
    'x.yaml:3: steps[0].wait: at most 168h (7 days of virtual time), got 1000000h',
  );
  t.is(bad('title: t\nsteps:\n  - wait: 168h'), undefined);
});

test('repeat: 1000000000 is refused with the maximum named', (t) => {
  t.is(
    bad('title: t\nsteps:\n  - run: echo hi\n    repeat: 1000000000'),
    'x.yaml:3: steps[0].repeat: at most 10000, got 1000000000',
  );
});

test('sleep 99999999999 fails at once with the limit', async (t) => {
  const sc = parseScenario(
    'title: t\nsteps:\n  - run: sleep 99999999999\n    expect: { exitCode: 0 }',
    'x.yaml',
  );
  const r = await runScenario(sc);
  t.is(r.failures.length, 1);
  t.regex(r.transcript, /sleep: 99999999999s is more than svclab's limit of 604800s/);
  t.true(r.virtualTimeNs < 3600e9);
});

test('a backtracking regex in an expectation runs in linear time', async (t) => {
  // ^(a+)+$ against 30 a's and a b: 2^30 steps for a backtracking engine.
  const sc = parseScenario(
    `title: t\nsteps:\n  - run: echo ${'a'.repeat(30)}b\n    expect: { stdout: { matches: '^(a+)+$' } }`,
    'x.yaml',
  );
  const r = await runScenario(sc);
  t.is(r.failures.length, 1);
  t.is(compileExpectRegex('^(a+)+$').count(`${'a'.repeat(100_000)}b`), 0);
});

test('patterns RE2 cannot run are refused when they could backtrack, allowed otherwise', (t) => {
  t.regex(
    bad("title: t\nsteps:\n  - run: x\n    expect: { stdout: { matches: '(a+)+(?=b)' } }") ?? '',
    /could backtrack without bound: refused/,
  );
  // A lookahead without nested quantifiers (scenarios/beyond/no-endpoints.yaml has one).
  t.is(compileExpectRegex('rr\\n(?!  ->)').count('TCP 1 rr\nTCP 2 rr\n  -> x'), 1);
  t.true(nestedQuantifier('(a|b)*'));
  t.true(nestedQuantifier('(?:x(a+))*'));
  t.false(nestedQuantifier('(ab)+c*'));
  t.false(nestedQuantifier('[(a+)]+'));
});

test('a scenario file that is not a regular file or too big is refused', (t) => {
  t.throws(() => loadScenario('/dev/zero'), { message: /not a regular file/ });
  const dir = mkdtempSync(join(tmpdir(), 'svclab-bounds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, 'big.yaml');
  writeFileSync(big, `title: t\n#${'x'.repeat(2 << 20)}\nsteps: []\n`);
  t.throws(() => loadScenario(big), { message: /larger than the scenario limit of 1048576 bytes/ });
});
