import test from 'ava';
import { ipToU32 } from '../../src/packet/addr.ts';
import {
  TcpFlags,
  TcpReason,
  formatTcpFlags,
  tcpAck,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpValidate,
  tcpValidateWithChecksum,
} from '../../src/packet/tcp.ts';
import { emitTcpOptions, parseTcpOptions } from '../../src/packet/tcp-options.ts';
import { TcpRepr } from '../../src/packet/tcp-repr.ts';
import { FIXTURES, embed, hex, refL4Checksum, toHex } from './helpers.ts';

const SRC = ipToU32('10.0.0.1');
const DST = ipToU32('10.0.0.2');
const SYN_OPTIONS = '020405b40402080a1d22a95d000000000103030a';
const segment = () => hex(FIXTURES.tcpSyn).subarray(20);

test('TcpFlags are the RFC 9293 / RFC 3168 bits', (t) => {
  t.deepEqual(TcpFlags, { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 });
  t.is(formatTcpFlags(TcpFlags.SYN), 'S');
  t.is(formatTcpFlags(TcpFlags.SYN | TcpFlags.ACK), 'S.');
  t.is(formatTcpFlags(TcpFlags.PSH | TcpFlags.ACK), 'P.');
  t.is(formatTcpFlags(TcpFlags.FIN | TcpFlags.ACK), 'F.');
  t.is(formatTcpFlags(0), 'none');
});

test('SYN fixture: every field through the accessors and the Repr', (t) => {
  const s = segment();
  t.is(tcpValidate(s, 0, s.length), TcpReason.Ok);
  t.is(tcpValidateWithChecksum(s, 0, s.length, SRC, DST), TcpReason.Ok);
  t.is(tcpSrcPort(s, 0), 38320);
  t.is(tcpDstPort(s, 0), 8080);
  t.is(tcpSeq(s, 0), 0x161ead7f);
  t.is(tcpAck(s, 0), 0);
  t.is(s[12]! >>> 4, 10); // data offset in words
  t.is(tcpHeaderLen(s, 0), 40);
  t.is(tcpFlags(s, 0), TcpFlags.SYN);
  t.is((s[16]! << 8) | s[17]!, 0xf9ab);
  t.is(refL4Checksum(s, SRC, DST, 6, 16), 0xf9ab);
  const r = TcpRepr.parse(s, SRC, DST);
  if (!r.ok) return t.fail();
  t.like(r.value, { window: 64240, urgent: 0, flags: TcpFlags.SYN });
  t.is(toHex(r.value.options), SYN_OPTIONS);
  t.is(r.value.payload.length, 0);
});

