// Test helper: two simulated hosts back to back on the virtual clock, with a
// configurable one-way delay and a drop rule, and a log of every packet sent.
import { VirtualClock } from '../../src/control/clock.ts';
import { formatTcpFlags, parsePacket, u32ToIp } from '../../src/packet/index.ts';
import { SimHost } from '../../src/sim/host.ts';
import type { SimHostOptions } from '../../src/sim/host.ts';

export interface Sent {
  at: number;
  from: string;
  pkt: Uint8Array;
}

export interface Wire {
  clock: VirtualClock;
  a: SimHost;
  b: SimHost;
  /** Every packet put on the wire (dropped ones too), in order. */
  log: Sent[];
  dropped: Sent[];
  /** Fire timers until none is left before `limitNs` (default: 1 hour of virtual time). */
  run(limitNs?: number): void;
  /** Fire timers until `done()` holds; throws if the clock runs dry first. */
  runUntil(done: () => boolean, limitNs?: number): void;
}

export interface WireOptions {
  delayNs?: number;
  /** Return true to lose this packet (n = index in the log). */
  drop?: (pkt: Uint8Array, n: number, from: string) => boolean;
  seed?: number;
  a?: Partial<SimHostOptions>;
  b?: Partial<SimHostOptions>;
}

export function wire(o: WireOptions = {}): Wire {
  const clock = new VirtualClock();
  const delay = o.delayNs ?? 1_000_000;
  const a = new SimHost({
    name: 'a',
    addresses: ['10.0.0.1'],
    clock,
    seed: o.seed ?? 1,
    ...o.a,
  });
  const b = new SimHost({
    name: 'b',
    addresses: ['10.0.0.2'],
    clock,
    seed: (o.seed ?? 1) + 1,
    ...o.b,
  });
  const log: Sent[] = [];
  const dropped: Sent[] = [];
  const link = (from: SimHost, to: SimHost) => (pkt: Uint8Array) => {
    const s = { at: clock.now(), from: from.name, pkt };
    const n = log.push(s) - 1;
    if (o.drop?.(pkt, n, from.name)) {
      dropped.push(s);
      return;
    }
    clock.after(delay, () => to.receive(pkt));
  };
  a.transmit = link(a, b);
  b.transmit = link(b, a);
  const run = (limitNs = 3600e9) => {
    while (clock.fireNext(limitNs));
  };
  const runUntil = (done: () => boolean, limitNs = 3600e9) => {
    while (!done()) {
      if (!clock.fireNext(limitNs)) throw new Error('clock ran dry before the condition held');
    }
  };
  return { clock, a, b, log, dropped, run, runUntil };
}

/** One line per TCP packet, tcpdump-like, with sequence numbers relative to each side's ISN. */
export function tcpTrace(log: readonly Sent[]): string[] {
  const isn = new Map<string, number>();
  return log.map(({ pkt, from }) => {
    const i = parsePacket(pkt);
    const off = i.l4Offset;
    const seq =
      ((pkt[off + 4]! << 24) | (pkt[off + 5]! << 16) | (pkt[off + 6]! << 8) | pkt[off + 7]!) >>> 0;
    const ack =
      ((pkt[off + 8]! << 24) | (pkt[off + 9]! << 16) | (pkt[off + 10]! << 8) | pkt[off + 11]!) >>>
      0;
    const hl = (pkt[off + 12]! >>> 4) << 2;
    const len = i.l4Length - hl;
    const me = `${u32ToIp(i.src)}:${i.sport}`;
    const peer = `${u32ToIp(i.dst)}:${i.dport}`;
    if (i.tcpFlags & 0x02) isn.set(me, seq);
    const rel = (v: number, who: string) => (v - (isn.get(who) ?? v)) >>> 0;
    let s = `${from} [${formatTcpFlags(i.tcpFlags)}] seq ${rel(seq, me)}`;
    if (i.tcpFlags & 0x10) s += ` ack ${rel(ack, peer)}`;
    return len > 0 ? `${s} len ${len}` : s;
  });
}

/** A SYN or SYN/ACK. */
export function isSyn(pkt: Uint8Array): boolean {
  return (parsePacket(pkt).tcpFlags & 0x02) !== 0;
}
