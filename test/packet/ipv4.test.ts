import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ipToU32, u32ToIp } from '../../src/packet/addr.ts';
import {
  IpProto,
  Ipv4Reason,
  checkIpv4,
  ipv4DecTtlWithChecksum,
  ipv4Dst,
  ipv4FillChecksum,
  ipv4FragOffset,
  ipv4HeaderLen,
  ipv4Ihl,
  ipv4IsFragment,
  ipv4Protocol,
  ipv4SetDstWithChecksum,
  ipv4SetSrcWithChecksum,
  ipv4SetTotalLenWithChecksum,
  ipv4SetTtlWithChecksum,
  ipv4Src,
  ipv4TotalLen,
  ipv4Validate,
} from '../../src/packet/ipv4.ts';
import { Ipv4Repr } from '../../src/packet/ipv4-repr.ts';
import { FIXTURES, embed, hex, ipChecksum, refIpChecksum, setIpv4, toHex } from './helpers.ts';

const RR_OPTION =
  '0727080a000001000000000000000000000000000000000000000000000000000000000000000000';

/** Every field of the Record Route fixture at b[off], through the accessors and the Repr. */
function checkRecordRouteFields(t: ExecutionContext, b: Uint8Array, off: number): void {
  t.is(b[off]! >>> 4, 4);
  t.is(ipv4Ihl(b, off), 15);
  t.is(ipv4HeaderLen(b, off), 60);
  t.is(ipv4TotalLen(b, off), 75);
  t.false(ipv4IsFragment(b, off));
  t.is(ipv4FragOffset(b, off), 0);
  t.is(b[off + 6]! & 0x80, 0); // the reserved flag
  t.is(ipv4Protocol(b, off), IpProto.UDP);
  t.is(ipChecksum(b, off), 0x7796);
  t.is(u32ToIp(ipv4Src(b, off)), '10.0.0.1');
  t.is(u32ToIp(ipv4Dst(b, off)), '10.0.0.2');
  const parsed = Ipv4Repr.parse(b.subarray(off, off + 75));
  if (!parsed.ok) return t.fail(`parse failed: ${parsed.reason}`);
  t.like(parsed.value, {
    dscp: 0,
    ecn: 0,
    ident: 0x94d8,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    payloadLength: 15,
  });
  // Record Route: type 7, length 39, pointer 8 (one slot used: the kernel put 10.0.0.1).
  t.is(toHex(parsed.value.options), RR_OPTION);
  t.is(toHex(b.subarray(off + 60, off + 75)), '85940009000f9fe76f7074696f6e73');
}

test('fixture with options (Record Route, IHL 15): every field', (t) => {
  const pkt = hex(FIXTURES.udpRecordRoute);
  t.is(pkt.length, 75);
  t.deepEqual(checkIpv4(pkt), { ok: true, reason: Ipv4Reason.Ok, fragment: false });
  checkRecordRouteFields(t, pkt, 0);
  t.is(refIpChecksum(pkt), 0x7796);
});

test('fixture with options: Repr parse then emit gives the same bytes', (t) => {
  const pkt = hex(FIXTURES.udpRecordRoute);
  const parsed = Ipv4Repr.parse(pkt);
  if (!parsed.ok) return t.fail(`parse failed: ${parsed.reason}`);
  const r = parsed.value;
  t.like(r, {
    src: ipToU32('10.0.0.1'),
    dst: ipToU32('10.0.0.2'),
    protocol: 17,
    ttl: 64,
    ident: 0x94d8,
    dscp: 0,
    ecn: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    payloadLength: 15,
  });
  t.is(toHex(r.options), RR_OPTION);
  t.is(Ipv4Repr.headerLength(r), 60);
  t.is(Ipv4Repr.bufferLength(r), 75);
  const out = new Uint8Array(Ipv4Repr.bufferLength(r));
  Ipv4Repr.emit(r, out);
  out.set(pkt.subarray(60), 60);
  t.is(toHex(out), FIXTURES.udpRecordRoute);
});

test('fixture without options (the SYN): Repr round trip', (t) => {
  const pkt = hex(FIXTURES.tcpSyn);
  const parsed = Ipv4Repr.parse(pkt);
  if (!parsed.ok) return t.fail();
  t.like(parsed.value, { ident: 0x67a7, dontFragment: true, protocol: 6, payloadLength: 40 });
  t.is(parsed.value.options.length, 0);
  const out = new Uint8Array(20);
  Ipv4Repr.emit(parsed.value, out);
  t.is(toHex(out), FIXTURES.tcpSyn.slice(0, 40));
});

