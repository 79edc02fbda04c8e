// A packet-flow harness in the style of kube-proxy's runPacketFlowTests: a new
// connection's first packet goes through the hooks a real node would run (nat
// PREROUTING or OUTPUT, filter INPUT/FORWARD/OUTPUT, nat POSTROUTING) and the test
// reads the DNAT target (or REJECT/DROP) and whether it was masqueraded.
import { ipToU32, u32ToIp } from '../../../src/packet/addr.ts';
import { CtState, Hook, Verdict, newPacketMeta } from '../../../src/proxy/hooks.ts';
import { TABLE_FILTER, TABLE_NAT } from '../../../src/proxy/iptables/proxier.ts';
import type { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';

export interface Flow {
  readonly name: string;
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto?: 'tcp' | 'udp' | 'sctp';
  /** `ip:port[, ip:port...]` (every target seen), REJECT, DROP, or '' (untouched). */
  readonly output: string;
  readonly masq?: boolean;
}

const PROTO = { tcp: 6, udp: 17, sctp: 132 } as const;

export interface FlowResult {
  output: string;
  masq: boolean;
  rulesVisited: number;
}

function refused(v: Verdict): string {
  return v === Verdict.Reject ? 'REJECT' : 'DROP';
}

/** One connection's first packet through the node. */
export function sendFirstPacket(
  px: IptablesProxier,
  f: Pick<Flow, 'src' | 'dst' | 'dport' | 'proto'>,
  sport = 40000,
): FlowResult {
  const src = ipToU32(f.src);
  const dst = ipToU32(f.dst);
  const meta = newPacketMeta({
    proto: PROTO[f.proto ?? 'tcp'],
    src,
    dst,
    sport,
    dport: f.dport,
    ctstate: CtState.NEW,
    addrFlags: px.addrFlags(src, dst),
    len: 60,
  });
  const fromNode = px.isLocalAddress(src);
  const r1 = px.classify(meta, fromNode ? Hook.Output : Hook.Prerouting);
  let visited = r1.rulesVisited;
  if (r1.verdict !== Verdict.Accept)
    return { output: refused(r1.verdict), masq: false, rulesVisited: visited };
  const output = r1.dnat ? `${u32ToIp(r1.dnatIp)}:${r1.dnatPort}` : '';
  meta.mark = r1.mark;
  if (r1.dnat) {
    meta.dst = r1.dnatIp;
    meta.dport = r1.dnatPort;
    meta.ctstate |= CtState.DNAT;
    meta.addrFlags = px.addrFlags(meta.src, meta.dst);
  }
  if (!fromNode) {
    const toNode = px.isLocalAddress(meta.dst);
    const r2 = px.classify(meta, toNode ? Hook.Input : Hook.Forward, TABLE_FILTER);
    visited += r2.rulesVisited;
    if (r2.verdict !== Verdict.Accept)
      return { output: refused(r2.verdict), masq: false, rulesVisited: visited };
    meta.mark = r2.mark;
    if (toNode) return { output, masq: false, rulesVisited: visited };
  }
  const r3 = px.classify(meta, Hook.Postrouting, TABLE_NAT);
  return { output, masq: r3.masquerade, rulesVisited: visited + r3.rulesVisited };
}

/** Send `tries` connections (fresh source ports) and join the distinct outcomes, sorted. */
export function runFlow(
  px: IptablesProxier,
  f: Flow,
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
