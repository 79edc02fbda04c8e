// Probes: one connection's packets through ONE node's dataplane, without hosts — the
// first packet, and optionally the backend's answer and the client's final ACK, so the
// flow reaches ESTABLISHED (UDP: ASSURED) in conntrack. Used by `svclab trace` and
// `svclab conntrack --connect`; the full simulation uses real hosts instead.
import { LOCAL_IF } from '../dataplane/node.ts';
import { Verdict } from '../dataplane/counters.ts';
import { buildTcp, buildUdp } from '../packet/build.ts';
import { parsePacket } from '../packet/parse.ts';
import { TcpFlags } from '../packet/tcp.ts';
import type { Hook, TraceEvent } from '../proxy/hooks.ts';
import type { SimNode } from '../control/node-setup.ts';

export interface ProbeSpec {
  proto: 'tcp' | 'udp';
  src: number;
  dst: number;
  dport: number;
  sport?: number;
}

export interface ProbeStep {
  verdict: Verdict;
  /** The packet after the node (NAT applied), or as dropped. */
  packet: Uint8Array;
  inIf: number;
  outIf: number;
  nextHop: number;
  /** Packets the node generated (ICMP errors). */
  emitted: Uint8Array[];
}

/** The interface a packet from `src` enters `sim` through. */
export function ingressFor(sim: SimNode, src: number): number {
  if (src >>> 0 === sim.ip || sim.dataplane.isLocal(src)) return LOCAL_IF;
  return sim.podIfaces.get(src >>> 0) ?? 1;
}

function step(
  sim: SimNode,
  packet: Uint8Array,
  inIf: number,
  emitted: Uint8Array[],
  tracer?: (hook: Hook, e: TraceEvent) => void,
): ProbeStep {
  const dp = sim.dataplane;
  const before = emitted.length;
  dp.tracer = tracer;
  try {
    const verdict = dp.process(packet, inIf);
    return {
      verdict,
      packet,
      inIf,
      outIf: verdict === Verdict.Forward ? dp.outIf : -1,
      nextHop: verdict === Verdict.Forward ? dp.nextHop : 0,
      emitted: emitted.slice(before),
    };
  } finally {
    dp.tracer = undefined;
  }
}

/**
 * Send the first packet (TCP SYN or a UDP datagram); with `complete`, also the answer
 * from where it was sent and (TCP) the final ACK. Captures what the node emits.
 */
export function probe(
  sim: SimNode,
  spec: ProbeSpec,
  opts: { complete?: boolean; tracer?: (hook: Hook, e: TraceEvent) => void } = {},
): ProbeStep[] {
  const emitted: Uint8Array[] = [];
  const prevEmit = sim.dataplane.emit;
  sim.dataplane.emit = (p: Uint8Array) => emitted.push(p);
  try {
    const sport = spec.sport ?? 40000 + (spec.src & 0xfff);
    const tcp = spec.proto === 'tcp';
    const first = tcp
      ? buildTcp({
          src: spec.src,
          dst: spec.dst,
          sport,
          dport: spec.dport,
          flags: TcpFlags.SYN,
          seq: 1000,
        })
      : buildUdp({
          src: spec.src,
          dst: spec.dst,
          sport,
          dport: spec.dport,
          payload: new Uint8Array(8),
        });
    const inIf = ingressFor(sim, spec.src);
    const steps = [step(sim, first, inIf, emitted, opts.tracer)];
    if (!opts.complete || steps[0]!.verdict !== Verdict.Forward) return steps;
    const out = parsePacket(first);
    const answerIf = steps[0]!.outIf === LOCAL_IF ? LOCAL_IF : steps[0]!.outIf;
    const answer = tcp
      ? buildTcp({
          src: out.dst,
          dst: out.src,
          sport: out.dport,
          dport: out.sport,
          flags: TcpFlags.SYN | TcpFlags.ACK,
          seq: 5000,
          ack: 1001,
        })
      : buildUdp({
          src: out.dst,
          dst: out.src,
          sport: out.dport,
          dport: out.sport,
          payload: new Uint8Array(8),
        });
    steps.push(step(sim, answer, answerIf, emitted));
    if (tcp) {
      const ack = buildTcp({
        src: spec.src,
        dst: spec.dst,
        sport,
        dport: spec.dport,
        flags: TcpFlags.ACK,
        seq: 1001,
        ack: 5001,
      });
      steps.push(step(sim, ack, inIf, emitted));
    }
    return steps;
  } finally {
    sim.dataplane.emit = prevEmit;
  }
}
