import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAll } from '../../src/cli/run.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import { LINKTYPE_LINUX_SLL2 } from '../../src/sim/capture.ts';

test('--pcap writes every link of the run, links told apart by SLL2 interface index', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-cap-'));
  const file = join(dir, 'np.pcap');
  try {
    const reports = await runAll(['scenarios/seed/03-nodeport.yaml'], { pcap: file });
    t.deepEqual(reports[0]?.failures, []);
    const r = readPcap(readFileSync(file));
    t.is(r.error, undefined);
    t.is(r.header?.linkType, LINKTYPE_LINUX_SLL2);
    t.true(r.packets.length > 50, `${r.packets.length} packets`);
    const raw = readFileSync(file);
    // Each record: 16-byte record header, then the 20-byte SLL2 header (ifindex at +4).
    const indexes = new Set<number>();
    let off = 24;
    while (off + 16 <= raw.length) {
      const incl = raw.readUInt32LE(off + 8);
      indexes.add(raw.readUInt32BE(off + 16 + 4));
      off += 16 + incl;
    }
    t.true(indexes.size >= 6, `links seen: ${[...indexes].join(',')}`);
    // The payload after the SLL2 header is the IPv4 packet the reader returns.
    t.is(r.packets[0]!.data[0]! >> 4, 4);
    const tshark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'sll.ifindex'], {
      encoding: 'utf8',
    });
    if (tshark.error === undefined && tshark.status === 0) {
      const seen = new Set(tshark.stdout.trim().split('\n'));
      t.is(tshark.stdout.trim().split('\n').length, r.packets.length, 'tshark reads every packet');
      t.is(seen.size, indexes.size, 'tshark sees the same interface indexes');
    } else t.log('tshark not available: only svclab reads the capture');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
