// The TUN binding (src/lab/tun.ts + native/): open, move into a namespace, read what the
// kernel routes to the device, write replies back. Root-only parts skip with the reason
// when this process cannot open TUN devices (not root, no /dev/net/tun, addon not built).
import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Tun, tunSupport } from '../../src/lab/tun.ts';
import { u32ToIp } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildUdp } from '../../src/packet/build.ts';
import { internetChecksum } from '../../src/packet/checksum.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tunModule = join(root, 'src', 'lab', 'tun.ts');
const support = tunSupport();
const isRoot = process.getuid?.() === 0;
const prefix = `svl-t${process.pid}`;

if (!support.ok) console.log(`TUN tests skipped: ${support.reason}`);
/** Tests that need a TUN device: skipped (not passed) where there is none. */
const tunSerial = support.ok ? test.serial : test.serial.skip;

const ipAt = (p: Uint8Array, off: number): string =>
  u32ToIp(((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0);

/** Resolve with a copy of the first packet `want` accepts (views die with the callback). */
function nextPacket(tun: Tun, want: (p: Uint8Array) => boolean, ms = 5000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching packet on ${tun.name}`)), ms);
    tun.onPackets((packets) => {
      for (const p of packets) {
        // IPv4 only: the kernel also sends IPv6 router solicitations and MLD reports.
        if (p[0]! >> 4 === 4 && want(p)) {
          clearTimeout(timer);
          resolve(p.slice());
          return;
        }
      }
    });
  });
}

/** A TUN device moved into a fresh namespace as 10.99.0.1/24, up; cleaned up after `body`. */
async function inNamespace(
  tag: string,
  body: (tun: Tun, ns: string) => Promise<void>,
): Promise<void> {
  const ns = `${prefix}-${tag}`;
  const tun = Tun.open(`${prefix}${tag}`);
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['link', 'set', 'dev', tun.name, 'netns', ns]);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', tun.name]);
    execFileSync('ip', ['-n', ns, 'link', 'set', tun.name, 'up']);
    execFileSync('ip', ['-n', ns, 'route', 'add', 'default', 'dev', tun.name]);
    await body(tun, ns);
  } finally {
    tun.close();
    spawnSync('ip', ['netns', 'delete', ns]);
    spawnSync('ip', ['link', 'delete', tun.name]);
  }
}

/** The Udp: line of the namespace's /proc/net/snmp, by field name. */
function udpCounters(ns: string): Record<string, number> {
  const lines = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => l.startsWith('Udp: '));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

/** Run `code` (an ES module importing tun.ts as T) in a child node as nobody; its stdout. */
function runAsNobody(code: string): string {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `import * as T from '${tunModule}';\n${code}`],
    { cwd: root, uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } },
  );
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

test('a name over 15 characters is refused before any syscall', (t) => {
  const err = t.throws(() => Tun.open('svl-0123456789ab'));
  t.is((err as Error & { code?: string }).code, 'ENAMETOOLONG');
  t.regex(err!.message, /16 characters.*at most 15/);
});

test('tunSupport() says ok or gives a reason', (t) => {
  if (support.ok) t.pass();
  else t.regex(support.reason, /\S/);
});

tunSerial(
  'ping through the TUN: the echo request is read, a crafted reply answers it',
  async (t) => {
    await inNamespace('a', async (tun, ns) => {
      const ping = spawn('ip', ['netns', 'exec', ns, 'ping', '-c1', '-W5', '10.99.0.2']);
      const done = new Promise<number | null>((res) => ping.on('exit', res));
      const req = await nextPacket(tun, (p) => p[9] === 1 && p[20] === 8);
      t.is(ipAt(req, 12), '10.99.0.1');
      t.is(ipAt(req, 16), '10.99.0.2');
      const ihl = (req[0]! & 15) * 4;
      t.is(internetChecksum(req, ihl), 0, 'the kernel sent a valid ICMP checksum');
      const reply = buildIcmpEcho({
        src: '10.99.0.2',
        dst: '10.99.0.1',
        echoId: (req[ihl + 4]! << 8) | req[ihl + 5]!,
        seq: (req[ihl + 6]! << 8) | req[ihl + 7]!,
        data: req.subarray(ihl + 8),
        reply: true,
      });
      t.true(tun.sendOne(reply));
      t.is(await done, 0, 'ping got its reply');
      const s = tun.stats;
      t.true(s.rxPackets >= 1);
      t.is(s.txPackets, 1);
      t.is(s.txBytes, reply.length);
      t.is(s.txDropped, 0);
    });
  },
);

tunSerial('UDP through the TUN: a datagram from the namespace is read and answered', async (t) => {
  await inNamespace('b', async (tun, ns) => {
    const client = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        `const s = require('node:dgram').createSocket('udp4');
         s.on('message', (m) => { console.log(m.toString()); s.close(); });
         s.bind(40000, '10.99.0.1', () => s.send('ping-udp', 9999, '10.99.0.2'));
         setTimeout(() => process.exit(3), 5000).unref();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    client.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((res) => client.on('exit', res));
    const dgram = await nextPacket(tun, (p) => p[9] === 17);
    const ihl = (dgram[0]! & 15) * 4;
    t.is(ipAt(dgram, 16), '10.99.0.2');
    t.is((dgram[ihl]! << 8) | dgram[ihl + 1]!, 40000);
    t.is((dgram[ihl + 2]! << 8) | dgram[ihl + 3]!, 9999);
    t.is(Buffer.from(dgram.subarray(ihl + 8)).toString(), 'ping-udp');
    const reply = buildUdp({
      src: '10.99.0.2',
      dst: '10.99.0.1',
      sport: 9999,
      dport: 40000,
      payload: new TextEncoder().encode('pong-udp'),
    });
    // A batch of two: one the kernel refuses (IP version 0: EINVAL), then the reply.
    t.is(tun.send([new Uint8Array(20), reply]), 1);
    t.is(await done, 0);
    t.is(out.trim(), 'pong-udp');
    t.is(tun.stats.txDropped, 1);
  });
});