test('SYN fixture: options decode to MSS, SACK-permitted, timestamps, NOP, window scale', (t) => {
  const opts = parseTcpOptions(hex(SYN_OPTIONS));
  t.deepEqual(opts, [
    { kind: 'mss', mss: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamp', tsVal: 0x1d22a95d, tsEcr: 0 },
    { kind: 'nop' },
    { kind: 'windowScale', shift: 10 },
  ]);
  t.is(toHex(emitTcpOptions(opts!)), SYN_OPTIONS);
});

test('options: SACK blocks, unknown kinds, EOL, malformed', (t) => {
  const sack = [
    { kind: 'nop' as const },
    { kind: 'nop' as const },
    {
      kind: 'sack' as const,
      blocks: [
        [1, 2],
        [0xfffffff0, 0x10],
      ] as Array<[number, number]>,
    },
    { kind: 'unknown' as const, type: 30, data: Uint8Array.of(9, 9) },
    { kind: 'eol' as const },
  ];
  const bytes = emitTcpOptions(sack);
  t.is(toHex(bytes), '01010512' + '0000000100000002' + 'fffffff000000010' + '1e040909' + '00');
  t.deepEqual(parseTcpOptions(Uint8Array.of(...bytes, 0, 0, 0)), sack); // padding after EOL
  for (const bad of [
    '02',
    '0201',
    '020500000000',
    '0203ffff',
    '030400',
    '0403',
    '080900',
    '05030000',
    '1e01',
  ]) {
    t.is(parseTcpOptions(hex(bad)), undefined, bad);
  }
});

test('SYN fixture: Repr parse then emit gives the same bytes', (t) => {
  const parsed = TcpRepr.parse(segment(), SRC, DST);
  if (!parsed.ok) return t.fail(`parse failed: ${parsed.reason}`);
  t.like(parsed.value, {
    srcPort: 38320,
    dstPort: 8080,
    seq: 0x161ead7f,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 64240,
    urgent: 0,
  });
  t.is(toHex(parsed.value.options), SYN_OPTIONS);
  t.is(TcpRepr.headerLength(parsed.value), 40);
  t.is(TcpRepr.bufferLength(parsed.value), 40);
  const out = new Uint8Array(40);
  TcpRepr.emit(parsed.value, out, SRC, DST);
  t.is(toHex(out), FIXTURES.tcpSyn.slice(40));
});

test('round trip at offset 37 of a 200-byte buffer, with payload', (t) => {
  const repr: TcpRepr = {
    srcPort: 80,
    dstPort: 40001,
    seq: 0xfffffff0,
    ack: 0x80000001,
    flags: TcpFlags.PSH | TcpFlags.ACK,
    window: 502,
    urgent: 0,
    options: hex('0101080a0000000100000002'),
    payload: new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'),
  };
  const seg = new Uint8Array(TcpRepr.bufferLength(repr));
  TcpRepr.emit(repr, seg, SRC, DST);
  const { buf, view } = embed(seg, 37, 200);
  t.is(tcpValidate(view, 0, view.length), TcpReason.Ok);
  t.is(new TextDecoder().decode(view.subarray(tcpHeaderLen(view, 0))), 'HTTP/1.1 200 OK\r\n\r\n');
  t.is(tcpValidateWithChecksum(buf, 37, seg.length, SRC, DST), TcpReason.Ok);
  t.is(tcpSrcPort(buf, 37), 80);
  t.is(tcpDstPort(buf, 37), 40001);
  t.is(tcpSeq(buf, 37), 0xfffffff0);
  t.is(tcpAck(buf, 37), 0x80000001);
  t.is(tcpHeaderLen(buf, 37), 32);
  t.is(tcpFlags(buf, 37), 0x18);
  const parsed = TcpRepr.parse(view, SRC, DST);
  if (!parsed.ok) return t.fail();
  t.deepEqual(parsed.value, repr);
  const out = new Uint8Array(200);
  TcpRepr.emit(parsed.value, out.subarray(37), SRC, DST);
  t.is(toHex(out.subarray(37, 37 + seg.length)), toHex(seg));
});

test('Repr emit writes every field; a changed field breaks the checksum', (t) => {
  const repr: TcpRepr = {
    srcPort: 1,
    dstPort: 65535,
    seq: 0xffffffff,
    ack: 7,
    flags: TcpFlags.RST | TcpFlags.ACK,
    window: 0,
    urgent: 3,
    options: new Uint8Array(0),
    payload: Uint8Array.of(1, 2, 3),
  };
  const seg = new Uint8Array(TcpRepr.bufferLength(repr));
  TcpRepr.emit(repr, seg, SRC, DST);
  t.is(toHex(seg.subarray(0, 16)), '0001ffffffffffff000000075014' + '0000');
  t.is(toHex(seg.subarray(18)), '0003010203');
  t.is((seg[16]! << 8) | seg[17]!, refL4Checksum(seg, SRC, DST, 6, 16));
  t.is(tcpValidateWithChecksum(seg, 0, seg.length, SRC, DST), TcpReason.Ok);
  const back = TcpRepr.parse(seg, SRC, DST);
  if (!back.ok) return t.fail();
  t.deepEqual(back.value, repr);
  seg[14] = 1; // the window, without the checksum
  t.is(tcpValidateWithChecksum(seg, 0, seg.length, SRC, DST), TcpReason.BadChecksum);
});

const REASONS: Array<[string, (s: Uint8Array) => Uint8Array, TcpReason]> = [
  ['Ok', (s) => s, TcpReason.Ok],
  ['Truncated: 19 bytes', (s) => s.subarray(0, 19), TcpReason.Truncated],
  ['Truncated: data offset 10 in 39 bytes', (s) => s.subarray(0, 39), TcpReason.Truncated],
  ['Truncated: data offset 15 in 40 bytes', (s) => ((s[12] = 0xf0), s), TcpReason.Truncated],
  ['DataOffsetTooSmall: 4', (s) => ((s[12] = 0x40), s), TcpReason.DataOffsetTooSmall],
  ['DataOffsetTooSmall: 0', (s) => ((s[12] = 0x00), s), TcpReason.DataOffsetTooSmall],
];

for (const [name, breakIt, reason] of REASONS) {
  test(`tcpValidate reason — ${name}`, (t) => {
    const s = breakIt(segment().slice());
    t.is(tcpValidate(s, 0, s.length), reason);
    const r = TcpRepr.parse(s, SRC, DST, false);
    t.is(r.ok ? TcpReason.Ok : r.reason, reason);
  });
}

test('tcp reason — BadChecksum (only when verifying)', (t) => {
  const s = segment().slice();
  s[30]! ^= 0x40;
  t.is(tcpValidate(s, 0, s.length), TcpReason.Ok);
  t.is(tcpValidateWithChecksum(s, 0, s.length, SRC, DST), TcpReason.BadChecksum);
  const r = TcpRepr.parse(s, SRC, DST);
  t.deepEqual(r, { ok: false, reason: TcpReason.BadChecksum });
  t.true(TcpRepr.parse(s, SRC, DST, false).ok);
  // The wrong pseudo-header also fails: the checksum binds the addresses.
  t.is(tcpValidateWithChecksum(segment(), 0, 40, SRC, DST + 1), TcpReason.BadChecksum);
});

test('emit pads options with EOL and refuses > 40 bytes of options', (t) => {
  const repr: TcpRepr = {
    srcPort: 1,
    dstPort: 2,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    urgent: 0,
    options: Uint8Array.of(2, 4, 5, 180, 1),
    payload: new Uint8Array(0),
  };
  const out = new Uint8Array(28);
  TcpRepr.emit(repr, out, SRC, DST);
  t.is(out[12], 7 << 4);
  t.is(toHex(out.subarray(20)), '020405b401000000');
  t.throws(
    () => TcpRepr.emit({ ...repr, options: new Uint8Array(41) }, new Uint8Array(80), SRC, DST),
    { instanceOf: RangeError },
  );
  t.throws(() => TcpRepr.emit(repr, new Uint8Array(27), SRC, DST), { instanceOf: RangeError });
});
