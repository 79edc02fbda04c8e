// TcpTracker's ESTABLISHED + ACK shortcut against the full nf_conntrack_tcp_packet path:
// random segment trains (in window, stale, far ahead, retransmitted again and again, PSH/ECE/URG, FIN, RST,
// zero windows) through two trackers, one with the shortcut off, must give the same
// verdicts and leave every per-entry array identical.
import test from 'ava';
import fc from 'fast-check';
import { setTcpFastPath } from '../../src/conntrack/tcp.ts';
import { ACK, FIN, PSH, RST, TcpFlow, newCt } from './helpers.ts';

interface Seg {
  reply: boolean;
  flags: number;
  len: number;
  win: number;
  /** Added to the peer's honest sequence number (0: in order). */
  skew: number;
  dt: number;
  /** Sent this many times (retransmissions: same seq, ack and window). */
  times: number;
}

const segArb: fc.Arbitrary<Seg> = fc.record({
  reply: fc.boolean(),
  flags: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(ACK, ACK | PSH, ACK | 0x40, ACK | 0x20) },
    { weight: 1, arbitrary: fc.constantFrom(FIN | ACK, RST, RST | ACK, 0) },
  ),
  len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
  win: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff })),
  skew: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -200_000, max: 200_000 }) },
  ),
  dt: fc.integer({ min: 0, max: 5000 }),
  times: fc.oneof(
    { weight: 4, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }) },
  ),
});

function snapshot(flow: TcpFlow) {
  const e = flow.e;
  const w = flow.ct.tcp.w;
  const t = flow.ct.table;
  const two = (a: ArrayLike<number>) => [a[e * 2], a[e * 2 + 1]];
  return {
    status: t.status[e],
    state: t.l4state[e],
    expires: t.expires[e],
    tdEnd: two(w.tdEnd),
    tdMaxEnd: two(w.tdMaxEnd),
    tdMaxWin: two(w.tdMaxWin),
    tdMaxAck: two(w.tdMaxAck),
    tdScale: two(w.tdScale),
    tdFlags: two(w.tdFlags),
    last: [
      w.lastIndex[e],
      w.lastDir[e],
      w.lastFlags[e],
      w.lastSeq[e],
      w.lastAck[e],
      w.lastEnd[e],
      w.lastWin[e],
      w.retrans[e],
    ],
  };
}

function run(segs: readonly Seg[], fast: boolean, wscale: number) {
  setTcpFastPath(fast);
  try {
    const flow = new TcpFlow(newCt());
    const out: unknown[] = [];
    let now = 1000;
    out.push(flow.open(now, wscale));
    flow.s(now, 0x12); // SYN/ACK
    flow.c(now, ACK);
    for (const g of segs) {
      now += g.dt;
      if (g.reply) flow.sseq = (flow.sseq + g.skew) >>> 0;
      else flow.cseq = (flow.cseq + g.skew) >>> 0;
      for (let k = 0; k < g.times; k++) {
        const [cseq, sseq] = [flow.cseq, flow.sseq];
        const v = g.reply ? flow.s(now, g.flags, g.len, g.win) : flow.c(now, g.flags, g.len, g.win);
        out.push(v, snapshot(flow));
        if (k < g.times - 1) [flow.cseq, flow.sseq] = [cseq, sseq];
      }
    }
    return out;
  } finally {
    setTcpFastPath(true);
  }
}

test('the ESTABLISHED + ACK shortcut gives what the full path gives', (t) => {
  fc.assert(
    fc.property(fc.array(segArb, { maxLength: 60 }), fc.constantFrom(-1, 0, 7, 14), (segs, ws) => {
      t.deepEqual(run(segs, true, ws), run(segs, false, ws));
    }),
    { numRuns: 400 },
  );
});