tunSerial('a burst of datagrams of many sizes arrives intact, batched into one slab', async (t) => {
  await inNamespace('d', async (tun, ns) => {
    // MTU 9000: one datagram larger than any typical budget rides along.
    execFileSync('ip', ['-n', ns, 'link', 'set', tun.name, 'mtu', '9000']);
    const sizes = [...Array.from({ length: 300 }, (_, i) => 2 + ((i * 37) % 1400)), 8900];
    const client = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        `const s = require('node:dgram').createSocket('udp4');
         const sizes = ${JSON.stringify(sizes)};
         s.bind(40001, '10.99.0.1', () => {
           let left = sizes.length;
           sizes.forEach((n, i) => {
             const b = Buffer.alloc(n, i & 255);
             b.writeUInt16BE(i, 0);
             s.send(b, 9999, '10.99.0.2', () => { if (--left === 0) s.close(); });
           });
         });`,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((res) => client.on('exit', res));
    const seen = new Map<number, number>();
    let batches = 0;
    let largest = 0;
    let bad = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`saw ${seen.size} of ${sizes.length}`)),
        10_000,
      );
      tun.onPackets((packets) => {
        batches++;
        largest = Math.max(largest, packets.length);
        for (const p of packets) {
          if (p[0]! >> 4 !== 4 || p[9] !== 17) continue;
          const ihl = (p[0]! & 15) * 4;
          const payload = p.subarray(ihl + 8);
          const i = (payload[0]! << 8) | payload[1]!;
          // Payload i: its index, then (i & 255) up to sizes[i] bytes.
          const n = sizes[i] ?? -1;
          const fill = payload.subarray(2).every((x) => x === (i & 255));
          if (payload.length !== n || !fill) bad++;
          seen.set(i, payload.length);
        }
        if (seen.size + bad >= sizes.length) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await exited;
    t.log(`${batches} batches, largest ${largest} packets`);
    t.is(bad, 0);
    t.is(seen.get(sizes.length - 1), 8900, 'the 8900-byte datagram came through whole');
  });
});

tunSerial('send() takes batches past the transmit slab (2000 packets, 2 MB)', async (t) => {
  await inNamespace('e', async (tun, ns) => {
    const packets = Array.from({ length: 2000 }, (_, i) =>
      buildUdp({
        src: '10.99.0.2',
        dst: '10.99.0.1',
        sport: 9999,
        dport: 50000 + (i % 7),
        payload: new Uint8Array(1000 + (i % 13)).fill(i & 255),
      }),
    );
    const bytes = packets.reduce((a, p) => a + p.length, 0);
    const before = udpCounters(ns);
    t.is(tun.send(packets), 2000);
    t.is(tun.stats.txPackets, 2000);
    t.is(tun.stats.txBytes, bytes);
    t.is(tun.stats.txDropped, 0);
    // The namespace's stack got every datagram whole: checksums good, no listener on the ports.
    const after = udpCounters(ns);
    t.is(after.NoPorts! - before.NoPorts!, 2000);
    t.is(after.InCsumErrors! - before.InCsumErrors!, 0);
  });
});

