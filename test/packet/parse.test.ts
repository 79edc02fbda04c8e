import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { u32ToIp } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { IcmpReason, icmpValidate } from '../../src/packet/icmp.ts';
import { mayReplyWithIcmpError } from '../../src/packet/icmp-error.ts';
import { IcmpRepr } from '../../src/packet/icmp-repr.ts';
import {
  Ipv4Reason,
  checkIpv4,
  ipv4FillChecksum,
  ipv4HeaderLen,
  ipv4IsFragment,
  ipv4SetTotalLenWithChecksum,
  ipv4Src,
  ipv4TotalLen,
  ipv4Validate,
} from '../../src/packet/ipv4.ts';
import { Ipv4Repr } from '../../src/packet/ipv4-repr.ts';
import {
  ClassifyFlags,
  classify,
  newPacketInfo,
  parsePacket,
  reasonName,
} from '../../src/packet/parse.ts';
import type { PacketReason } from '../../src/packet/parse.ts';
import {
  TcpFlags,
  TcpReason,
  tcpDstPort,
  tcpHeaderLen,
  tcpSrcPort,
  tcpValidate,
} from '../../src/packet/tcp.ts';
import { parseTcpOptions } from '../../src/packet/tcp-options.ts';
import { TcpRepr } from '../../src/packet/tcp-repr.ts';
import { UdpReason, UdpRepr, udpDstPort, udpLength, udpValidate } from '../../src/packet/udp.ts';
import { FIXTURES, embed, hex, setIpv4 } from './helpers.ts';

const VERIFY = ClassifyFlags.VERIFY_L4_CHECKSUM;

test('classify the fixtures', (t) => {
  const syn = parsePacket(hex(FIXTURES.tcpSyn), VERIFY);
  t.like(syn, {
    reason: 0,
    proto: 6,
    ttl: 64,
    fragment: false,
    l4Offset: 20,
    l4Length: 40,
    sport: 38320,
    dport: 8080,
    tcpFlags: TcpFlags.SYN,
    icmpType: -1,
    innerOffset: -1,
  });
  t.is(u32ToIp(syn.src), '10.0.0.1');
  t.is(u32ToIp(syn.dst), '10.0.0.2');
  t.like(parsePacket(hex(FIXTURES.dnsQuery), VERIFY), {
    reason: 0,
    proto: 17,
    sport: 35521,
    dport: 53,
    l4Length: 62,
  });
  t.like(parsePacket(hex(FIXTURES.udpRecordRoute), VERIFY), {
    reason: 0,
    proto: 17,
    l4Offset: 60,
    l4Length: 15,
    sport: 34196,
    dport: 9,
  });
  t.like(parsePacket(hex(FIXTURES.icmpPortUnreachable), VERIFY), {
    reason: 0,
    proto: 1,
    icmpType: 3,
    icmpCode: 3,
    icmpId: 0,
    innerOffset: 28,
    sport: 0,
    dport: 0,
  });
  const echo = buildIcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', echoId: 0xabcd, seq: 3 });
  t.like(parsePacket(echo, VERIFY), {
    reason: 0,
    icmpType: 8,
    icmpCode: 0,
    icmpId: 0xabcd,
    innerOffset: -1,
  });
});

test('classify at offset 37 of a 200-byte buffer, reusing one PacketInfo', (t) => {
  const info = newPacketInfo();
  const { buf } = embed(hex(FIXTURES.tcpSyn), 37, 200);
  t.is(classify(buf, 37, 60, info, VERIFY), 0);
  t.like(info, { l4Offset: 57, l4Length: 40, sport: 38320, dport: 8080 });
  // Reusing the same object for a different packet resets what no longer applies.
  const { buf: b2 } = embed(hex(FIXTURES.icmpPortUnreachable), 5, 100);
  t.is(classify(b2, 5, 68, info), 0);
  t.like(info, { proto: 1, sport: 0, dport: 0, tcpFlags: 0, icmpType: 3, innerOffset: 33 });
  t.is(classify(b2, 5, 19, info), Ipv4Reason.Truncated);
  t.like(info, { proto: 0, l4Offset: -1, icmpType: -1, innerOffset: -1 });
});

function withTotalLen(p: Uint8Array, n: number): Uint8Array {
  ipv4SetTotalLenWithChecksum(p, 0, n);
  return p.subarray(0, n);
}
const syn = () => hex(FIXTURES.tcpSyn);
const dns = () => hex(FIXTURES.dnsQuery);
const icmp = () => hex(FIXTURES.icmpPortUnreachable);

