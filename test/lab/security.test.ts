// The lab as a root daemon must be careful with what it is given (issue 16): names and
// prefixes are checked before they reach a path or a namespace name, state is private
// whatever the umask, pid files are checked before a signal, up and down take a lock,
// the control socket refuses bad requests in one line, and errors are one line. The
// parts that need root (the state directory under /run/svclab, namespaces) skip with the
// reason elsewhere.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLabDevice, isLabNetns } from '../../src/lab/cleanup.ts';
import { CONTROL_MAX_BYTES, parseRequest } from '../../src/lab/control-protocol.ts';
import {
  checkObjectName,
  checkPrefix,
  clientNetns,
  deviceName,
  nodeNetns,
  podNetns,
  prefixProblem,
} from '../../src/lab/names.ts';
import { inside } from '../../src/lab/state.ts';

const BIN = 'bin/svclab.js';
const isRoot = process.getuid?.() === 0;
const rootTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) console.log('lab security tests that need root skipped: not running as root');

function svclab(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('no prefix is a prefix of another lab’s names: prefixes holding pod- or node- are refused', (t) => {
  // `lab down --prefix A` used to remove the lab `Apod-x-` (its namespaces start `Apod-`).
  t.throws(() => checkPrefix('Apod-x-'), { message: /may not contain 'pod-' or 'node-'/ });
  t.throws(() => checkPrefix('svlnode-1-'));
  t.throws(() => checkPrefix('sv1a2b-'), { message: /reserved/ });
  t.is(prefixProblem('svl-t42-'), undefined);
  // With any two good prefixes, neither lab's cleanup matches the other's names.
  const prefixes = ['A', 'Ab-', 'svl-', 'svl-t42-', 'svl-t42-x', 'x', 'x-'];
  for (const a of prefixes)
    for (const b of prefixes) {
      if (a === b) continue;
      for (const ns of [
        podNetns(b, 'default', 'web'),
        nodeNetns(b, 'k8s-node01'),
        clientNetns(b),
        `${b}external`,
      ]) {
        t.false(isLabNetns(a, ns), `${a} claims ${ns}`);
        t.false(isLabDevice(a, deviceName(b, ns)), `${a} claims ${deviceName(b, ns)}`);
      }
    }
});

test('bad prefixes and names are one-line errors, before anything touches a path', (t) => {
  for (const [args, want] of [
    [['lab', 'up', '--prefix', 'bad/prefix'], /^svclab: bad lab prefix "bad\/prefix": /],
    [['lab', 'down', '--prefix', '../../etc'], /^svclab: bad lab prefix/],
    [
      [
        'lab',
        'create',
        'secret',
        'generic',
        'x/../../../../tmp/evil',
        '--from-literal=a=b',
        '--prefix',
        'svl-',
      ],
      /^error: bad name "x\/..\/..\/..\/..\/tmp\/evil": a lowercase RFC 1123 subdomain/,
    ],
    [
      ['lab', 'create', 'secret', 'generic', '$(touch /tmp/pwned)', '--from-literal=a=b'],
      /^error: bad name "\$\(touch \/tmp\/pwned\)"/,
    ],
  ] as const) {
    const r = svclab([...args]);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.stderr, want);
    t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    t.notRegex(r.stderr, /\n\s+at /);
  }
  t.throws(() => checkObjectName('default', 'a/b'));
  t.throws(() => checkObjectName('Default', 'a'));
  t.notThrows(() => checkObjectName('kube-system', 'tls-secret.v1'));
  t.throws(() => inside('/run/svclab/x', '../y'));
  t.throws(() => inside('/run/svclab/x', 'secret-a/../../b'));
  t.is(inside('/run/svclab/x', 'secret-default-a.yaml'), '/run/svclab/x/secret-default-a.yaml');
});

test('--debug shows the stack trace, without it one line', (t) => {
  const plain = svclab(['get', 'svc', '-f', '/dev/zero']);
  t.is(plain.code, 1);
  t.is(plain.stderr, 'error: /dev/zero: not a regular file (a character device): refused\n');
  const bad = svclab(['lab', 'status', '--prefix', 'bad/x', '--debug']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^svclab: bad lab prefix/);
  t.regex(bad.stderr, /\n\s+at /);
});