test('round trip at offset 37 of a 200-byte buffer', (t) => {
  const pkt = hex(FIXTURES.udpRecordRoute);
  const { buf, view } = embed(pkt, 37, 200);
  t.is(view.byteOffset, 37);
  t.is(checkIpv4(view).ok, true);
  checkRecordRouteFields(t, buf, 37);
  // The functions over (buffer, offset) see the same packet.
  t.is(ipv4Validate(buf, 37, 75), Ipv4Reason.Ok);
  t.is(checkIpv4(buf, 37, 75).ok, true);
  t.is(ipv4HeaderLen(buf, 37), 60);
  t.is(ipv4TotalLen(buf, 37), 75);
  t.is(ipv4Protocol(buf, 37), 17);
  t.is(u32ToIp(ipv4Src(buf, 37)), '10.0.0.1');
  t.is(u32ToIp(ipv4Dst(buf, 37)), '10.0.0.2');
  // Emit back into the middle of another large buffer: bytes around it untouched.
  const parsed = Ipv4Repr.parse(view);
  if (!parsed.ok) return t.fail();
  const out = new Uint8Array(200).fill(0xab);
  Ipv4Repr.emit(parsed.value, out.subarray(37));
  t.is(toHex(out.subarray(37, 97)), FIXTURES.udpRecordRoute.slice(0, 120));
  t.is(out[36], 0xab);
  t.is(out[97], 0xab);
  // Writes at an offset land at that offset of the big buffer.
  ipv4SetDstWithChecksum(buf, 37, ipToU32('10.96.0.10'));
  t.is(u32ToIp(ipv4Dst(buf, 37)), '10.96.0.10');
  t.is(buf[36], 0xee);
  t.is(ipv4Validate(buf, 37, 75), Ipv4Reason.Ok);
});

test('Repr emit writes every field', (t) => {
  const repr: Ipv4Repr = {
    src: ipToU32('192.168.1.200'),
    dst: 0xffffffff,
    protocol: 17,
    ttl: 7,
    ident: 0xbeef,
    dscp: 46,
    ecn: 2,
    dontFragment: false,
    moreFragments: true,
    fragmentOffset: 1480,
    options: new Uint8Array(0),
    payloadLength: 24,
  };
  const pkt = new Uint8Array(44);
  Ipv4Repr.emit(repr, pkt);
  t.is(
    toHex(pkt.subarray(0, 20)),
    `45ba002cbeef20b90711${toHex(pkt.subarray(10, 12))}c0a801c8ffffffff`,
  );
  t.is(pkt[1], (46 << 2) | 2);
  t.is(toHex(pkt.subarray(6, 8)), '20b9'); // MF + 1480/8 = 185
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  t.true(ipv4IsFragment(pkt, 0));
  t.is(ipv4FragOffset(pkt, 0), 185); // in 8-byte units
  const back = Ipv4Repr.parse(pkt);
  if (!back.ok) return t.fail();
  t.deepEqual(back.value, repr);
  // DF alone, no offset.
  Ipv4Repr.emit({ ...repr, dontFragment: true, moreFragments: false, fragmentOffset: 0 }, pkt);
  t.is(toHex(pkt.subarray(6, 8)), '4000');
  t.false(ipv4IsFragment(pkt, 0));
});

test('checksum-updating setters keep the header checksum equal to a recomputation', (t) => {
  const pkt = hex(FIXTURES.udpRecordRoute); // with options: the sum covers them too
  ipv4SetSrcWithChecksum(pkt, 0, ipToU32('10.244.1.7'));
  t.is(ipv4Src(pkt, 0), ipToU32('10.244.1.7'));
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  ipv4SetDstWithChecksum(pkt, 0, ipToU32('255.254.253.252'));
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  ipv4SetTotalLenWithChecksum(pkt, 0, 70);
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  ipv4SetTtlWithChecksum(pkt, 0, 1);
  t.is(pkt[8], 1);
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  ipv4SetSrcWithChecksum(pkt, 0, 1);
  ipv4SetDstWithChecksum(pkt, 0, 2);
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  // Building: ipv4FillChecksum recomputes it from scratch over the options too.
  pkt[10] = 0x12;
  pkt[11] = 0x34;
  ipv4FillChecksum(pkt, 0);
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  t.is(ipv4Validate(pkt, 0, 70), Ipv4Reason.Ok);
});

test('decTtlWithChecksum: 64 -> 63 with a right checksum; TTL 1 and 0 expire untouched', (t) => {
  const pkt = hex(FIXTURES.tcpSyn);
  t.is(ipv4DecTtlWithChecksum(pkt, 0), 63);
  t.is(pkt[8], 63);
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  for (const ttl of [1, 0]) {
    const p = hex(FIXTURES.tcpSyn);
    ipv4SetTtlWithChecksum(p, 0, ttl);
    const before = toHex(p);
    t.is(ipv4DecTtlWithChecksum(p, 0), 0);
    t.is(toHex(p), before);
  }
});

