// The packet-flow harness for any DataplaneProxier, in the style of kube-proxy's
// runPacketFlowTests: a new connection's first packet goes through the hooks a real
// node runs (PREROUTING or OUTPUT, then INPUT/FORWARD filters, then POSTROUTING)
// and the test reads the DNAT target (or REJECT/DROP) and whether it was
// masqueraded. Same walk as iptables/flow.ts, with addrtype from isLocalAddress.
// A TCP first packet is a bare SYN (IPVS schedules nothing else, ip_vs_in()).
import type { ExecutionContext } from 'ava';
import { ipToU32, u32ToIp } from '../../src/packet/addr.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import {
  ADDR_DST_LOCAL,
  ADDR_SRC_LOCAL,
  CtState,
  Hook,
  TABLE_FILTER,
  TABLE_NAT,
  Verdict,
  newPacketMeta,
} from '../../src/proxy/hooks.ts';
import type { DataplaneProxier } from '../../src/proxy/hooks.ts';
import type { FlowCase } from './flow-cases.ts';

const PROTO = { tcp: 6, udp: 17, sctp: 132 } as const;

export interface FlowResult {
  output: string;
  masq: boolean;
  rulesVisited: number;
}

export type FlowPacket = Pick<FlowCase, 'src' | 'dst' | 'dport' | 'proto'>;

function flags(px: DataplaneProxier, src: number, dst: number): number {
  return (
    (px.isLocalAddress(src) ? ADDR_SRC_LOCAL : 0) | (px.isLocalAddress(dst) ? ADDR_DST_LOCAL : 0)
  );
}

const refused = (v: Verdict) => (v === Verdict.Reject ? 'REJECT' : 'DROP');

/** One connection's first packet through the node. */
export function sendFirstPacket(px: DataplaneProxier, f: FlowPacket, sport = 40000): FlowResult {
  const src = ipToU32(f.src);
  const dst = ipToU32(f.dst);
  const proto = PROTO[f.proto ?? 'tcp'];
  const meta = newPacketMeta({
    proto,
    src,
    dst,
    sport,
    dport: f.dport,
    ctstate: CtState.NEW,
    addrFlags: flags(px, src, dst),
    len: 60,
    tcpFlags: proto === PROTO.tcp ? TcpFlags.SYN : 0,
  });
  const fromNode = px.isLocalAddress(src);
  const r1 = px.classify(meta, fromNode ? Hook.Output : Hook.Prerouting, TABLE_NAT | TABLE_FILTER);
  let visited = r1.rulesVisited;
  if (r1.verdict !== Verdict.Accept) {
    return { output: refused(r1.verdict), masq: false, rulesVisited: visited };
  }
  const output = r1.dnat ? `${u32ToIp(r1.dnatIp)}:${r1.dnatPort}` : '';
  meta.mark = r1.mark;
  if (r1.dnat) {
    meta.dst = r1.dnatIp;
    meta.dport = r1.dnatPort;
    meta.ctstate |= CtState.DNAT;
    meta.addrFlags = flags(px, meta.src, meta.dst);
  }
  if (!fromNode) {
    const toNode = px.isLocalAddress(meta.dst);
    const r2 = px.classify(meta, toNode ? Hook.Input : Hook.Forward, TABLE_FILTER);
    visited += r2.rulesVisited;
    if (r2.verdict !== Verdict.Accept) {
      return { output: refused(r2.verdict), masq: false, rulesVisited: visited };
    }
    meta.mark = r2.mark;
    if (toNode) return { output, masq: false, rulesVisited: visited };
  }
  const r3 = px.classify(meta, Hook.Postrouting, TABLE_NAT);
  return { output, masq: r3.masquerade, rulesVisited: visited + r3.rulesVisited };
}

/** Send `tries` connections (fresh source ports) and join the distinct outcomes, sorted. */
export function runFlow(
  px: DataplaneProxier,
  f: FlowPacket,
  tries = 48,
): { output: string; masq: boolean } {
  const outputs = new Set<string>();
  let masq = false;
  for (let i = 0; i < tries; i++) {
    const r = sendFirstPacket(px, f, 40000 + i);
    outputs.add(r.output);
    masq ||= r.masq;
  }
  return { output: [...outputs].sort().join(', '), masq };
}

/**
 * Assert a runFlow() result against a case as a mode expects it: the exact outcome, or for
 * a sticky (ClientIP affinity) case exactly one of the case's endpoints.
 */
export function checkFlow(
  t: ExecutionContext,
  got: { output: string; masq: boolean },
  f: FlowCase,
  why?: string,
): void {
  if (f.sticky === true) {
    t.true(
      f.output.split(', ').includes(got.output),
      `sticks to one of ${f.output}, got ${got.output}${why === undefined ? '' : ` (${why})`}`,
    );
  } else t.is(got.output, f.output, why);
  if (f.masq !== undefined) t.is(got.masq, f.masq, why);
}
