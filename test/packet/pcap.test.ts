import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  LinkType,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PcapWriter,
  encodePcapGlobalHeader,
} from '../../src/packet/pcap.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import { createPcapFileWriter, createPcapStreamWriter } from '../../src/packet/pcap-file.ts';
import { FIXTURES, buildPcap, concat, hex } from './pcap-fixtures.ts';

const SYN = FIXTURES[0]!.bytes;
const DNS = FIXTURES[1]!.bytes;
const DATA = FIXTURES[2]!.bytes;
const T0 = 1_700_000_000n * 1_000_000_000n;

function writeAll(
  res: 'us' | 'ns',
  items: readonly (readonly [bigint, Uint8Array])[],
  snaplen?: number,
): Uint8Array {
  const w = new PcapWriter(
    snaplen === undefined ? { resolution: res } : { resolution: res, snaplen },
  );
  for (const [ts, p] of items) w.write(ts, p);
  return w.toBytes();
}

const three = [
  [T0 + 42_000n, SYN],
  [T0 + 1_000_000_000n, DNS],
  [T0 + 999_999_000n, DATA],
] as const;

test('writer emits the exact bytes of a one-packet microsecond file', (t) => {
  const bytes = writeAll('us', [[T0 + 42_000n, SYN]]);
  const expected = concat(
    hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 65000000'),
    hex('00f15365 2a000000 28000000 28000000'),
    SYN,
  );
  t.deepEqual(bytes, expected);
});

test('nanosecond header carries the 0xa1b23c4d magic, little-endian', (t) => {
  const h = encodePcapGlobalHeader({ resolution: 'ns', snaplen: 65535, linkType: LinkType.IPV4 });
  t.deepEqual(h, hex('4d3cb2a1 0200 0400 00000000 00000000 ffff0000 e4000000'));
});

test('us round trip: header, data and timestamps come back', (t) => {
  const r = readPcap(writeAll('us', three));
  t.is(r.error, undefined);
  t.is(r.skipped, 0);
  t.like(r.header, {
    magic: PCAP_MAGIC_US,
    littleEndian: true,
    resolution: 'us',
    versionMajor: 2,
    versionMinor: 4,
    snaplen: 262144,
    linkType: LinkType.RAW,
    fcsLen: 0,
  });
  t.deepEqual(
    r.packets.map((p) => [p.tsNs, p.origLen, Buffer.from(p.data).toString('hex')]),
    three.map(([ts, p]) => [ts, p.length, Buffer.from(p).toString('hex')]),
  );
});

test('ns round trip keeps timestamps a microsecond file cannot hold', (t) => {
  const ts = [T0 + 123_456_789n, 1n, 4_294_967_295n * 1_000_000_000n + 999_999_999n];
  const items = ts.map((x, i) => [x, FIXTURES[i]!.bytes] as const);
  const ns = readPcap(writeAll('ns', items));
  t.is(ns.header?.magic, PCAP_MAGIC_NS);
  t.is(ns.header?.resolution, 'ns');
  t.deepEqual(
    ns.packets.map((p) => p.tsNs),
    ts,
  );
  // The same clock written at us resolution is floored to the microsecond.
  const us = readPcap(writeAll('us', items));
  t.deepEqual(
    us.packets.map((p) => p.tsNs),
    [T0 + 123_456_000n, 0n, 4_294_967_295n * 1_000_000_000n + 999_999_000n],
  );
});

test('writer rejects timestamps outside the u32-seconds range and bad options', (t) => {
  const w = new PcapWriter();
  t.throws(() => w.write(-1n, SYN), { instanceOf: RangeError });
  t.throws(() => w.write(4_294_967_296n * 1_000_000_000n, SYN), { instanceOf: RangeError });
  t.throws(() => new PcapWriter({ snaplen: 0 }), { instanceOf: RangeError });
  t.throws(() => new PcapWriter({ linkType: 70000 }), { instanceOf: RangeError });
  t.is(w.count, 0);
  t.is(w.byteLength, 24);
});

test('snaplen truncates stored bytes and origLen keeps the wire length', (t) => {
  const r = readPcap(writeAll('us', [[T0, DATA]], 40));
  t.is(r.header?.snaplen, 40);
  t.is(r.packets.length, 1);
  t.deepEqual(r.packets[0]!.data, DATA.subarray(0, 40));
  t.is(r.packets[0]!.origLen, DATA.length);
});

