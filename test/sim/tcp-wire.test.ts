// src/sim/tcp/wire.ts writes the same bytes as buildTcp for every segment a simulated
// host sends (IHL 5, DF, TTL 64): the in-place writer must not change a single packet.
import test from 'ava';
import fc from 'fast-check';
import { buildTcp } from '../../src/packet/build.ts';
import { recyclePacket } from '../../src/packet/slab.ts';
import { tcpPacket } from '../../src/sim/tcp/wire.ts';

test('tcpPacket equals buildTcp for any fields, options and payload', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        src: fc.nat(0xffffffff),
        dst: fc.nat(0xffffffff),
        id: fc.nat(0xffff),
        sport: fc.nat(0xffff),
        dport: fc.nat(0xffff),
        seq: fc.nat(0xffffffff),
        ack: fc.nat(0xffffffff),
        flags: fc.nat(0xff),
        window: fc.nat(0xffff),
        options: fc.uint8Array({ maxLength: 40 }),
        payload: fc.uint8Array({ maxLength: 1500 }),
      }),
      (f) => {
        const { options, ...rest } = f;
        const want = buildTcp(options.length > 0 ? { ...rest, options } : rest);
        const got = tcpPacket(
          f.src,
          f.dst,
          f.id,
          f.sport,
          f.dport,
          f.seq,
          f.ack,
          f.flags,
          f.window,
          f.payload,
          f.options.length > 0 ? f.options : undefined,
        );
        t.deepEqual(got, want);
      },
    ),
    { numRuns: 300 },
  );
});

test('tcpPacket writes every byte of a recycled buffer (garbage in it left over)', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        seq: fc.nat(0xffffffff),
        flags: fc.nat(0xff),
        options: fc.uint8Array({ maxLength: 40 }),
        payload: fc.uint8Array({ maxLength: 900 }),
      }),
      (f) => {
        const { options, ...rest } = f;
        const fields = { src: 0x0a000001, dst: 0xc0a80a01, sport: 80, dport: 40000, ...rest };
        const want = buildTcp(options.length > 0 ? { ...fields, options } : fields);
        const old = new Uint8Array(want.length).fill(0xa5);
        recyclePacket(old);
        const got = tcpPacket(
          fields.src,
          fields.dst,
          0,
          fields.sport,
          fields.dport,
          f.seq,
          0,
          f.flags,
          64240,
          f.payload,
          options.length > 0 ? options : undefined,
        );
        t.is(got, old);
        t.deepEqual(got, want);
      },
    ),
    { numRuns: 200 },
  );
});

test('tcpPacket refuses options over 40 bytes as buildTcp does', (t) => {
  const opts = new Uint8Array(41);
  t.throws(() => buildTcp({ src: 1, dst: 2, sport: 1, dport: 2, options: opts }));
  t.throws(() => tcpPacket(1, 2, 0, 1, 2, 0, 0, 0, 0, new Uint8Array(0), opts));
});
