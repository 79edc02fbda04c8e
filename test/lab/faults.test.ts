// Faults of a running lab (root; issue 16): two labs side by side whose prefixes extend
// one another, one `lab up` of a prefix at a time, the control socket fuzzed while a curl
// loop runs, hostile input to a running lab, a pod worker killed with -9 during a
// 500-request loop, the daemon killed with -9 (then `lab status` names the leftovers and
// `lab down` removes all of that lab and nothing of the other), `lab down` with requests
// in flight, `--timeout` that takes a lab down again, a bad manifest given to `lab up`.
// Elsewhere it skips with the reason.
import test from 'ava';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupLab } from '../../src/lab/cleanup.ts';
import { request } from '../../src/lab/client.ts';
import type { LabStatus } from '../../src/lab/daemon.ts';
import { devicePrefix } from '../../src/lab/names.ts';
import { labPaths } from '../../src/lab/state.ts';
import { tunSupport } from '../../src/lab/tun.ts';

const A = `svf${process.pid}-`;
const B = `svf${process.pid}-b-`; // A is a prefix of B: A's down must not touch B
const C = `svg${process.pid}-`;
const SEED = 'scenarios/seed/manifests';
const BIN = 'bin/svclab.js';
const MANIFESTS = [`${SEED}/svc-deployment.yaml`, `${SEED}/svc.yaml`];