test('the control protocol refuses what is not a request, in one line', (t) => {
  const refused = [
    'null',
    '1',
    '"status"',
    '[]',
    '{}',
    '{"cmd":null}',
    '{"cmd":"nope"}',
    '{"cmd":"show"}',
    '{"cmd":"show","what":7}',
    '{"cmd":"show","what":"svc","allNamespaces":"yes"}',
    '{"cmd":"apply"}',
    '{"cmd":"apply","files":"x"}',
    '{"cmd":"apply","files":["relative.yaml"]}',
    '{"cmd":"apply","files":[1]}',
    '{"cmd":"delete-object","kind":"Pod","namespace":"default","name":"../x"}',
    '{"cmd":"delete-object","kind":"Secret","namespace":"default","name":"x"}',
    '{"cmd":"delete-object","kind":"Pod","namespace":"default","name":"x","gracePeriodSeconds":-1}',
    '{"cmd":',
    `{"cmd":"status","pad":"${'x'.repeat(CONTROL_MAX_BYTES)}"}`,
  ];
  for (const line of refused) {
    const r = parseRequest(line);
    t.is(typeof r, 'string', line.slice(0, 80));
    t.false(String(r).includes('\n'));
    t.notRegex(String(r), /TypeError|Cannot read/);
  }
  t.deepEqual(parseRequest('{"cmd":"status"}'), { cmd: 'status' });
  t.deepEqual(parseRequest('{"cmd":"apply","files":["/a.yaml"]}'), {
    cmd: 'apply',
    files: ['/a.yaml'],
  });
});

