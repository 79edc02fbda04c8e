// Interop with Wireshark's command-line tools: tshark must read what svclab
// writes, and svclab must read what text2pcap/editcap write. Registered as
// skipped (with the reason in the title) when the tools are not installed.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkType, PcapWriter } from '../../src/packet/pcap.ts';
import type { PcapResolution } from '../../src/packet/pcap.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import { FIXTURES } from './pcap-fixtures.ts';

/** Why `tool -v` does not run, or undefined when it does. */
function missing(tool: string): string | undefined {
  const r = spawnSync(tool, ['-v'], { encoding: 'utf8' });
  if (r.error) return `${tool} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  return r.status === 0 ? undefined : `${tool} (-v exited ${r.status})`;
}

const why = ['tshark', 'text2pcap', 'editcap'].map(missing).filter((m) => m !== undefined);
const interop = (title: string, fn: (t: ExecutionContext) => void): void => {
  if (why.length === 0) test(title, fn);
  else test.skip(`${title} — skipped, not runnable: ${why.join(', ')}; apt-get install tshark`, fn);
};

function run(t: ExecutionContext, cmd: string, args: string[]): string {
  // TZ=UTC: text2pcap's strptime/mktime round trip must not depend on the host zone.
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  t.is(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function tmp(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-pcap-interop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const T0 = 1_700_000_000n * 1_000_000_000n;
// Nine packets, 1.000001001 s apart: the ns part is not a whole microsecond.
const ITEMS = Array.from({ length: 9 }, (_, i) => ({
  tsNs: T0 + BigInt(i) * 1_000_001_001n + 789n,
  fx: FIXTURES[i % FIXTURES.length]!,
}));

/** tshark's frame.time_epoch text for a timestamp stored at `res`. */
function epoch(tsNs: bigint, res: PcapResolution): string {
  const stored = res === 'us' ? (tsNs / 1000n) * 1000n : tsNs;
  const frac = (stored % 1_000_000_000n).toString().padStart(9, '0');
  return `${stored / 1_000_000_000n}.${frac}`;
}

function writeFile(dir: string, res: PcapResolution): string {
  const w = new PcapWriter({ resolution: res });
  for (const { tsNs, fx } of ITEMS) w.write(tsNs, fx.bytes);
  const path = join(dir, `svclab-${res}.pcap`);
  writeFileSync(path, w.toBytes());
  return path;
}

/** A text2pcap hexdump of every ITEM, each preceded by its `%s.%f` timestamp. */
function hexdump(): string {
  const lines: string[] = [];
  for (const { tsNs, fx } of ITEMS) {
    lines.push(epoch(tsNs, 'ns'));
    for (let o = 0; o < fx.bytes.length; o += 16) {
      const row = Array.from(fx.bytes.subarray(o, o + 16), (b) => b.toString(16).padStart(2, '0'));
      lines.push(`${o.toString(16).padStart(6, '0')}  ${row.join(' ')}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function assertSamePackets(t: ExecutionContext, path: string, res: PcapResolution): void {
  const r = readPcap(new Uint8Array(readFileSync(path)));
  t.is(r.error, undefined);
  t.is(r.skipped, 0);
  t.is(r.header?.resolution, res);
  t.is(r.packets.length, ITEMS.length);
  r.packets.forEach((p, i) => {
    const { tsNs, fx } = ITEMS[i]!;
    t.is(Buffer.from(p.data).toString('hex'), Buffer.from(fx.bytes).toString('hex'), fx.name);
    t.is(epoch(p.tsNs, 'ns'), epoch(tsNs, res), `${fx.name} #${i} timestamp`);
  });
}

for (const res of ['us', 'ns'] as const) {
  interop(`tshark reads a svclab ${res} file: count, addresses, ports, times, checksums`, (t) => {
    const path = writeFile(tmp(t), res);
    const fields = ['frame.time_epoch', 'ip.src', 'ip.dst', 'tcp.srcport', 'udp.srcport'];
    const out = run(t, 'tshark', [
      ...['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'],
      ...['-o', 'udp.check_checksum:TRUE', '-r', path, '-T', 'fields'],
      ...[...fields, '_ws.expert.message'].flatMap((f) => ['-e', f]),
    ]);
    const rows = out.trimEnd().split('\n');
    t.is(rows.length, ITEMS.length);
    rows.forEach((row, i) => {
      const { tsNs, fx } = ITEMS[i]!;
      const [time, src, dst, tcpPort, udpPort, expert = ''] = row.split('\t');
      const port = String(fx.srcPort);
      t.deepEqual(
        [time, src, dst, tcpPort, udpPort],
        [
          epoch(tsNs, res),
          fx.src,
          fx.dst,
          fx.proto === 'tcp' ? port : '',
          fx.proto === 'udp' ? port : '',
        ],
      );
      t.notRegex(expert, /checksum|malformed/i, `tshark complains about ${fx.name}`);
    });
  });
}

interop('svclab reads an Ethernet pcap written by text2pcap -e 0x800', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'dump.txt'), hexdump());
  const out = join(dir, 'eth.pcap');
  run(t, 'text2pcap', ['-F', 'pcap', '-e', '0x800', '-t', '%s.%f', join(dir, 'dump.txt'), out]);
  t.is(readPcap(new Uint8Array(readFileSync(out))).header?.linkType, LinkType.ETHERNET);
  assertSamePackets(t, out, 'us');
});

interop('svclab reads a nanosecond Ethernet pcap written by text2pcap -F nsecpcap', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'dump.txt'), hexdump());
  const out = join(dir, 'eth-ns.pcap');
  run(t, 'text2pcap', ['-F', 'nsecpcap', '-e', '0x800', '-t', '%s.%f', join(dir, 'dump.txt'), out]);
  assertSamePackets(t, out, 'ns');
});

interop('editcap converts svclab files between us and ns; svclab reads both', (t) => {
  const dir = tmp(t);
  const toNs = join(dir, 'to-ns.pcap');
  run(t, 'editcap', ['-F', 'nsecpcap', writeFile(dir, 'us'), toNs]);
  // us -> ns: timestamps stay floored to the microsecond, now in an ns file.
  const r = readPcap(new Uint8Array(readFileSync(toNs)));
  t.is(r.header?.resolution, 'ns');
  t.deepEqual(
    r.packets.map((p) => epoch(p.tsNs, 'ns')),
    ITEMS.map((x) => epoch(x.tsNs, 'us')),
  );
  const toUs = join(dir, 'to-us.pcap');
  run(t, 'editcap', ['-F', 'pcap', writeFile(dir, 'ns'), toUs]);
  assertSamePackets(t, toUs, 'us');
});

interop('a pcapng file is refused with a hint, and reads after editcap -F pcap', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'dump.txt'), hexdump());
  const ng = join(dir, 'eth.pcapng');
  run(t, 'text2pcap', ['-F', 'pcapng', '-e', '0x800', '-t', '%s.%f', join(dir, 'dump.txt'), ng]);
  const r = readPcap(new Uint8Array(readFileSync(ng)));
  t.deepEqual([r.header, r.packets.length], [undefined, 0]);
  t.regex(r.error ?? '', /^pcapng file .*editcap -F pcap/);
  const classic = join(dir, 'eth-from-ng.pcap');
  run(t, 'editcap', ['-F', 'pcap', ng, classic]);
  assertSamePackets(t, classic, 'us');
});