/** One row per reason: how to break the SYN fixture, and what the check must say. */
const REASONS: Array<[string, (p: Uint8Array) => Uint8Array, Ipv4Reason]> = [
  ['Ok', (p) => p, Ipv4Reason.Ok],
  ['Truncated: fewer than 20 bytes', (p) => p.subarray(0, 19), Ipv4Reason.Truncated],
  ['Truncated: empty', () => new Uint8Array(0), Ipv4Reason.Truncated],
  [
    'Truncated: IHL 15 but 40 bytes',
    () => hex(FIXTURES.udpRecordRoute).subarray(0, 40),
    Ipv4Reason.Truncated,
  ],
  ['BadVersion: 6', (p) => ((p[0] = 0x65), p), Ipv4Reason.BadVersion],
  ['BadVersion: 0', (p) => ((p[0] = 0x05), p), Ipv4Reason.BadVersion],
  ['BadIhl: 4', (p) => ((p[0] = 0x44), p), Ipv4Reason.BadIhl],
  ['BadIhl: 0', (p) => ((p[0] = 0x40), p), Ipv4Reason.BadIhl],
  ['BadHeaderChecksum', (p) => ((p[11]! ^= 1), p), Ipv4Reason.BadHeaderChecksum],
  ['BadHeaderChecksum: TTL changed alone', (p) => ((p[8] = 1), p), Ipv4Reason.BadHeaderChecksum],
  [
    'TotalLengthBeyondBuffer: tail cut off',
    (p) => p.subarray(0, 59),
    Ipv4Reason.TotalLengthBeyondBuffer,
  ],
  [
    'TotalLengthBeyondBuffer: length 61 in 60 bytes',
    (p) => (ipv4SetTotalLenWithChecksum(p, 0, 61), p),
    Ipv4Reason.TotalLengthBeyondBuffer,
  ],
  [
    'TotalLengthTooSmall: 19',
    (p) => (ipv4SetTotalLenWithChecksum(p, 0, 19), p),
    Ipv4Reason.TotalLengthTooSmall,
  ],
];

for (const [name, breakIt, reason] of REASONS) {
  test(`checkIpv4 reason — ${name}`, (t) => {
    const p = breakIt(hex(FIXTURES.tcpSyn));
    const c = checkIpv4(p);
    t.is(c.reason, reason);
    t.is(c.ok, reason === Ipv4Reason.Ok);
    t.is(ipv4Validate(p, 0, p.length), reason);
    t.is(Ipv4Repr.parse(p).ok, reason === Ipv4Reason.Ok);
    const r = Ipv4Repr.parse(p);
    if (!r.ok) t.is(r.reason, reason);
  });
}

test('trailing bytes beyond Total Length (e.g. Ethernet padding) are allowed', (t) => {
  const { view } = embed(hex(FIXTURES.tcpSyn), 0, 80);
  const padded = view.buffer.slice(0, 64);
  const c = checkIpv4(new Uint8Array(padded));
  t.true(c.ok);
  const r = Ipv4Repr.parse(new Uint8Array(padded));
  t.true(r.ok && r.value.payloadLength === 40);
});

test('fragment flag: MF set, or offset non-zero', (t) => {
  const mf = hex(FIXTURES.tcpSyn);
  setIpv4(mf, { moreFragments: true });
  t.deepEqual(checkIpv4(mf), { ok: true, reason: Ipv4Reason.Ok, fragment: true });
  t.true(ipv4IsFragment(mf, 0));
  const later = hex(FIXTURES.tcpSyn);
  setIpv4(later, { fragmentOffset: 8 });
  t.true(checkIpv4(later).fragment);
  const df = hex(FIXTURES.tcpSyn); // DF alone is not a fragment
  t.false(checkIpv4(df).fragment);
  t.false(ipv4IsFragment(df, 0));
});

test('checkIpv4 returns shared frozen results (no allocation per packet)', (t) => {
  const a = checkIpv4(hex(FIXTURES.tcpSyn));
  const b = checkIpv4(hex(FIXTURES.dnsQuery));
  t.is(a, b);
  t.true(Object.isFrozen(a));
});

test('Repr emit refuses options longer than 40 bytes and short buffers', (t) => {
  const parsed = Ipv4Repr.parse(hex(FIXTURES.tcpSyn));
  if (!parsed.ok) return t.fail();
  t.throws(
    () => Ipv4Repr.emit({ ...parsed.value, options: new Uint8Array(44) }, new Uint8Array(100)),
    {
      instanceOf: RangeError,
    },
  );
  t.throws(() => Ipv4Repr.emit(parsed.value, new Uint8Array(19)), { instanceOf: RangeError });
  // Options are padded to a multiple of 4 with End of Option List.
  const out = new Uint8Array(24);
  Ipv4Repr.emit({ ...parsed.value, options: Uint8Array.of(1, 1, 1) }, out);
  t.is(out[0], 0x46);
  t.is(toHex(out.subarray(20)), '01010100');
  t.is(checkIpv4(out, 0, 24).reason, Ipv4Reason.TotalLengthBeyondBuffer); // payloadLength 40 > 0
});