test('big-endian files (swapped magic) read the same, us and ns', (t) => {
  for (const [magic, frac, unit] of [
    [PCAP_MAGIC_US, 123_456, 1000n],
    [PCAP_MAGIC_NS, 123_456_789, 1n],
  ] as const) {
    const bytes = buildPcap({
      littleEndian: false,
      magic,
      linkType: LinkType.RAW,
      records: [
        { sec: 1_700_000_000, frac, data: SYN },
        { sec: 1_700_000_001, frac: 0, data: DNS },
      ],
    });
    t.deepEqual(bytes.subarray(0, 4), hex(magic === PCAP_MAGIC_US ? 'a1b2c3d4' : 'a1b23c4d'));
    const r = readPcap(bytes);
    t.is(r.error, undefined);
    t.is(r.header?.littleEndian, false);
    t.is(r.header?.snaplen, 65535);
    t.deepEqual(
      r.packets.map((p) => p.tsNs),
      [T0 + BigInt(frac) * unit, T0 + 1_000_000_000n],
    );
    t.deepEqual(r.packets[0]!.data, SYN);
    t.deepEqual(r.packets[1]!.data, DNS);
  }
});

test('packet data are zero-copy subarrays, also for input at a non-zero offset', (t) => {
  const file = writeAll('us', three);
  const big = new Uint8Array(file.length + 7);
  big.set(file, 5);
  const input = big.subarray(5, 5 + file.length);
  const r = readPcap(input);
  t.is(r.packets.length, 3);
  const p = r.packets[1]!;
  t.is(p.data.buffer, big.buffer);
  t.is(p.data.byteOffset, 5 + 24 + 16 + SYN.length + 16);
  t.is(p.offset, 24 + 16 + SYN.length);
  t.deepEqual(p.data, DNS);
});

test('truncated inputs return the packets before the cut and say where', (t) => {
  const file = writeAll('us', three);
  const r1 = readPcap(file.subarray(0, 10));
  t.is(r1.header, undefined);
  t.is(r1.error, 'truncated global header: 10 of 24 bytes');
  const cutHeader = 24 + 16 + SYN.length + 5;
  const r2 = readPcap(file.subarray(0, cutHeader));
  t.is(r2.packets.length, 1);
  t.is(r2.error, `truncated record header at offset ${24 + 16 + SYN.length}: 5 of 16 bytes`);
  const r3 = readPcap(file.subarray(0, file.length - 1));
  t.is(r3.packets.length, 2);
  t.regex(r3.error ?? '', /^truncated record data at offset \d+: record claims 53 bytes, 52 left$/);
  // A header-only file is complete, not an error.
  const r4 = readPcap(file.subarray(0, 24));
  t.deepEqual([r4.packets.length, r4.error], [0, undefined]);
});

test('bad magic, pcapng, odd versions and unknown link types are reported', (t) => {
  const garbage = hex('deadbeef' + '00'.repeat(40));
  t.is(readPcap(garbage).error, 'bad magic 0xdeadbeef at offset 0: not a pcap file');
  const ng = hex('0a0d0d0a 1c000000 4d3c2b1a' + '00'.repeat(20));
  t.regex(readPcap(ng).error ?? '', /^pcapng file \(magic 0x0a0d0d0a\).*editcap -F pcap/);
  const v3 = writeAll('us', []);
  v3[4] = 3;
  t.is(readPcap(v3).error, 'unsupported pcap version 3.4');
  const ppp = writeAll('us', [[T0, SYN]]);
  ppp[20] = 9;
  const r = readPcap(ppp);
  t.is(r.header?.linkType, 9);
  t.is(r.packets.length, 0);
  t.regex(r.error ?? '', /^unsupported link type 9 /);
});

const MACS = '02420af40105 02420af40001';
const ARP = hex(`${MACS} 0806 0001 0800 0604 0001 02420af40001 0af40101 000000000000 0af40105`);
const IPV6 = hex(`${MACS} 86dd 60000000 0000 3b40 ${'00'.repeat(32)}`);

test('Ethernet link type: header and VLAN tags stripped, non-IPv4 counted as skipped', (t) => {
  const frames = [
    concat(hex(`${MACS} 0800`), SYN),
    ARP,
    concat(hex(`${MACS} 8100 0064 0800`), DNS),
    IPV6,
    concat(hex(`${MACS} 88a8 0064 8100 00c8 0800`), DATA),
    hex(`${MACS} 8100 00`), // runt: tag cut short
    hex('0242'), // runt: no Ethernet header at all
  ];
  const bytes = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: LinkType.ETHERNET,
    records: frames.map((data, i) => ({ sec: 1_700_000_000 + i, frac: 0, data })),
  });
  const r = readPcap(bytes);
  t.is(r.error, undefined);
  t.is(r.skipped, 4);
  t.deepEqual(
    r.packets.map((p) => [p.tsNs, p.origLen]),
    [
      [T0, SYN.length],
      [T0 + 2_000_000_000n, DNS.length],
      [T0 + 4_000_000_000n, DATA.length],
    ],
  );
  t.deepEqual(r.packets[0]!.data, SYN);
  t.deepEqual(r.packets[1]!.data, DNS);
  t.deepEqual(r.packets[2]!.data, DATA);
});

