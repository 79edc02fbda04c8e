import test from 'ava';
import * as dnsPacket from 'dns-packet';
import { ipToU32 } from '../../src/packet/addr.ts';
import { buildUdp } from '../../src/packet/build.ts';
import { checkIpv4 } from '../../src/packet/ipv4.ts';
import { Ipv4Repr } from '../../src/packet/ipv4-repr.ts';
import {
  UdpReason,
  UdpRepr,
  udpChecksum,
  udpDstPort,
  udpLength,
  udpSrcPort,
  udpValidate,
  udpValidateWithChecksum,
} from '../../src/packet/udp.ts';
import { FIXTURES, embed, hex, refL4Checksum, toHex } from './helpers.ts';

const SRC = ipToU32('10.0.0.1');
const DST = ipToU32('10.0.0.2');
const datagram = () => hex(FIXTURES.dnsQuery).subarray(20);

test('DNS query fixture: every UDP field, and the payload is the query dig sent', (t) => {
  const pkt = hex(FIXTURES.dnsQuery);
  t.true(checkIpv4(pkt).ok);
  const d = datagram();
  t.is(udpValidate(d, 0, d.length), UdpReason.Ok);
  t.is(udpSrcPort(d, 0), 35521);
  t.is(udpDstPort(d, 0), 53);
  t.is(udpLength(d, 0), 62);
  t.is(udpChecksum(d, 0), 0x38d4);
  t.is(udpValidateWithChecksum(d, 0, d.length, SRC, DST), UdpReason.Ok);
  t.is(refL4Checksum(d, SRC, DST, 17, 6), 0x38d4);
  const r = UdpRepr.parse(d, SRC, DST);
  if (!r.ok) return t.fail();
  t.is(r.value.payload.length, 54);
  const q = dnsPacket.decode(Buffer.from(r.value.payload));
  t.is(q.id, 0x659f);
  t.is(q.type, 'query');
  t.true(q.flag_rd);
  t.deepEqual(q.questions, [
    { name: 'kubernetes.default.svc.cluster.local', type: 'A', class: 'IN' },
  ]);
});

test('DNS query fixture: Repr parse then emit gives the same bytes (IP + UDP)', (t) => {
  const pkt = hex(FIXTURES.dnsQuery);
  const ip = Ipv4Repr.parse(pkt);
  if (!ip.ok) return t.fail();
  t.like(ip.value, {
    ident: 0x8676,
    dontFragment: false,
    ttl: 64,
    protocol: 17,
    payloadLength: 62,
  });
  const udp = UdpRepr.parse(pkt.subarray(20), ip.value.src, ip.value.dst);
  if (!udp.ok) return t.fail(`udp: ${udp.reason}`);
  t.is(udp.value.srcPort, 35521);
  t.is(udp.value.dstPort, 53);
  t.is(UdpRepr.bufferLength(udp.value), 62);
  const out = new Uint8Array(Ipv4Repr.bufferLength(ip.value));
  Ipv4Repr.emit(ip.value, out);
  UdpRepr.emit(udp.value, out.subarray(20), ip.value.src, ip.value.dst);
  t.is(toHex(out), FIXTURES.dnsQuery);
});

test('a DNS query built with dns-packet goes through buildUdp and back', (t) => {
  const query = dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'my-service-1.default.svc.cluster.local' }],
  });
  const pkt = buildUdp({
    src: '10.244.1.5',
    dst: '10.96.0.10',
    sport: 51000,
    dport: 53,
    payload: query,
    id: 9,
  });
  t.true(checkIpv4(pkt).ok);
  const udp = UdpRepr.parse(pkt.subarray(20), ipToU32('10.244.1.5'), ipToU32('10.96.0.10'));
  if (!udp.ok) return t.fail();
  const back = dnsPacket.decode(Buffer.from(udp.value.payload));
  t.is(back.id, 4242);
  t.is(back.questions?.[0]?.name, 'my-service-1.default.svc.cluster.local');
});