/** One row per reason code the dataplane can see. */
const REASONS: Array<[string, () => Uint8Array, number, PacketReason]> = [
  ['ok', syn, 0, 0],
  ['ipv4.Truncated', () => syn().subarray(0, 12), 0, Ipv4Reason.Truncated],
  ['ipv4.BadVersion', () => ((p) => ((p[0] = 0x65), p))(syn()), 0, Ipv4Reason.BadVersion],
  ['ipv4.BadIhl', () => ((p) => ((p[0] = 0x43), p))(syn()), 0, Ipv4Reason.BadIhl],
  [
    'ipv4.BadHeaderChecksum',
    () => ((p) => ((p[15]! ^= 2), p))(syn()),
    0,
    Ipv4Reason.BadHeaderChecksum,
  ],
  [
    'ipv4.TotalLengthBeyondBuffer',
    () => syn().subarray(0, 50),
    0,
    Ipv4Reason.TotalLengthBeyondBuffer,
  ],
  [
    'ipv4.TotalLengthTooSmall',
    () => ((p) => (ipv4SetTotalLenWithChecksum(p, 0, 16), p))(syn()),
    0,
    Ipv4Reason.TotalLengthTooSmall,
  ],
  ['tcp.Truncated (header)', () => withTotalLen(syn(), 39), 0, TcpReason.Truncated],
  ['tcp.Truncated (short of 20)', () => withTotalLen(syn(), 30), 0, TcpReason.Truncated],
  [
    'tcp.DataOffsetTooSmall',
    () => ((p) => ((p[32] = 0x30), p))(syn()),
    0,
    TcpReason.DataOffsetTooSmall,
  ],
  ['tcp.BadChecksum', () => ((p) => ((p[59]! ^= 1), p))(syn()), VERIFY, TcpReason.BadChecksum],
  ['udp.Truncated', () => withTotalLen(dns(), 27), 0, UdpReason.Truncated],
  ['udp.LengthMismatch', () => ((p) => ((p[25]! += 1), p))(dns()), 0, UdpReason.LengthMismatch],
  ['udp.BadChecksum', () => ((p) => ((p[40]! ^= 1), p))(dns()), VERIFY, UdpReason.BadChecksum],
  ['icmp.Truncated', () => withTotalLen(icmp(), 27), 0, IcmpReason.Truncated],
  ['icmp.BadChecksum', () => ((p) => ((p[60]! ^= 1), p))(icmp()), VERIFY, IcmpReason.BadChecksum],
];

for (const [name, make, flags, reason] of REASONS) {
  test(`classify reason — ${name}`, (t) => {
    const p = make();
    const info = parsePacket(p, flags);
    t.is(info.reason, reason);
    t.is(reasonName(info.reason), name.replace(/ \(.*\)$/, ''));
    // Without verification, checksum errors are not looked for.
    if (flags === VERIFY) t.is(parsePacket(p).reason, 0);
  });
}

test('reasonName covers every code and unknown ones', (t) => {
  t.is(reasonName(0), 'ok');
  t.is(reasonName(Ipv4Reason.BadIhl), 'ipv4.BadIhl');
  t.is(reasonName(UdpReason.LengthMismatch), 'udp.LengthMismatch');
  t.is(reasonName(999), 'unknown(999)');
});

test('fragments: a non-first fragment has no ports; a first fragment skips length/checksum checks', (t) => {
  const p = buildUdp({
    src: '10.0.0.1',
    dst: '10.96.0.10',
    sport: 1234,
    dport: 53,
    payload: new Uint8Array(64),
  });
  const first = p.subarray(0, 20 + 32); // the datagram's first 32 bytes only
  setIpv4(first, { moreFragments: true, totalLength: 52 });
  t.like(parsePacket(first, VERIFY), { reason: 0, fragment: true, sport: 1234, dport: 53 });
  const later = buildUdp({
    src: '10.0.0.1',
    dst: '10.96.0.10',
    sport: 0,
    dport: 0,
    payload: new Uint8Array(2),
  });
  setIpv4(later, { fragmentOffset: 32 });
  t.like(parsePacket(later, VERIFY), {
    reason: 0,
    fragment: true,
    proto: 17,
    sport: 0,
    dport: 0,
    l4Offset: 20,
  });
});

test('other protocols pass the IPv4 check with no L4 fields', (t) => {
  const p = syn();
  setIpv4(p, { protocol: 47 }); // GRE
  t.like(parsePacket(p, VERIFY), { reason: 0, proto: 47, sport: 0, dport: 0, icmpType: -1 });
});

// ---- Never throws on any input --------------------------------------------------