tunSerial(
  'deleting the namespace under a reading Tun stops it with EBADFD, no crash',
  async (t) => {
    const ns = `${prefix}-f`;
    const tun = Tun.open(`${prefix}f`);
    try {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['link', 'set', 'dev', tun.name, 'netns', ns]);
      const failed = new Promise<Error>((res) => tun.onError(res));
      tun.onPackets(() => undefined);
      execFileSync('ip', ['netns', 'delete', ns]);
      const err = await failed;
      t.is((err as Error & { code?: string }).code, 'EBADFD');
      t.regex(err.message, new RegExp(`^read ${tun.name}: `));
      t.is(tun.readError, err);
      // Writes to the orphaned fd fail and count as drops; nothing throws.
      t.is(tun.send([buildUdp({ src: '10.99.0.2', dst: '10.99.0.1', sport: 1, dport: 2 })]), 0);
      t.is(tun.stats.txDropped, 1);
    } finally {
      tun.close();
      spawnSync('ip', ['netns', 'delete', ns]);
    }
  },
);

tunSerial('close is idempotent; send after close is a clear error', (t) => {
  const tun = Tun.open(`${prefix}c`);
  t.regex(tun.name, /^svl-t\d+c$/);
  t.true(tun.fd >= 0);
  tun.close();
  t.notThrows(() => tun.close());
  const err = t.throws(() => tun.send([new Uint8Array(20)]));
  t.is((err as Error & { code?: string }).code, 'ERR_TUN_CLOSED');
  t.throws(() => tun.sendOne(new Uint8Array(20)), { message: /closed/ });
  // The device went with its only fd: the name is free again.
  const again = Tun.open(`${prefix}c`);
  again.close();
  t.pass();
});

tunSerial('multiQueue: two fds serve one device', (t) => {
  const a = Tun.open(`${prefix}m`, { multiQueue: true });
  try {
    const b = Tun.open(`${prefix}m`, { multiQueue: true });
    t.is(b.name, a.name);
    t.not(b.fd, a.fd);
    b.close();
  } finally {
    a.close();
  }
});

tunSerial(
  'an unprivileged process gets EPERM/EACCES from open and a reason from tunSupport()',
  (t) => {
    if (!isRoot) {
      t.log('skipped: spawning a child as nobody needs root');
      t.pass();
      return;
    }
    const out = runAsNobody(
      `const s = T.tunSupport();
     let code = 'none', message = '';
     try { T.Tun.open('${prefix}n').close(); } catch (e) { code = e.code; message = e.message; }
     console.log(JSON.stringify({ s, code, message }));`,
    );
    const r = JSON.parse(out) as {
      s: { ok: boolean; reason?: string };
      code: string;
      message: string;
    };
    t.false(r.s.ok);
    t.regex(r.s.reason ?? '', /root|CAP_NET_ADMIN/);
    t.true(r.code === 'EPERM' || r.code === 'EACCES', `code ${r.code}`);
    t.regex(
      r.message,
      /(open \/dev\/net\/tun|TUNSETIFF).*: (Permission denied|Operation not permitted)/,
    );
  },
);

tunSerial(
  'a worker that exits without close() leaves no device behind (env cleanup)',
  async (t) => {
    const name = `${prefix}w`;
    const addon = join(root, 'native', 'build', 'Release', 'svclab_tun.node');
    const worker = new Worker(
      `const { TunDevice } = require(${JSON.stringify(addon)});
     const d = new TunDevice(${JSON.stringify(name)}, false, 4, 2048);
     d.start(() => {});
     require('node:worker_threads').parentPort.postMessage(d.name);`,
      { eval: true },
    );
    try {
      t.is(await new Promise((res) => worker.once('message', res)), name);
      t.is(spawnSync('ip', ['link', 'show', name]).status, 0, 'the device exists while open');
      await worker.terminate();
      t.not(spawnSync('ip', ['link', 'show', name]).status, 0, 'the device went with the worker');
    } finally {
      spawnSync('ip', ['link', 'delete', name]);
    }
  },
);
