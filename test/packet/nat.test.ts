import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { ipToU32 } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { udpChecksumFinal, updateChecksum16 } from '../../src/packet/checksum.ts';
import { buildPortUnreachable } from '../../src/packet/icmp-error.ts';
import { icmpValidateWithChecksum, IcmpReason } from '../../src/packet/icmp.ts';
import {
  Ipv4Reason,
  ipv4DecTtlWithChecksum,
  ipv4Dst,
  ipv4Validate,
} from '../../src/packet/ipv4.ts';
import {
  KEEP,
  NatResult,
  natRewriteDst,
  natRewriteIcmpEchoId,
  natRewriteIcmpInner,
  natRewriteSrc,
} from '../../src/packet/nat.ts';
import {
  embed,
  ipChecksum,
  refChecksum,
  refIpChecksum,
  refL4Checksum,
  setIpv4,
  toHex,
} from './helpers.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const words = (max: number) =>
  fc
    .integer({ min: 0, max: max })
    .chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));

/** Random TCP or UDP packets (UDP with or without checksum), options, payloads, first fragments. */
const packetArb = fc
  .record({
    kind: fc.constantFrom('tcp', 'udp', 'udp-nocsum'),
    src: u32,
    dst: u32,
    sport: u16,
    dport: u16,
    ttl: fc.integer({ min: 0, max: 255 }),
    id: u16,
    ipOptions: words(10),
    tcpOptions: words(10),
    payload: fc.uint8Array({ maxLength: 80 }),
    seq: u32,
    flags: fc.integer({ min: 0, max: 255 }),
    firstFragment: fc.boolean(),
  })
  .map((r) => {
    const ip = { src: r.src, dst: r.dst, ttl: r.ttl, id: r.id, ipOptions: r.ipOptions };
    const pkt =
      r.kind === 'tcp'
        ? buildTcp({
            ...ip,
            sport: r.sport,
            dport: r.dport,
            seq: r.seq,
            flags: r.flags,
            options: r.tcpOptions,
            payload: r.payload,
          })
        : buildUdp({
            ...ip,
            sport: r.sport,
            dport: r.dport,
            payload: r.payload,
            checksum: r.kind === 'udp',
          });
    if (r.firstFragment) {
      // Offset 0: the L4 header is here, its checksum must still be fixed.
      setIpv4(pkt, { moreFragments: true });
    }
    return { kind: r.kind, pkt };
  });

const rewriteArb = fc.record({
  which: fc.constantFrom('src', 'dst'),
  addr: fc.option(u32, { nil: KEEP }),
  port: fc.option(u16, { nil: KEEP }),
});

