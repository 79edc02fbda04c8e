import test from 'ava';
import { ipToU32, u32ToIp } from '../../src/packet/addr.ts';
import { buildIcmp, buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import {
  DestUnreachableCode,
  IcmpReason,
  IcmpType,
  TimeExceededCode,
  icmpCode,
  icmpEchoIdent,
  icmpEchoSeq,
  icmpFillChecksum,
  icmpIsError,
  icmpType,
  icmpValidate,
  icmpValidateWithChecksum,
} from '../../src/packet/icmp.ts';
import {
  ICMP_ERROR_MAX_LEN,
  buildIcmpError,
  buildPortUnreachable,
  buildTimeExceeded,
  mayReplyWithIcmpError,
} from '../../src/packet/icmp-error.ts';
import { IcmpRepr } from '../../src/packet/icmp-repr.ts';
import { Ipv4Reason, checkIpv4, ipv4Dst } from '../../src/packet/ipv4.ts';
import { Ipv4Repr } from '../../src/packet/ipv4-repr.ts';
import { NatResult, natRewriteIcmpEchoId } from '../../src/packet/nat.ts';
import { UdpRepr, udpDstPort, udpSrcPort } from '../../src/packet/udp.ts';
import { FIXTURES, embed, hex, ipChecksum, refChecksum, setIpv4, toHex } from './helpers.ts';

const message = () => hex(FIXTURES.icmpPortUnreachable).subarray(20);

test('port unreachable fixture: every field, and the quoted UDP packet', (t) => {
  const pkt = hex(FIXTURES.icmpPortUnreachable);
  t.true(checkIpv4(pkt).ok);
  const ip = Ipv4Repr.parse(pkt);
  if (!ip.ok) return t.fail();
  t.like(ip.value, {
    dscp: 0x30,
    ecn: 0,
    payloadLength: 48,
    ident: 0xd84d,
    dontFragment: false,
    ttl: 64,
    protocol: 1,
  });
  t.is(u32ToIp(ip.value.src), '10.0.0.1');
  t.is(u32ToIp(ip.value.dst), '10.0.0.2');
  const m = message();
  t.is(icmpValidateWithChecksum(m, 0, m.length), IcmpReason.Ok);
  t.is(icmpType(m, 0), IcmpType.DEST_UNREACHABLE);
  t.is(icmpCode(m, 0), DestUnreachableCode.PORT);
  t.is((m[2]! << 8) | m[3]!, 0x1125);
  t.is(toHex(m.subarray(4, 8)), '00000000'); // unused, next-hop MTU 0
  t.true(icmpIsError(icmpType(m, 0)));
  t.is(refChecksum([...m]), 0); // the whole message sums to all ones
  // Linux quotes the whole offending datagram (well under 576 bytes).
  const quoted = m.subarray(8);
  t.is(toHex(quoted), FIXTURES.udpProbe);
  const inner = Ipv4Repr.parse(quoted);
  if (!inner.ok) return t.fail();
  t.is(u32ToIp(inner.value.src), '10.0.0.2');
  t.is(u32ToIp(inner.value.dst), '10.0.0.1');
  const udp = UdpRepr.parse(quoted.subarray(20), inner.value.src, inner.value.dst);
  if (!udp.ok) return t.fail();
  t.is(udpSrcPort(quoted, 20), 53000);
  t.is(udpDstPort(quoted, 20), 33434);
  t.is(new TextDecoder().decode(udp.value.payload), 'svclab-probe');
});

test('port unreachable fixture: Repr parse then emit gives the same bytes', (t) => {
  const pkt = hex(FIXTURES.icmpPortUnreachable);
  const ip = Ipv4Repr.parse(pkt);
  const icmp = IcmpRepr.parse(pkt.subarray(20));
  if (!ip.ok || !icmp.ok) return t.fail();
  t.deepEqual(icmp.value, {
    kind: 'destUnreachable',
    code: 3,
    nextHopMtu: 0,
    data: hex(FIXTURES.udpProbe),
  });
  const out = new Uint8Array(Ipv4Repr.bufferLength(ip.value));
  Ipv4Repr.emit(ip.value, out);
  IcmpRepr.emit(icmp.value, out.subarray(20));
  t.is(toHex(out), FIXTURES.icmpPortUnreachable);
  t.is(IcmpRepr.bufferLength(icmp.value), 48);
});

test('buildPortUnreachable reproduces the Linux kernel reply byte for byte', (t) => {
  // Only the IP Identification is the kernel's own choice; everything else follows icmp_send().
  const reply = buildPortUnreachable(hex(FIXTURES.udpProbe), { src: '10.0.0.1', id: 0xd84d });
  t.is(toHex(reply), FIXTURES.icmpPortUnreachable);
});

test('RFC 792 quoting: the IP header and the first 8 bytes of its payload', (t) => {
  const reply = buildPortUnreachable(hex(FIXTURES.udpRecordRoute), {
    src: '10.0.0.2',
    quote: 'rfc792',
  });
  const icmp = IcmpRepr.parse(reply.subarray(20));
  if (!icmp.ok) return t.fail();
  t.is(icmp.value.data.length, 60 + 8); // the offender carries 40 bytes of IP options
  t.is(toHex(icmp.value.data), FIXTURES.udpRecordRoute.slice(0, 136));
  t.is(u32ToIp(ipv4Dst(reply, 0)), '10.0.0.1');
});

test('Linux quoting stops at 576 bytes in all; TOS is (tos & 0x1e) | 0xc0', (t) => {
  const big = buildUdp({
    src: '10.244.1.5',
    dst: '10.96.0.10',
    sport: 1,
    dport: 2,
    payload: new Uint8Array(1400),
    dscp: 0xb8 >>> 2,
  });
  const reply = buildPortUnreachable(big, { src: '10.0.100.11' });
  t.is(reply.length, ICMP_ERROR_MAX_LEN);
  t.is(reply[1], (0xb8 & 0x1e) | 0xc0);
  t.is(toHex(reply.subarray(28)), toHex(big.subarray(0, 548)));
  t.true(checkIpv4(reply).ok);
  t.is(icmpValidateWithChecksum(reply, 20, reply.length - 20), IcmpReason.Ok);
});

test('time exceeded: from the router, quoting the expired packet', (t) => {
  const syn = hex(FIXTURES.tcpSyn);
  const reply = buildTimeExceeded(syn, { src: '10.0.100.10', ttl: 255, id: 1 });
  const ip = Ipv4Repr.parse(reply);
  if (!ip.ok) return t.fail();
  t.like(ip.value, { ttl: 255, ident: 1, protocol: 1 });
  t.is(u32ToIp(ip.value.src), '10.0.100.10');
  t.is(u32ToIp(ip.value.dst), '10.0.0.1');
  const icmp = IcmpRepr.parse(reply.subarray(20));
  if (!icmp.ok) return t.fail();
  t.deepEqual(icmp.value, { kind: 'timeExceeded', code: TimeExceededCode.TTL, data: syn });
  t.is(icmpType(reply, 20), 11);
  t.is(icmpCode(reply, 20), 0);
});

test('buildIcmpError: fragmentation needed carries the next-hop MTU; other types keep rest', (t) => {
  const syn = hex(FIXTURES.tcpSyn);
  const frag = buildIcmpError(
    syn,
    IcmpType.DEST_UNREACHABLE,
    DestUnreachableCode.FRAG_NEEDED,
    { src: 1 },
    1450,
  );
  const f = IcmpRepr.parse(frag.subarray(20));
  t.true(f.ok && f.value.kind === 'destUnreachable' && f.value.nextHopMtu === 1450);
  const param = buildIcmpError(syn, IcmpType.PARAMETER_PROBLEM, 0, { src: 1 }, 0x08000000);
  const p = IcmpRepr.parse(param.subarray(20));
  if (!p.ok) return t.fail();
  t.like(p.value, { kind: 'other', type: 12, code: 0, rest: 0x08000000 });
});

test('echo request/reply: build, parse, emit, at offset 37', (t) => {
  const data = new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi');
  const req = buildIcmpEcho({
    src: '10.244.1.5',
    dst: '10.96.0.10',
    echoId: 0x1c2b,
    seq: 1,
    data,
    id: 0x4242,
  });
  t.is(req.length, 20 + 8 + 32);
  t.true(checkIpv4(req).ok);
  t.is(refChecksum([...req.subarray(20)]), 0);
  const { buf, view } = embed(req.subarray(20), 37, 200);
  t.is(icmpValidateWithChecksum(buf, 37, 40), IcmpReason.Ok);
  t.is(icmpType(buf, 37), IcmpType.ECHO_REQUEST);
  t.is(icmpEchoIdent(buf, 37), 0x1c2b);
  t.is(icmpEchoSeq(buf, 37), 1);
  const parsed = IcmpRepr.parse(view);
  if (!parsed.ok) return t.fail();
  t.deepEqual(parsed.value, { kind: 'echoRequest', ident: 0x1c2b, seqNo: 1, data });
  const out = new Uint8Array(200);
  IcmpRepr.emit({ kind: 'echoReply', ident: 0x1c2b, seqNo: 1, data }, out.subarray(37));
  t.is(icmpType(out, 37), IcmpType.ECHO_REPLY);
  t.is(icmpEchoIdent(out, 37), 0x1c2b);
  t.is(icmpEchoSeq(out, 37), 1);
  t.is(icmpValidateWithChecksum(out, 37, 40), IcmpReason.Ok);
  t.is(toHex(out.subarray(45, 77)), toHex(data));
  const built = buildIcmpEcho({
    src: '10.96.0.10',
    dst: '10.244.1.5',
    echoId: 0x1c2b,
    seq: 1,
    data,
    reply: true,
  });
  t.is(toHex(built.subarray(20)), toHex(out.subarray(37, 77)));
});

test('echo id rewritten with a checksum update; icmpFillChecksum recomputes', (t) => {
  const req = buildIcmpEcho({ src: 1, dst: 2, echoId: 7, seq: 9 });
  t.is(natRewriteIcmpEchoId(req, 0, 0xffff), NatResult.Ok);
  t.is(icmpEchoIdent(req, 20), 0xffff);
  t.is(icmpValidateWithChecksum(req, 20, req.length - 20), IcmpReason.Ok);
  req[27] = 10; // the sequence number, without the checksum
  t.is(icmpEchoSeq(req, 20), 10);
  t.is(icmpValidateWithChecksum(req, 20, req.length - 20), IcmpReason.BadChecksum);
  icmpFillChecksum(req, 20, req.length - 20);
  t.is(icmpValidateWithChecksum(req, 20, req.length - 20), IcmpReason.Ok);
  t.is(ipChecksum(req), ipChecksum(buildIcmpEcho({ src: 1, dst: 2, echoId: 7, seq: 9 })));
});

test('icmpIsError matches Linux icmp_pointers[].error', (t) => {
  const errors = [3, 4, 5, 11, 12];
  for (let type = 0; type < 256; type++)
    t.is(icmpIsError(type), errors.includes(type), String(type));
});

test('icmp reason — Truncated (< 8 bytes) and BadChecksum', (t) => {
  const m = message().slice();
  t.is(icmpValidate(m, 0, m.length), IcmpReason.Ok);
  t.is(icmpValidate(m, 0, 7), IcmpReason.Truncated);
  t.is(icmpValidate(new Uint8Array(0), 0, 0), IcmpReason.Truncated);
  t.deepEqual(IcmpRepr.parse(m.subarray(0, 7)), { ok: false, reason: IcmpReason.Truncated });
  m[47]! ^= 0x80;
  t.is(icmpValidate(m, 0, m.length), IcmpReason.Ok);
  t.is(icmpValidateWithChecksum(m, 0, m.length), IcmpReason.BadChecksum);
  t.deepEqual(IcmpRepr.parse(m), { ok: false, reason: IcmpReason.BadChecksum });
  t.true(IcmpRepr.parse(m, false).ok);
});

test('an echo with a non-zero code, or an error with non-zero unused bytes, stays "other"', (t) => {
  for (const [type, code, rest] of [
    [8, 1, 0x00010002],
    [3, 3, 0x00010000],
    [11, 0, 0x00000001],
    [5, 1, ipToU32('10.0.0.254')],
  ] as const) {
    const msg: IcmpRepr = { kind: 'other', type, code, rest, data: Uint8Array.of(1, 2, 3) };
    const out = new Uint8Array(IcmpRepr.bufferLength(msg));
    IcmpRepr.emit(msg, out);
    t.deepEqual(IcmpRepr.parse(out), { ok: true, value: msg });
  }
});

/** Which offending packets may get an ICMP error (RFC 1812 §4.3.2.7). */
const MAY_REPLY: Array<[string, () => Uint8Array, boolean]> = [
  ['UDP to a closed port', () => hex(FIXTURES.udpProbe), true],
  ['TCP SYN', () => hex(FIXTURES.tcpSyn), true],
  [
    'ICMP echo request',
    () => buildIcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', echoId: 1, seq: 1 }),
    true,
  ],
  ['an ICMP error', () => hex(FIXTURES.icmpPortUnreachable), false],
  [
    'an ICMP type > 18 (unknown to Linux)',
    () =>
      buildIcmp({
        src: '10.0.0.1',
        dst: '10.0.0.2',
        message: { kind: 'other', type: 42, code: 0, rest: 0, data: new Uint8Array(0) },
      }),
    false,
  ],
  [
    'multicast destination',
    () => buildUdp({ src: '10.0.0.1', dst: '224.0.0.251', sport: 5353, dport: 5353 }),
    false,
  ],
  [
    'limited broadcast destination',
    () => buildUdp({ src: '10.0.0.1', dst: '255.255.255.255', sport: 68, dport: 67 }),
    false,
  ],
  [
    'source 0.0.0.0',
    () => buildUdp({ src: '0.0.0.0', dst: '10.0.0.2', sport: 68, dport: 67 }),
    false,
  ],
  [
    'loopback source',
    () => buildUdp({ src: '127.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 }),
    false,
  ],
  [
    'non-first fragment',
    () => {
      const p = buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 });
      setIpv4(p, { fragmentOffset: 1480 });
      return p;
    },
    false,
  ],
  [
    'first fragment (MF, offset 0)',
    () => {
      const p = buildTcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 });
      setIpv4(p, { moreFragments: true });
      return p;
    },
    true,
  ],
  ['a packet that fails the IPv4 check', () => hex(FIXTURES.tcpSyn).subarray(0, 30), false],
];

for (const [name, make, expected] of MAY_REPLY) {
  test(`mayReplyWithIcmpError — ${name}: ${expected}`, (t) => {
    t.is(mayReplyWithIcmpError(make()), expected);
  });
}

test('quoting a packet with trailing padding uses Total Length', (t) => {
  const padded = new Uint8Array(64);
  padded.set(hex(FIXTURES.udpProbe));
  t.is(checkIpv4(padded).reason, Ipv4Reason.Ok);
  const reply = buildPortUnreachable(padded, { src: '10.0.0.1', id: 0xd84d });
  t.is(toHex(reply), FIXTURES.icmpPortUnreachable);
});