function whyNot(): string | undefined {
  const s = tunSupport();
  if (!s.ok) return s.reason;
  for (const tool of ['ip', 'curl', 'flock'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}
const skip = whyNot();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function svclab(args: string[], timeout = 180_000): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function svclabAsync(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A curl loop in a namespace: one line per request, the HTTP code (000 when it failed). */
function curlLoop(
  netns: string,
  url: string,
  n: number,
): { child: ChildProcess; done: Promise<string[]> } {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'sh',
      '-c',
      `for i in $(seq ${n}); do curl -s -o /dev/null -w '%{http_code}\\n' -m 2 ${url} || true; done`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string[]>((resolve) =>
    child.on('close', () => resolve(out.split('\n').filter((l) => l !== ''))),
  );
  return { child, done };
}

async function status(prefix: string): Promise<LabStatus> {
  const r = await request(prefix, { cmd: 'status' });
  if (!r.ok || r.status === undefined) throw new Error('no status');
  return r.status;
}

async function clusterIP(prefix: string, svc: string): Promise<string> {
  const r = await request(prefix, { cmd: 'show', what: 'svc', namespace: 'default' });
  if (!r.ok) throw new Error(r.error);
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(`${svc} `));
  const ip = line?.split(/\s+/)[2];
  if (ip === undefined) throw new Error(`no Service ${svc}`);
  return ip;
}

/** What of a lab is on the machine: namespaces, devices, processes, /etc/netns entries. */
function present(prefix: string, other?: string): string[] {
  const mine = (n: string) => n.startsWith(prefix) && !(other && n.startsWith(other));
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(mine);
  const dp = devicePrefix(prefix);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => new RegExp(`^\\d+: ${dp}[0-9a-f]{8}[:@]`).test(l));
  const procs = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => new RegExp(`--prefix ${prefix}(\\s|$)`).test(l) && !l.includes('ps -eo'));
  const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter(mine) : [];
  return [...ns, ...links, ...procs, ...etc];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (skip !== undefined) {
  console.log(`lab fault tests skipped: ${skip}`);
  test.skip('lab faults (needs root, /dev/net/tun, ip, curl and flock)', () => undefined);
} else {
  test.after.always(async () => {
    for (const p of [A, B, C]) {
      spawnSync(process.execPath, [BIN, 'lab', 'down', '--prefix', p], { timeout: 60_000 });
      await cleanupLab(p).catch(() => undefined);
      rmSync(labPaths(p).dir, { recursive: true, force: true });
    }
  });

  test.serial('two labs side by side; a second lab up of one prefix is refused', async (t) => {
    t.timeout(400_000);
    const [a1, a2, b] = await Promise.all([
      svclabAsync(['lab', 'up', ...MANIFESTS, '--prefix', A, '--api-port', '0']),
      sleep(300).then(() =>
        svclabAsync(['lab', 'up', ...MANIFESTS, '--prefix', A, '--api-port', '0']),
      ),
      svclabAsync(['lab', 'up', `${SEED}/svc-deployment.yaml`, '--prefix', B, '--api-port', '0']),
    ]);
    t.is(a1.code, 0, a1.stderr);
    t.is(b.code, 0, b.stderr);
    t.is(a2.code, 1);
    t.regex(a2.stderr, /another lab up or down of this prefix is running|is already up/);
    t.is(a2.stderr.trimEnd().split('\n').length, 1);
    // Private state: the directory 0700, files 0600, no worker code on disk.
    const dir = labPaths(A).dir;
    t.is(spawnSync('stat', ['-c', '%a', dir], { encoding: 'utf8' }).stdout.trim(), '700');
    t.is(
      spawnSync('stat', ['-c', '%a', labPaths(A).socket], { encoding: 'utf8' }).stdout.trim(),
      '600',
    );
    t.false(readdirSync(dir).some((f) => f.endsWith('.mjs') || f.endsWith('.js')));
    const s = await status(A);
    t.is(s.hosts.filter((h) => h.kind === 'pod').length, 5);
  });

  test.serial(
    'control socket fuzz: the daemon answers every line and keeps forwarding',
    async (t) => {
      t.timeout(300_000);
      const vip = await clusterIP(A, 'myapp');
      const loop = curlLoop(`${A}client`, `http://${vip}/`, 300);
      const sock = labPaths(A).socket;
      const lines = [
        'null',
        '1',
        'true',
        '"status"',
        '[]',
        '{}',
        '{"cmd":null}',
        '{"cmd":{"toString":1}}',
        '{"cmd":"show","what":null}',
        '{"cmd":"show","what":"svc","node":7}',
        '{"cmd":"apply","files":null}',
        '{"cmd":"apply","files":["/dev/zero"]}',
        '{"cmd":"apply","files":["/proc/self/fd/0"]}',
        '{"cmd":"delete","files":[{}]}',
        '{"cmd":"delete-object","kind":"Pod","namespace":"default","name":"$(reboot)"}',
        '{"cmd":"__proto__"}',
        '{"__proto__":{"cmd":"down"}}',
        '{"cmd":',
        '\u0000\u0001\u0002',
      ];
      let replies = 0;
      let bad = 0;
      const send = (payload: string) =>
        new Promise<string>((resolve) => {
          const c = createConnection(sock);
          let buf = '';
          c.setEncoding('utf8');
          c.on('data', (d: string) => (buf += d));
          c.on('close', () => resolve(buf));
          c.on('error', () => resolve(buf));
          c.on('connect', () => c.end(payload));
          setTimeout(() => c.destroy(), 20_000);
        });
      // Wrong shapes, one connection each, many times over with random bytes between.
      for (let round = 0; round < 20; round++) {
        const junk = Array.from({ length: 20 }, () =>
          Buffer.from(Array.from({ length: 40 }, () => (Math.random() * 256) | 0))
            .toString('latin1')
            .replace(/\n/g, ' '),
        );
        const payload = [...lines, ...junk].join('\n') + '\n';
        const out = await send(payload);
        for (const l of out.split('\n').filter((x) => x !== '')) {
          replies++;
          const r = JSON.parse(l) as { ok: boolean; error?: string };
          if (r.ok || r.error === undefined || /TypeError|Cannot read|\n/.test(r.error)) bad++;
        }
      }
      // Oversized: 20 MB without a newline gets one refusal and a closed connection.
      const big = await send('{"cmd":"status","x":"' + 'x'.repeat(20 << 20));
      t.regex(big, /request larger than 65536 bytes/);
      // More connections than the daemon serves at once: the extra ones are turned away.
      const held = Array.from({ length: 40 }, () => createConnection(sock));
      await sleep(500);
      for (const c of held) c.destroy();
      const codes = await loop.done;
      const ok = codes.filter((c) => c === '200').length;
      t.log(
        `control socket: ${replies} replies to malformed requests (${bad} not a refusal); curl loop during it: ${ok}/${codes.length} answered 200`,
      );
      t.is(bad, 0);
      t.is(replies, 20 * (lines.length + 20));
      t.is(codes.length, 300);
      t.is(ok, 300);
      // The held connections' closes reach the daemon asynchronously: until they have, a new
      // request may still be turned away as one too many. It must be served soon after.
      let st: LabStatus | undefined;
      for (let i = 0; i < 20 && st === undefined; i++) {
        st = await status(A).catch(() => undefined);
        if (st === undefined) await sleep(500);
      }
      t.true(st?.ready === true, 'the daemon serves requests again once the held ones closed');
    },
  );

  test.serial(
    'hostile input to a running lab: one-line errors, nothing written outside',
    async (t) => {
      t.timeout(120_000);
      const dz = svclab(['lab', 'apply', '-f', '/dev/zero', '--prefix', A], 30_000);
      t.is(dz.code, 1);
      t.regex(
        dz.stderr,
        /^error: \/dev\/zero: not a regular file \(a character device\): refused\n$/,
      );
      const evil = `svclab-evil-${process.pid}`;
      const es = svclab(
        [
          'lab',
          'create',
          'secret',
          'generic',
          `x/../../../../tmp/${evil}`,
          '--from-literal=a=b',
          '--prefix',
          A,
        ],
        30_000,
      );
      t.is(es.code, 1);
      t.is(es.stderr.trimEnd().split('\n').length, 1);
      t.false(existsSync(`/tmp/${evil}.yaml`));
      t.false(readdirSync('/tmp').some((f) => f.includes(evil)));
      const sub = svclab(
        ['lab', 'create', 'secret', 'generic', '$(id)', '--from-literal=a=b', '--prefix', A],
        30_000,
      );
      t.is(sub.code, 1);
      t.regex(sub.stderr, /^error: bad name "\$\(id\)"/);
      // The daemon is alive and well after all of it.
      t.true((await status(A)).ready);
    },
  );

  test.serial('kill -9 of a pod worker during a 500-request curl loop', async (t) => {
    t.timeout(300_000);
    const vip = await clusterIP(A, 'myapp');
    const before = await status(A);
    const victim = before.hosts.find(
      (h) => h.kind === 'pod' && h.name.startsWith('myapp') && h.pid,
    );
    t.truthy(victim);
    const loop = curlLoop(`${A}client`, `http://${vip}/`, 500);
    await sleep(1500);
    // The worker is `ip netns exec … node …`: kill the node process inside the namespace.
    const pids = spawnSync('ip', ['netns', 'pids', victim!.netns], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((p) => p !== '');
    for (const p of pids) process.kill(Number(p), 'SIGKILL');
    const codes = await loop.done;
    const failed = codes.filter((c) => c !== '200').length;
    t.log(
      `worker kill -9 (${pids.length} processes) during 500 requests: ${failed} failed, ${codes.length - failed} answered 200`,
    );
    t.is(codes.length, 500);
    t.true(failed < 500);
    // The kubelet restarts it and it serves again.
    let restarted = false;
    for (let i = 0; i < 60 && !restarted; i++) {
      const h = (await status(A)).hosts.find((x) => x.name === victim!.name);
      restarted = (h?.restarts ?? 0) >= 1 && h?.ready === true;
      if (!restarted) await sleep(500);
    }
    t.true(restarted);
  });

  test.serial(
    'kill -9 of the daemon: status names the leftovers, down removes them and nothing of the other lab',
    async (t) => {
      t.timeout(300_000);
      const pid = (await status(A)).pid;
      const bBefore = present(B);
      t.true(bBefore.length > 0);
      process.kill(pid, 'SIGKILL');
      await sleep(1000);
      const st = svclab(['lab', 'status', '--prefix', A], 30_000);
      t.is(st.code, 1);
      t.regex(st.stderr, /no lab .* is running .*leftovers of a crashed one: \d+ namespaces/);
      t.is(st.stderr.trimEnd().split('\n').length, 1);
      const down = svclab(['lab', 'down', '--prefix', A], 120_000);
      t.is(down.code, 0, down.stderr);
      t.deepEqual(present(A, B), []);
      // The other lab, whose prefix A starts, is whole and still forwarding.
      t.deepEqual(present(B), bBefore);
      const s = await status(B);
      const pod = s.hosts.find((h) => h.kind === 'pod' && h.name.startsWith('myapp'))!;
      const r = spawnSync(
        'ip',
        ['netns', 'exec', `${B}client`, 'curl', '-s', '-m', '3', `http://${pod.ip}/`],
        {
          encoding: 'utf8',
        },
      );
      t.regex(r.stdout, /Hello MyApp/);
    },
  );

  test.serial('lab down while requests are in flight', async (t) => {
    t.timeout(300_000);
    const s = await status(B);
    const pod = s.hosts.find((h) => h.kind === 'pod' && h.name.startsWith('myapp'))!;
    const loop = curlLoop(`${B}client`, `http://${pod.ip}/`, 100_000);
    await sleep(2000);
    const t0 = Date.now();
    const down = svclab(['lab', 'down', '--prefix', B], 120_000);
    const tookMs = Date.now() - t0;
    const codes = await Promise.race([loop.done, sleep(30_000).then(() => undefined)]);
    if (codes === undefined) loop.child.kill('SIGKILL');
    t.log(
      `lab down with a curl loop running: ${tookMs} ms; ${codes?.filter((c) => c === '200').length ?? '?'} requests answered before`,
    );
    t.is(down.code, 0, down.stderr);
    t.truthy(codes, 'the loop in the lab ended with it');
    t.deepEqual(present(B), []);
  });

  test.serial('lab up --timeout that expires takes the lab down again', async (t) => {
    t.timeout(200_000);
    const r = svclab([
      'lab',
      'up',
      ...MANIFESTS,
      '--prefix',
      C,
      '--timeout',
      '1',
      '--api-port',
      '0',
    ]);
    t.is(r.code, 1);
    t.regex(r.stderr, /not ready after 1s; took it down again/);
    await sleep(1000);
    t.deepEqual(present(C), []);
    t.is(svclab(['lab', 'status', '--prefix', C], 30_000).code, 1);
  });

  test.serial('a bad manifest given to lab up: one line with file:line, nothing built', (t) => {
    t.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'svclab-faults-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\nspec:\n  ports: [{port: 99999}]\n',
    );
    const r = svclab(['lab', 'up', bad, '--prefix', C, '--api-port', '0']);
    t.is(r.code, 1);
    for (const l of r.stderr.trimEnd().split('\n')) t.regex(l, /^error: .*bad\.yaml:\d+:\d+ /);
    t.notRegex(r.stderr, /\n\s+at /);
    t.deepEqual(present(C), []);
    // A scenario whose `kubectl create secret` names a path: refused before any file is written.
    const sc = join(dir, 'sc.yaml');
    writeFileSync(
      sc,
      `title: t\nsteps:\n  - run: kubectl create secret generic x/../../../../tmp/svclab-sc-${process.pid} --from-literal=a=b\n`,
    );
    const r2 = svclab(['lab', 'up', sc, '--prefix', C, '--api-port', '0']);
    t.is(r2.code, 1);
    t.regex(r2.stderr, /^svclab lab: bad name /);
    t.false(existsSync(`/tmp/svclab-sc-${process.pid}.yaml`));
    t.deepEqual(present(C), []);
  });
}
