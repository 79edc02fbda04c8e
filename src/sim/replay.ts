// Replay a capture through one node's dataplane: each IPv4 packet enters in time order
// through the interface its source implies (probe.ts ingressFor), with the cluster's
// virtual clock moved to the packet's capture time first, so conntrack timeouts, IPVS
// and affinity see the capture's own pacing. What leaves the node (forwarded, translated
// or generated ICMP errors) goes to `sink` with the capture timestamp.
//
// Idle time is jumped, not stepped: a gap between two packets longer than IDLE_JUMP_NS
// (6 days, more than any timeout in the path: conntrack's longest is 5 days) moves the
// clock by IDLE_JUMP_NS only. Every flow has expired by then either way, and a capture
// whose timestamps lie years apart replays in milliseconds instead of firing the
// control plane's periodic timers for every second of those years.
import type { Cluster } from '../control/cluster.ts';
import { Verdict } from '../dataplane/counters.ts';
import type { PcapPacket } from '../packet/pcap-read.ts';
import type { SimNode } from '../control/node-setup.ts';
import { ingressFor } from './probe.ts';

export interface ReplayStats {
  /** IPv4 packets pushed through the node. */
  read: number;
  forwarded: number;
  local: number;
  dropped: number;
  /** Packets handed to the sink: forwarded ones plus ICMP errors the node generated. */
  written: number;
  generated: number;
  /** Gaps longer than IDLE_JUMP_NS that were shortened to it. */
  jumps: number;
}

/** The longest stretch of virtual time one gap between packets is run for (6 days). */
export const IDLE_JUMP_NS = 6 * 24 * 3600 * 1e9;

export type ReplaySink = (tsNs: bigint, packet: Uint8Array) => void;

const src32 = (p: Uint8Array): number =>
  p.length < 20 ? 0 : ((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0;

/**
 * Push `packets` through `sim`'s dataplane. Virtual time starts at the cluster's current
 * instant for the first packet and follows the capture's deltas after it; a packet
 * stamped earlier than its predecessor is processed at the predecessor's time.
 */
export function replayPackets(
  cluster: Cluster,
  sim: SimNode,
  packets: readonly PcapPacket[],
  sink: ReplaySink,
): ReplayStats {
  const stats: ReplayStats = {
    read: 0,
    forwarded: 0,
    local: 0,
    dropped: 0,
    written: 0,
    generated: 0,
    jumps: 0,
  };
  // Stable sort: equal timestamps keep file order.
  const ordered = packets
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.tsNs < b.p.tsNs ? -1 : a.p.tsNs > b.p.tsNs ? 1 : a.i - b.i))
    .map((e) => e.p);
  const first = ordered[0];
  if (first === undefined) return stats;
  const dp = sim.dataplane;
  let at = cluster.now();
  let prevTs = first.tsNs;
  let ts = first.tsNs;
  const prevEmit = dp.emit;
  dp.emit = (pkt) => {
    stats.generated++;
    stats.written++;
    sink(ts, pkt);
  };
  try {
    for (const p of ordered) {
      ts = p.tsNs;
      // bigint until the gap is known to be small: captures may be centuries apart.
      let gap = p.tsNs - prevTs;
      prevTs = p.tsNs;
      if (gap > BigInt(IDLE_JUMP_NS)) {
        gap = BigInt(IDLE_JUMP_NS);
        stats.jumps++;
      }
      at += Number(gap);
      if (at > cluster.now()) cluster.advance(at - cluster.now());
      // The dataplane rewrites in place: work on a copy, the capture stays as read.
      const pkt = p.data.slice();
      stats.read++;
      const v = dp.process(pkt, ingressFor(sim, src32(pkt)));
      if (v === Verdict.Forward) {
        stats.forwarded++;
        stats.written++;
        sink(p.tsNs, pkt);
      } else if (v === Verdict.Local) stats.local++;
      else stats.dropped++;
    }
  } finally {
    dp.emit = prevEmit;
  }
  return stats;
}
