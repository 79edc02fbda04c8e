import test from 'ava';
import { ipToU32 } from '../../src/packet/addr.ts';
import {
  addrU32,
  buildIcmpEcho,
  buildRawIpv4,
  buildTcp,
  buildUdp,
} from '../../src/packet/build.ts';
import { Ipv4Repr } from '../../src/packet/ipv4-repr.ts';
import { ClassifyFlags, parsePacket } from '../../src/packet/parse.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { FIXTURES, hex, ipChecksum, refIpChecksum, toHex } from './helpers.ts';

test('buildTcp reproduces the captured Linux SYN byte for byte', (t) => {
  const pkt = buildTcp({
    src: '10.0.0.1',
    dst: '10.0.0.2',
    sport: 38320,
    dport: 8080,
    seq: 0x161ead7f,
    flags: TcpFlags.SYN,
    id: 0x67a7,
    options: [
      { kind: 'mss', mss: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamp', tsVal: 0x1d22a95d, tsEcr: 0 },
      { kind: 'nop' },
      { kind: 'windowScale', shift: 10 },
    ],
  });
  t.is(toHex(pkt), FIXTURES.tcpSyn); // defaults: TTL 64, DF, window 64240
});

test('buildUdp reproduces the captured DNS query byte for byte', (t) => {
  const fixture = hex(FIXTURES.dnsQuery);
  const pkt = buildUdp({
    src: '10.0.0.1',
    dst: '10.0.0.2',
    sport: 35521,
    dport: 53,
    id: 0x8676,
    payload: fixture.subarray(28),
  });
  t.is(toHex(pkt), FIXTURES.dnsQuery); // UDP default: DF clear
});

test('buildUdp with IP options reproduces the Record Route fixture', (t) => {
  const fixture = hex(FIXTURES.udpRecordRoute);
  const pkt = buildUdp({
    src: ipToU32('10.0.0.1'),
    dst: ipToU32('10.0.0.2'),
    sport: 34196,
    dport: 9,
    id: 0x94d8,
    df: true,
    ipOptions: fixture.subarray(20, 60),
    payload: new TextEncoder().encode('options'),
  });
  t.is(toHex(pkt), FIXTURES.udpRecordRoute);
});

test('built packets classify cleanly with checksums verified', (t) => {
  const tcp = buildTcp({
    src: '10.244.1.5',
    dst: '10.96.0.1',
    sport: 1,
    dport: 443,
    flags: TcpFlags.ACK,
    payload: new Uint8Array(1000),
    ttl: 3,
    dscp: 10,
    ecn: 1,
    urgent: 5,
    ack: 99,
    window: 1,
  });
  const info = parsePacket(tcp, ClassifyFlags.VERIFY_L4_CHECKSUM);
  t.like(info, { reason: 0, ttl: 3, sport: 1, dport: 443, tcpFlags: TcpFlags.ACK, l4Length: 1020 });
  const ip = Ipv4Repr.parse(tcp);
  t.like(ip, { ok: true, value: { dscp: 10, ecn: 1, dontFragment: true, ident: 0 } });
  t.is(ipChecksum(tcp), refIpChecksum(tcp));
  const udp = buildUdp({ src: 1, dst: 2, sport: 3, dport: 4, checksum: false, df: true });
  t.like(parsePacket(udp, ClassifyFlags.VERIFY_L4_CHECKSUM), { reason: 0, l4Length: 8 });
  t.is(udp[26], 0);
  t.like(Ipv4Repr.parse(udp), { ok: true, value: { dontFragment: true } });
  const echo = buildIcmpEcho({ src: 1, dst: 2, echoId: 3, seq: 4, reply: true });
  t.like(parsePacket(echo, ClassifyFlags.VERIFY_L4_CHECKSUM), {
    reason: 0,
    icmpType: 0,
    icmpId: 3,
  });
  const gre = buildRawIpv4({ src: 1, dst: 2, protocol: 47, payload: Uint8Array.of(0, 0, 8, 0) });
  t.is(toHex(gre.subarray(20)), '00000800');
  t.like(parsePacket(gre), { reason: 0, proto: 47 });
});

test('addresses: numbers pass through unsigned, strings are parsed strictly', (t) => {
  t.is(addrU32(-1), 0xffffffff);
  t.is(addrU32('10.96.0.10'), 0x0a60000a);
  t.throws(() => buildUdp({ src: '10.0.0.256', dst: 2, sport: 1, dport: 1 }), {
    message: /invalid IPv4 address/,
  });
});

test('a packet longer than 65535 bytes is refused', (t) => {
  t.throws(
    () => buildUdp({ src: 1, dst: 2, sport: 1, dport: 1, payload: new Uint8Array(65535 - 28 + 1) }),
    { instanceOf: RangeError },
  );
  t.is(
    buildUdp({ src: 1, dst: 2, sport: 1, dport: 1, payload: new Uint8Array(65535 - 28) }).length,
    65535,
  );
});
