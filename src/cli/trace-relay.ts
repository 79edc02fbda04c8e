// `svclab trace` in userspace mode: the first connection ends at kube-proxy's own port on
// the node, so the trace goes on with the second one — kube-proxy's connection from the
// node to the backend its round robin picks — through the same node's rules.
import { IfaceKind } from '../dataplane/routes.ts';
import { Verdict } from '../dataplane/counters.ts';
import { formatEntry } from '../conntrack/format.ts';
import { u32ToIp } from '../packet/addr.ts';
import { parsePacket } from '../packet/parse.ts';
import type { Hook, TraceEvent } from '../proxy/hooks.ts';
import type { SimNode } from '../control/node-setup.ts';
import { probe } from '../sim/probe.ts';
import type { ProbeStep } from '../sim/probe.ts';
import { relayHop } from '../sim/userspace-relay.ts';

export { bindRedirect } from '../sim/userspace-relay.ts';

/** kube-proxy's source port toward the backend (the kernel picks an ephemeral one). */
const RELAY_SPORT = 45000;

/**
 * The lines after the first connection's result when it was delivered to kube-proxy's
 * userspace relay: the service port, the backend chosen, and the second connection's walk.
 * [] when the packet did not end at a relay port.
 */
export function relayTraceLines(
  sim: SimNode,
  first: ProbeStep,
  proto: 'tcp' | 'udp',
  client: number,
  nowMs: number,
  traceLine: (hook: Hook, e: TraceEvent) => string,
): string[] {
  if (first.verdict !== Verdict.Local) return [];
  const at = parsePacket(first.packet);
  const hop = relayHop(sim, at.dport, client);
  if (hop === undefined) return [];
  const node = sim.node.name;
  const out = [
    `# kube-proxy (userspace) on ${node} accepts on ${u32ToIp(at.dst)}:${hop.proxyPort} for ${hop.name} and relays to a backend (round robin)`,
  ];
  if (hop.backend === undefined) {
    out.push('result: no endpoints: kube-proxy closes the accepted connection');
    return out;
  }
  const b = hop.backend;
  out.push(
    `# ${proto.toUpperCase()} ${sim.node.ip}:${RELAY_SPORT} -> ${b.endpoint} (second connection, opened by kube-proxy) from ${node}'s own stack`,
  );
  const lines: string[] = [];
  const steps = probe(
    sim,
    { proto, src: sim.ip, dst: b.ip, dport: b.port, sport: RELAY_SPORT },
    { tracer: (hook, e) => lines.push(traceLine(hook, e)) },
  );
  out.push(...lines);
  const s = steps[0]!;
  if (s.verdict === Verdict.Drop) {
    out.push('result: DROP');
    return out;
  }
  const after = parsePacket(s.packet);
  out.push(
    `result: ${s.verdict === Verdict.Local ? 'LOCAL' : 'FORWARD'} to ${u32ToIp(after.dst)}:${after.dport}, src ${u32ToIp(after.src)}:${after.sport} (the node's own address: the backend never sees the client)`,
  );
  if (s.verdict === Verdict.Forward) {
    const iface = sim.dataplane.ifaces[s.outIf];
    const via = iface?.kind === IfaceKind.Uplink ? ` via ${u32ToIp(s.nextHop)}` : '';
    out.push(`        out ${iface?.name ?? s.outIf}${via}`);
  }
  for (const e of sim.dataplane.ct.list(nowMs)) {
    const line = formatEntry(e);
    if (line.includes(`src=${sim.node.ip} dst=${u32ToIp(b.ip)} sport=${RELAY_SPORT} `))
      out.push(`conntrack: ${line}`);
  }
  return out;
}