/** Everything a caller might run on untrusted bytes; returns the classify reason. */
function exercise(b: Uint8Array, off: number, len: number): number {
  const info = newPacketInfo();
  const r = classify(b, off, len, info, (off & 1) === 0 ? VERIFY : 0);
  parsePacket(b, VERIFY);
  const c = checkIpv4(b, off, len);
  assert.equal(c.reason, ipv4Validate(b, off, len));
  Ipv4Repr.parse(b);
  mayReplyWithIcmpError(b);
  if (r === 0) {
    // After Ok, the L4 region lies inside the packet and the buffer.
    assert.ok(info.l4Offset >= off + 20 && info.l4Offset + info.l4Length <= off + len);
    const seg = b.subarray(info.l4Offset, info.l4Offset + info.l4Length);
    assert.equal(ipv4Src(b, off), info.src);
    assert.equal(ipv4TotalLen(b, off) - ipv4HeaderLen(b, off), info.l4Length);
    const fragment = ipv4IsFragment(b, off);
    if (info.proto === 6 && !fragment) {
      assert.equal(tcpValidate(seg, 0, seg.length), TcpReason.Ok);
      assert.equal(tcpSrcPort(seg, 0), info.sport);
      assert.equal(tcpDstPort(seg, 0), info.dport);
      parseTcpOptions(seg.subarray(20, tcpHeaderLen(seg, 0)));
      TcpRepr.parse(seg, info.src, info.dst);
    } else if (info.proto === 17 && !fragment) {
      assert.equal(udpValidate(seg, 0, seg.length), UdpReason.Ok);
      assert.equal(udpDstPort(seg, 0), info.dport);
      assert.ok(udpLength(seg, 0) <= seg.length);
      UdpRepr.parse(seg, info.src, info.dst);
    } else if (info.proto === 1 && !fragment) {
      assert.equal(icmpValidate(seg, 0, seg.length), IcmpReason.Ok);
      IcmpRepr.parse(seg);
      if (info.innerOffset >= 0) exercise(b, info.innerOffset, off + len - info.innerOffset);
    }
  }
  // classify's fused IPv4 checks say exactly what ipv4Validate says (L4 codes are >= 16).
  assert.equal(r < 16 ? r : Ipv4Reason.Ok, c.reason);
  return r;
}

const looksLikeIpv4 = fc.uint8Array({ maxLength: 120 }).map((b) => {
  // Half the time start with version 4 so the checks get past the first byte.
  if (b.length > 0 && (b[b.length - 1]! & 1) === 0) b[0] = 0x40 | (b[0]! & 0x0f);
  return b;
});

test('classify and friends never throw on arbitrary bytes, offsets and lengths (50,000 cases)', (t) => {
  fc.assert(
    fc.property(
      looksLikeIpv4,
      fc.integer({ min: -4, max: 130 }),
      fc.integer({ min: -4, max: 130 }),
      (b, off, len) => {
        exercise(b, off, len);
        exercise(b, 0, b.length);
      },
    ),
    { numRuns: 50_000 },
  );
  for (const [off, len] of [
    [NaN, 10],
    [0, NaN],
    [Infinity, 20],
    [0, Infinity],
    [-1, 60],
    [1.5, 20],
  ]) {
    t.notThrows(() => exercise(hex(FIXTURES.tcpSyn), off!, len!));
  }
});

const validPacket = fc.oneof(
  fc.constantFrom(...Object.values(FIXTURES)).map(hex),
  fc
    .record({
      sport: fc.nat(0xffff),
      dport: fc.nat(0xffff),
      payload: fc.uint8Array({ maxLength: 40 }),
      flags: fc.nat(255),
    })
    .map((r) =>
      buildTcp({
        src: '10.244.1.5',
        dst: '10.96.0.10',
        ...r,
        options: [
          { kind: 'mss', mss: 1460 },
          { kind: 'windowScale', shift: 7 },
        ],
      }),
    ),
  fc
    .record({
      sport: fc.nat(0xffff),
      dport: fc.nat(0xffff),
      payload: fc.uint8Array({ maxLength: 40 }),
    })
    .map((r) => buildUdp({ src: '10.244.1.5', dst: '10.96.0.10', ...r })),
  fc
    .record({ echoId: fc.nat(0xffff), seq: fc.nat(0xffff) })
    .map((r) => buildIcmpEcho({ src: '10.244.1.5', dst: '10.96.0.10', ...r })),
);

const mutation = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  extra: fc.nat(6),
  fixIpChecksum: fc.boolean(),
});

test('classify never throws on mutated valid packets and agrees with each layer check (50,000 cases)', (t) => {
  fc.assert(
    fc.property(validPacket, mutation, (orig, m) => {
      let p = new Uint8Array(orig.length + m.extra);
      p.set(orig);
      for (const [pos, value] of m.edits) p[pos % p.length] = value;
      if (m.cut !== undefined) p = p.subarray(0, m.cut % (p.length + 1));
      // Re-sealing the header checksum lets mutations reach the L4 checks.
      if (
        m.fixIpChecksum &&
        p.length >= 20 &&
        (p[0]! & 0x0f) >= 5 &&
        (p[0]! & 0x0f) * 4 <= p.length
      ) {
        ipv4FillChecksum(p, 0);
      }
      const r = exercise(p, 0, p.length);
      if (ipv4Validate(p, 0, p.length) === Ipv4Reason.Ok && !checkIpv4(p).fragment) {
        const hl = (p[0]! & 15) * 4;
        const l4len = ((p[2]! << 8) | p[3]!) - hl;
        const proto = p[9];
        const layer =
          proto === 6
            ? tcpValidate(p, hl, l4len)
            : proto === 17
              ? udpValidate(p, hl, l4len)
              : proto === 1
                ? icmpValidate(p, hl, l4len)
                : 0;
        assert.equal(parsePacket(p).reason, layer);
        assert.ok(
          r === layer ||
            r === TcpReason.BadChecksum ||
            r === UdpReason.BadChecksum ||
            r === IcmpReason.BadChecksum,
        );
      }
    }),
    { numRuns: 50_000 },
  );
  t.pass();
});