test('round trip at offset 37 of a 200-byte buffer', (t) => {
  const d = datagram();
  const { buf, view } = embed(d, 37, 200);
  t.is(udpValidateWithChecksum(buf, 37, 62, SRC, DST), UdpReason.Ok);
  t.is(udpSrcPort(buf, 37), 35521);
  t.is(udpDstPort(buf, 37), 53);
  t.is(udpLength(buf, 37), 62);
  t.is(udpChecksum(buf, 37), 0x38d4);
  const parsed = UdpRepr.parse(view, SRC, DST);
  if (!parsed.ok) return t.fail();
  const out = new Uint8Array(200).fill(7);
  UdpRepr.emit(parsed.value, out.subarray(37), SRC, DST);
  t.is(toHex(out.subarray(37, 99)), toHex(d));
  t.is(out[36], 7);
  t.is(out[99], 7);
});

// NAT keeping a 0 checksum 0 is tested in nat.test.ts.
test('checksum 0 means none: accepted, emitted on request', (t) => {
  const d = datagram().slice();
  d[6] = 0;
  d[7] = 0;
  t.is(udpValidateWithChecksum(d, 0, d.length, SRC, DST), UdpReason.Ok);
  t.true(UdpRepr.parse(d, SRC, DST).ok);
  const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: Uint8Array.of(1, 2, 3) };
  const out = new Uint8Array(11);
  UdpRepr.emit(repr, out, SRC, DST, false);
  t.is(toHex(out), '00010002000b0000010203');
  t.is(out[6], 0);
  t.is(out[7], 0);
  t.is(out[5], 11);
});

test('a computed checksum of 0 is sent as 0xffff (RFC 768)', (t) => {
  // Find a payload word that makes the sum come out to exactly 0xffff (checksum 0).
  const base: UdpRepr = { srcPort: 1000, dstPort: 2000, payload: new Uint8Array(2) };
  const out = new Uint8Array(10);
  UdpRepr.emit(base, out, SRC, DST);
  const c = (out[6]! << 8) | out[7]!;
  // Adding c to the payload word lowers the checksum by c: the result is 0 -> 0xffff.
  base.payload = Uint8Array.of(c >>> 8, c & 0xff);
  UdpRepr.emit(base, out, SRC, DST);
  t.is(udpChecksum(out, 0), 0xffff);
  t.is(refL4Checksum(out, SRC, DST, 17, 6), 0); // the raw one's-complement result
  t.is(udpValidateWithChecksum(out, 0, out.length, SRC, DST), UdpReason.Ok);
});

test('the payload ends where Length says, not where the IP payload does', (t) => {
  const d = datagram().slice();
  d[4] = 0;
  d[5] = 9;
  t.is(udpLength(d, 0), 9);
  const r = UdpRepr.parse(d, SRC, DST, false);
  t.true(r.ok && r.value.payload.length === 1);
});

const REASONS: Array<[string, (d: Uint8Array) => Uint8Array, UdpReason]> = [
  ['Ok', (d) => d, UdpReason.Ok],
  [
    'Ok: Length shorter than the IP payload (trailing bytes, Linux trims)',
    (d) => ((d[5] = 61), d),
    UdpReason.Ok,
  ],
  ['Truncated: 7 bytes', (d) => d.subarray(0, 7), UdpReason.Truncated],
  ['Truncated: empty', () => new Uint8Array(0), UdpReason.Truncated],
  [
    'LengthMismatch: Length beyond the IP payload',
    (d) => d.subarray(0, 61),
    UdpReason.LengthMismatch,
  ],
  ['LengthMismatch: Length 7', (d) => ((d[4] = 0), (d[5] = 7), d), UdpReason.LengthMismatch],
  ['LengthMismatch: Length 0', (d) => ((d[4] = 0), (d[5] = 0), d), UdpReason.LengthMismatch],
];

for (const [name, breakIt, reason] of REASONS) {
  test(`udpValidate reason — ${name}`, (t) => {
    const d = breakIt(datagram().slice());
    t.is(udpValidate(d, 0, d.length), reason);
    const r = UdpRepr.parse(d, SRC, DST, false);
    t.is(r.ok ? UdpReason.Ok : r.reason, reason);
  });
}

test('udp reason — BadChecksum (non-zero and wrong, only when verifying)', (t) => {
  const d = datagram().slice();
  d[20]! ^= 1;
  t.is(udpValidate(d, 0, d.length), UdpReason.Ok);
  t.is(udpValidateWithChecksum(d, 0, d.length, SRC, DST), UdpReason.BadChecksum);
  t.deepEqual(UdpRepr.parse(d, SRC, DST), { ok: false, reason: UdpReason.BadChecksum });
});