test('manifests: non-regular files refused, size capped with the limit named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-sec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'x.yaml');
  spawnSync('mkfifo', [fifo]);
  const big = join(dir, 'big.yaml');
  writeFileSync(big, `# ${'x'.repeat(2000)}\n`);
  const deep = join(dir, 'deep.yaml');
  writeFileSync(deep, `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
  const r1 = svclab(['get', 'svc', '-f', fifo]);
  t.is(r1.code, 1);
  t.regex(r1.stderr, /not a regular file \(a FIFO\)/);
  // A directory walk skips the FIFO instead of blocking on it.
  const r2 = svclab(['get', 'svc', '-f', dir], { SVCLAB_MAX_MANIFEST_BYTES: '100000' });
  t.not(r2.stderr, '');
  t.notRegex(r2.stderr, /FIFO/);
  const r3 = svclab(['get', 'svc', '-f', big], { SVCLAB_MAX_MANIFEST_BYTES: '1000' });
  t.is(r3.code, 1);
  t.regex(r3.stderr, /larger than the manifest limit of 1000 bytes \(SVCLAB_MAX_MANIFEST_BYTES\)/);
  const r4 = svclab(['get', 'svc', '-f', deep]);
  t.is(r4.code, 1);
  t.regex(r4.stderr, /deep\.yaml:1:\d+: nesting deeper than 200 levels/);
  t.notRegex(r4.stderr, /call stack/);
  // stdin is read up to the limit, not forever.
  const r5 = spawnSync(process.execPath, [BIN, 'get', 'svc', '-f', '-'], {
    input: Buffer.alloc(3000),
    encoding: 'utf8',
    env: { ...process.env, SVCLAB_MAX_MANIFEST_BYTES: '1000' },
  });
  t.is(r5.status, 1);
  t.regex(r5.stderr, /larger than the manifest limit of 1000 bytes/);
});

rootTest('the state directory is private whatever the umask, and checked before use', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'svclab-state-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const env = { SVCLAB_STATE_ROOT: join(root, 'run') };
  // umask 000: `lab create` finds no lab, but the state directory is made on the way in
  // `lab down` (it takes the lock there).
  const r = spawnSync(
    'sh',
    ['-c', `umask 000; exec "${process.execPath}" ${BIN} lab down --prefix svs-`],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  t.is(r.status, 0, r.stderr);
  t.is(statSync(join(root, 'run')).mode & 0o777, 0o700);
  t.is(statSync(join(root, 'run', 'svs-')).mode & 0o777, 0o700);
  t.is(statSync(join(root, 'run', 'svs-', 'lock')).mode & 0o777, 0o600);
  // Someone else's (or a world-writable) state directory is not used.
  mkdirSync(join(root, 'run', 'svw-'));
  chmodSync(join(root, 'run', 'svw-'), 0o777);
  const w = svclab(['lab', 'down', '--prefix', 'svw-'], env);
  t.is(w.code, 1);
  t.regex(w.stderr, /svw- is writable by others \(mode 777\)/);
  mkdirSync(join(root, 'run', 'svo-'));
  spawnSync('chown', ['65534', join(root, 'run', 'svo-')]);
  const o = svclab(['lab', 'down', '--prefix', 'svo-'], env);
  t.is(o.code, 1);
  t.regex(o.stderr, /svo- belongs to uid 65534/);
});

rootTest('a stale pid file never signals an unrelated process', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'svclab-pid-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const env = { SVCLAB_STATE_ROOT: root };
  const victim = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(() => victim.kill('SIGKILL'));
  const pid = victim.pid!;
  const start = (await import('../../src/lab/state.ts')).processStart(pid)!;
  mkdirSync(join(root, 'svp-'), { mode: 0o700 });
  for (const content of [
    `${pid}\n`, // the old format: a bare pid
    JSON.stringify({ pid, start, prefix: 'svp-' }), // the right start, but not a daemon
    JSON.stringify({ pid, start: '1', prefix: 'svp-' }), // a reused pid
  ]) {
    writeFileSync(join(root, 'svp-', 'daemon.pid'), content);
    const r = svclab(['lab', 'down', '--prefix', 'svp-'], env);
    t.is(r.code, 0, r.stderr);
    t.true(victim.exitCode === null && victim.signalCode === null, content);
    t.notThrows(() => process.kill(pid, 0));
    const s = svclab(['lab', 'status', '--prefix', 'svp-'], env);
    t.is(s.code, 1);
  }
});

rootTest('lab up and lab down of one prefix hold a lock', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'svclab-lock-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'svk-'), { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  const lock = join(root, 'svk-', 'lock');
  writeFileSync(lock, '', { mode: 0o600 });
  // Someone holds the lock (as a running `lab up` would): down refuses, saying why.
  const holder = spawn('flock', ['-x', lock, 'sleep', '30'], { stdio: 'ignore' });
  t.teardown(() => holder.kill('SIGKILL'));
  spawnSync('sleep', ['0.3']);
  const r = svclab(['lab', 'down', '--prefix', 'svk-'], { SVCLAB_STATE_ROOT: root });
  t.is(r.code, 1);
  t.regex(r.stderr, /another lab up or down of this prefix is running/);
  t.true(existsSync(lock));
});

/** Why svclab cannot run as an unprivileged user here (for the permission test), if so. */
function whyNoUnprivileged(): string | undefined {
  if (!isRoot) return 'not running as root';
  const r = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, '--version'],
    { encoding: 'utf8' },
  );
  if (r.error !== undefined) return `setpriv: ${r.error.message}`;
  if (r.status !== 0) return `svclab does not run as uid 65534: ${r.stderr.split('\n')[0]}`;
  return undefined;
}
const noUnprivileged = whyNoUnprivileged();
if (noUnprivileged !== undefined)
  console.log(`non-root lab status test skipped: ${noUnprivileged}`);

(noUnprivileged === undefined ? test.serial : test.serial.skip)(
  'a non-root lab status says permission denied, not "no lab is running"',
  (t) => {
    const root = mkdtempSync(join(tmpdir(), 'svclab-perm-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    chmodSync(root, 0o755);
    mkdirSync(join(root, 'run'), { mode: 0o700 });
    chmodSync(join(root, 'run'), 0o700);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        BIN,
        'lab',
        'status',
        '--prefix',
        'svq-',
      ],
      { encoding: 'utf8', env: { ...process.env, SVCLAB_STATE_ROOT: join(root, 'run') } },
    );
    t.is(r.status, 1, r.stderr);
    t.regex(r.stderr, /permission denied reading .*run \(the lab runs as root: use sudo\)/);
    t.notRegex(r.stderr, /no lab .* is running/);
  },
);