function u16At(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function u32At(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Checksums of `pkt` must equal a full recomputation by the reference implementation. */
function assertChecksumsFresh(pkt: Uint8Array, kind: string): void {
  assert.equal(u16At(pkt, 10), refIpChecksum(pkt), 'IPv4 header checksum');
  const hl = (pkt[0]! & 15) * 4;
  const seg = pkt.subarray(hl);
  const src = u32At(pkt, 12);
  const dst = u32At(pkt, 16);
  if (kind === 'tcp')
    assert.equal(u16At(seg, 16), refL4Checksum(seg, src, dst, 6, 16), 'TCP checksum');
  else if (kind === 'udp')
    assert.equal(
      u16At(seg, 6),
      udpChecksumFinal(refL4Checksum(seg, src, dst, 17, 6)),
      'UDP checksum',
    );
  else assert.equal(u16At(seg, 6), 0, 'UDP checksum 0 stays 0');
}

test('NAT rewrites: incremental checksums equal full recomputation (property)', (t) => {
  fc.assert(
    fc.property(
      packetArb,
      fc.array(rewriteArb, { minLength: 1, maxLength: 4 }),
      ({ kind, pkt }, rewrites) => {
        const hl = (pkt[0]! & 15) * 4;
        for (const { which, addr, port } of rewrites) {
          const before = pkt.slice();
          const r =
            which === 'src' ? natRewriteSrc(pkt, 0, addr, port) : natRewriteDst(pkt, 0, addr, port);
          assert.equal(r, NatResult.Ok);
          const addrAt = which === 'src' ? 12 : 16;
          const portAt = hl + (which === 'src' ? 0 : 2);
          assert.equal(u32At(pkt, addrAt), addr === KEEP ? u32At(before, addrAt) : addr);
          assert.equal(u16At(pkt, portAt), port === KEEP ? u16At(before, portAt) : port);
          assertChecksumsFresh(pkt, kind);
          // Nothing else moved.
          const csAt = hl + (kind === 'tcp' ? 16 : 6);
          for (let i = 0; i < pkt.length; i++) {
            const touched =
              (i >= addrAt && i < addrAt + 4) ||
              (i >= portAt && i < portAt + 2) ||
              i === 10 ||
              i === 11 ||
              i === csAt ||
              i === csAt + 1;
            if (!touched) assert.equal(pkt[i], before[i], `byte ${i}`);
          }
          assert.equal(ipv4Validate(pkt, 0, pkt.length), Ipv4Reason.Ok);
        }
      },
    ),
    { numRuns: 5000 },
  );
  t.pass();
});

test('NAT at an offset inside a larger buffer touches only the packet (property)', (t) => {
  fc.assert(
    fc.property(
      packetArb,
      fc.integer({ min: 0, max: 100 }),
      u32,
      u16,
      ({ kind, pkt }, off, addr, port) => {
        const { buf, view } = embed(pkt, off, 300);
        const outside = [...buf.subarray(0, off), ...buf.subarray(off + pkt.length)];
        assert.equal(natRewriteDst(buf, off, addr, port), NatResult.Ok);
        assert.equal(natRewriteSrc(buf, off, addr ^ 0x01010101, port ^ 1), NatResult.Ok);
        assertChecksumsFresh(view, kind);
        assert.deepEqual([...buf.subarray(0, off), ...buf.subarray(off + pkt.length)], outside);
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});

test('TTL decrement: incremental checksum equals recomputation (property)', (t) => {
  fc.assert(
    fc.property(packetArb, ({ kind, pkt }) => {
      const ttl = pkt[8]!;
      const r = ipv4DecTtlWithChecksum(pkt, 0);
      assert.equal(r, ttl <= 1 ? 0 : ttl - 1);
      assert.equal(pkt[8], ttl <= 1 ? ttl : ttl - 1);
      assertChecksumsFresh(pkt, kind);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('a concrete DNAT: client -> ClusterIP 10.96.0.10:53 becomes -> 10.244.1.7:5353', (t) => {
  const pkt = buildUdp({
    src: '10.244.2.3',
    dst: '10.96.0.10',
    sport: 40000,
    dport: 53,
    payload: Uint8Array.of(1, 2, 3),
    id: 5,
  });
  t.is(natRewriteDst(pkt, 0, ipToU32('10.244.1.7'), 5353), NatResult.Ok);
  const want = buildUdp({
    src: '10.244.2.3',
    dst: '10.244.1.7',
    sport: 40000,
    dport: 5353,
    payload: Uint8Array.of(1, 2, 3),
    id: 5,
  });
  t.is(toHex(pkt), toHex(want));
  // And back (reverse NAT of the reply direction uses the source side).
  const reply = buildUdp({
    src: '10.244.1.7',
    dst: '10.244.2.3',
    sport: 5353,
    dport: 40000,
    id: 6,
  });
  t.is(natRewriteSrc(reply, 0, ipToU32('10.96.0.10'), 53), NatResult.Ok);
  t.is(
    toHex(reply),
    toHex(buildUdp({ src: '10.96.0.10', dst: '10.244.2.3', sport: 53, dport: 40000, id: 6 })),
  );
});

test('UDP without checksum: rewrites leave the checksum 0', (t) => {
  const pkt = buildUdp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, checksum: false });
  t.is(natRewriteDst(pkt, 0, 0xc0a80001, 9999), NatResult.Ok);
  t.is(u16At(pkt, 26), 0);
  t.is(u16At(pkt, 10), refIpChecksum(pkt));
});

test('UDP: a rewrite whose checksum comes out 0 stores 0xffff (RFC 768), also inside an ICMP error', (t) => {
  const pkt = buildUdp({
    src: '10.244.2.3',
    dst: '10.96.0.10',
    sport: 40000,
    dport: 53,
    payload: Uint8Array.of(7, 7, 7),
  });
  const c = u16At(pkt, 26);
  // The destination port that makes eqn. 3 give exactly 0.
  let port = -1;
  for (let p = 0; p <= 0xffff && port < 0; p++) if (updateChecksum16(c, 53, p) === 0) port = p;
  t.true(port >= 0);
  const err = buildPortUnreachable(pkt, { src: '10.0.100.11' });
  t.is(natRewriteDst(pkt, 0, KEEP, port), NatResult.Ok);
  t.is(u16At(pkt, 26), 0xffff);
  t.is(refL4Checksum(pkt.subarray(20), u32At(pkt, 12), u32At(pkt, 16), 17, 6), 0);
  t.is(natRewriteIcmpInner(err, 0, err.length, 'dst', KEEP, port), NatResult.Ok);
  t.is(u16At(err, 28 + 26), 0xffff);
  t.is(icmpValidateWithChecksum(err, 20, err.length - 20), IcmpReason.Ok);
});

test('ICMP: addresses rewrite without touching the ICMP checksum; ports are refused', (t) => {
  const pkt = buildIcmpEcho({ src: '10.0.0.1', dst: '10.96.0.10', echoId: 7, seq: 1 });
  const before = toHex(pkt.subarray(20));
  t.is(natRewriteDst(pkt, 0, ipToU32('10.244.1.7'), KEEP), NatResult.Ok);
  t.is(toHex(pkt.subarray(20)), before);
  t.is(u16At(pkt, 10), refIpChecksum(pkt));
  const snapshot = toHex(pkt);
  t.is(natRewriteSrc(pkt, 0, 1, 80), NatResult.NoPorts);
  t.is(toHex(pkt), snapshot);
});

test('ICMP echo id rewrite: checksum equals recomputation (property)', (t) => {
  fc.assert(
    fc.property(
      u16,
      u16,
      u16,
      fc.uint8Array({ maxLength: 64 }),
      fc.boolean(),
      (id, seq, newId, data, reply) => {
        const pkt = buildIcmpEcho({
          src: '10.0.0.1',
          dst: '10.0.0.2',
          echoId: id,
          seq,
          data,
          reply,
        });
        assert.equal(natRewriteIcmpEchoId(pkt, 0, newId), NatResult.Ok);
        assert.equal(u16At(pkt, 24), newId);
        const m = [...pkt.subarray(20)];
        m[2] = 0;
        m[3] = 0;
        if (m.every((x) => x === 0)) {
          // A message of all zeros (below): RFC 1624's update writes the other zero.
          assert.equal(u16At(pkt, 22), 0);
          return;
        }
        assert.equal(icmpValidateWithChecksum(pkt, 20, pkt.length - 20), IcmpReason.Ok);
        assert.equal(u16At(pkt, 22), refChecksum(m));
      },
    ),
    { numRuns: 2000 },
  );
  // An echo reply of all zeros sums to zero, so its checksum is 0xffff. The kernel's update
  // (inet_proto_csum_replace2 → csum_fold) of id 0 to 0 writes 0x0000, the other ones'-
  // complement zero, which its own receive check then refuses: svclab does the same.
  const zero = buildIcmpEcho({ src: '10.0.0.1', dst: '10.0.0.2', echoId: 0, seq: 0, reply: true });
  t.is(u16At(zero, 22), 0xffff);
  t.is(icmpValidateWithChecksum(zero, 20, zero.length - 20), IcmpReason.Ok);
  t.is(natRewriteIcmpEchoId(zero, 0, 0), NatResult.Ok);
  t.is(u16At(zero, 22), 0x0000);
  t.is(icmpValidateWithChecksum(zero, 20, zero.length - 20), IcmpReason.BadChecksum);
  const udp = buildUdp({ src: 1, dst: 2, sport: 3, dport: 4 });
  t.is(natRewriteIcmpEchoId(udp, 0, 1), NatResult.NotEcho);
  const err = buildPortUnreachable(udp, { src: 2 });
  t.is(natRewriteIcmpEchoId(err, 0, 1), NatResult.NotEcho);
});

test('non-first fragment: IP header rewritten, no L4 header to touch', (t) => {
  const pkt = buildUdp({
    src: '10.0.0.1',
    dst: '10.96.0.10',
    sport: 1,
    dport: 53,
    payload: new Uint8Array(16),
  });
  setIpv4(pkt, { fragmentOffset: 1480 });
  const payload = toHex(pkt.subarray(20));
  t.is(natRewriteDst(pkt, 0, ipToU32('10.244.1.7'), 5353), NatResult.L4Absent);
  t.is(ipv4Dst(pkt, 0), ipToU32('10.244.1.7'));
  t.is(ipChecksum(pkt), refIpChecksum(pkt));
  t.is(toHex(pkt.subarray(20)), payload);
});

test('ICMP error reverse NAT of the quoted packet equals an error about the rewritten packet (property)', (t) => {
  fc.assert(
    fc.property(
      packetArb,
      fc.constantFrom<'linux' | 'rfc792'>('linux', 'rfc792'),
      fc.constantFrom<'src' | 'dst'>('src', 'dst'),
      u32,
      u16,
      ({ pkt }, quote, inner, addr, port) => {
        setIpv4(pkt, { moreFragments: false });
        const err = buildPortUnreachable(pkt, { src: '10.0.100.11', quote, id: 3 });
        assert.equal(natRewriteIcmpInner(err, 0, err.length, inner, addr, port), NatResult.Ok);
        const rewritten = pkt.slice();
        if (inner === 'src') natRewriteSrc(rewritten, 0, addr, port);
        else natRewriteDst(rewritten, 0, addr, port);
        const want = buildPortUnreachable(rewritten, { src: '10.0.100.11', quote, id: 3 });
        // The outer header's destination is the quoted source: compare everything but that.
        if (inner === 'src') natRewriteDst(err, 0, addr, KEEP);
        assert.equal(toHex(err), toHex(want));
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});

test('ICMP error inner rewrite refuses a message without a full quote', (t) => {
  const pkt = buildUdp({ src: 1, dst: 2, sport: 3, dport: 4 });
  const err = buildPortUnreachable(pkt, { src: 2 });
  t.is(natRewriteIcmpInner(err, 0, 20 + 8 + 27, 'dst', 5, 6), NatResult.NoQuote);
  t.is(natRewriteIcmpInner(pkt, 0, pkt.length, 'dst', 5, 6), NatResult.NoQuote);
  // An echo whose data happens to look like an IPv4 header is still not an error.
  const echo = buildIcmpEcho({ src: 1, dst: 2, echoId: 1, seq: 1, data: pkt });
  t.is(natRewriteIcmpInner(echo, 0, echo.length, 'dst', 5, 6), NatResult.NoQuote);
});