test('Ethernet padding past the IPv4 total length is trimmed; raw IP is returned verbatim', (t) => {
  const padded = concat(hex(`${MACS} 0800`), SYN, new Uint8Array(6)); // 60-byte minimum frame
  const eth = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: LinkType.ETHERNET,
    records: [{ sec: 1, frac: 0, data: padded }],
  });
  const r = readPcap(eth);
  t.deepEqual(r.packets[0]!.data, SYN);
  t.is(r.packets[0]!.origLen, 40);
  const trailing = concat(SYN, hex('aabb'));
  const raw = readPcap(writeAll('us', [[T0, trailing]]));
  t.deepEqual(raw.packets[0]!.data, trailing);
  t.is(raw.packets[0]!.origLen, 42);
});

test('Ethernet FCS announced in the link-type field is trimmed', (t) => {
  const frame = concat(hex(`${MACS} 0800`), SYN, hex('11223344'));
  // F bit (26) set, FCS length 2 x 16-bit words in bits 28..31.
  const bytes = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: 0x24000001,
    records: [{ sec: 1, frac: 0, data: frame }],
  });
  const r = readPcap(bytes);
  t.deepEqual([r.header?.linkType, r.header?.fcsLen], [1, 4]);
  t.deepEqual(r.packets[0]!.data, SYN);
  t.is(r.packets[0]!.origLen, SYN.length);
});

test('Linux cooked captures (SLL and SLL2) and raw IPv6 are handled', (t) => {
  const sll = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: LinkType.LINUX_SLL,
    records: [
      { sec: 1, frac: 0, data: concat(hex('0000 0001 0006 02420af40105 0000 0800'), DNS) },
      { sec: 2, frac: 0, data: hex('0004 0001 0006 02420af40105 0000 0806 0001') },
    ],
  });
  const r1 = readPcap(sll);
  t.deepEqual([r1.packets.length, r1.skipped], [1, 1]);
  t.deepEqual(r1.packets[0]!.data, DNS);
  const sll2 = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: LinkType.LINUX_SLL2,
    records: [
      {
        sec: 1,
        frac: 0,
        data: concat(hex('0800 0000 00000002 0001 00 06 02420af40105 0000'), SYN),
      },
    ],
  });
  t.deepEqual(readPcap(sll2).packets[0]?.data, SYN);
  const raw = buildPcap({
    littleEndian: true,
    magic: PCAP_MAGIC_US,
    linkType: LinkType.RAW,
    records: [
      { sec: 1, frac: 0, data: IPV6.subarray(14) },
      { sec: 2, frac: 0, data: DATA },
    ],
  });
  const r3 = readPcap(raw);
  t.deepEqual([r3.packets.length, r3.skipped], [1, 1]);
  t.deepEqual(r3.packets[0]!.data, DATA);
});

function tmp(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-pcap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Bigger than the 64 KiB flush buffer, so the sinks' oversize path runs.
const JUMBO = new Uint8Array(100_000).map((_, i) => (i === 0 ? 0x45 : i & 0xff));

test('file writer produces the same bytes as the in-memory writer', (t) => {
  const path = join(tmp(t), 'out.pcap');
  const items = [...three, [T0 + 5n, JUMBO] as const];
  const sink = createPcapFileWriter(path, { resolution: 'ns' });
  for (const [ts, p] of items) sink.write(ts, p);
  t.is(sink.count, 4);
  sink.close();
  sink.close(); // idempotent
  t.throws(() => sink.write(T0, SYN), { message: 'pcap: write after close' });
  const onDisk = new Uint8Array(readFileSync(path));
  t.deepEqual(onDisk, writeAll('ns', items));
  t.is(readPcap(onDisk).packets.length, 4);
});

test('file writer rejects bad options before creating the file', (t) => {
  const path = join(tmp(t), 'bad.pcap');
  t.throws(() => createPcapFileWriter(path, { snaplen: -1 }), { instanceOf: RangeError });
  t.false(existsSync(path));
});

test('stream writer batches records into the stream and ends it on close', async (t) => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  const items = [...three, [T0 + 5n, JUMBO] as const, [T0 + 6n, SYN] as const];
  const sink = createPcapStreamWriter(stream, { snaplen: 70_000 });
  for (const [ts, p] of items) sink.write(ts, p);
  sink.close();
  await ended;
  const bytes = new Uint8Array(Buffer.concat(chunks));
  t.deepEqual(bytes, writeAll('us', items, 70_000));
  const r = readPcap(bytes);
  t.is(r.packets[3]!.data.length, 70_000);
  t.is(r.packets[3]!.origLen, 100_000);
});
