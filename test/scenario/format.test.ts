import test from 'ava';
import { parseDuration, parseScenario } from '../../src/scenario/format.ts';

test('durations', (t) => {
  t.is(parseDuration('5s'), 5e9);
  t.is(parseDuration('250ms'), 250e6);
  t.is(parseDuration('2m'), 120e9);
  t.is(parseDuration('soon'), undefined);
});

test('a scenario parses into steps with their lines', (t) => {
  const sc = parseScenario(
    [
      'title: t',
      'dir: m',
      'steps:',
      '  - note: hi',
      '  - wait: 1s',
      '  - run: kubectl get svc',
      '    on: external',
      '    repeat: 2',
      '    only: ipvs',
      '    expect: { exitCode: 0, stdout: { contains: x } }',
      '  - kubectl get pods',
    ].join('\n'),
    '/tmp/s.yaml',
  );
  t.is(sc.title, 't');
  t.is(sc.dir, '/tmp/m');
  t.deepEqual(
    sc.steps.map((s) => [s.kind, s.line]),
    [
      ['note', 4],
      ['wait', 5],
      ['run', 6],
      ['run', 11],
    ],
  );
  t.like(sc.steps[2], {
    on: 'external',
    repeat: 2,
    only: ['ipvs'],
    expect: { exitCode: 0, stdout: { contains: ['x'] } },
  });
});

test('bad scenarios name the file, the line and the field', (t) => {
  const bad = (text: string) => t.throws(() => parseScenario(text, 'x.yaml'))?.message;
  t.is(bad('steps: []'), 'x.yaml:1: title: required text');
  t.is(
    bad('title: t\nsteps:\n  - wait: soon'),
    'x.yaml:3: steps[0].wait: a duration like 5s, 500ms or 2m',
  );
  t.is(
    bad('title: t\nsteps:\n  - run: x\n    repat: 2'),
    'x.yaml:3: steps[0]: unknown field "repat"',
  );
  t.is(
    bad('title: t\nproxyMode: kernelspace\nsteps: []'),
    'x.yaml:2: proxyMode: must be one of iptables, ipvs, nftables, userspace',
  );
  t.regex(
    bad('title: t\nsteps:\n  - run: x\n    expect: { stdout: { matches: "(" } }') ?? '',
    /^x\.yaml:3: steps\[0\]\.expect\.stdout\.matches: /,
  );
  t.regex(bad('title: [\n') ?? '', /^x\.yaml:\d+:\d+: /);
});
