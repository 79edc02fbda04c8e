// `svclab trace -f MANIFESTS --from IP --to IP:PORT [--proto tcp|udp]`: one new
// connection's first packet through the node where it enters, printing each rule it
// touched like `iptables -j TRACE` (table:chain:type:rulenum), then the NAT outcome.
import type { Command } from 'commander';
import { IfaceKind } from '../dataplane/routes.ts';
import { DROP_NAMES, Verdict } from '../dataplane/counters.ts';
import { formatEntry } from '../conntrack/format.ts';
import { tryIpToU32, u32ToIp } from '../packet/addr.ts';
import { parsePacket } from '../packet/parse.ts';
import { HOOK_NAMES } from '../proxy/hooks.ts';
import type { Hook, TraceEvent } from '../proxy/hooks.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import type { Cluster } from '../control/cluster.ts';
import { probe } from '../sim/probe.ts';
import { CliError } from './cluster-from-files.ts';
import { bindRedirect, relayTraceLines } from './trace-relay.ts';
import { type NodeViewOptions, nodeView, nodeViewOptions, proxyMode } from './node-view.ts';

/**
 * `IP:PORT`, or `svc/NAME:PORT` / `svc/NAMESPACE/NAME:PORT` for a Service's ClusterIP in
 * `cluster` (so a pasted example needs no address looked up first).
 */
export function parseEndpoint(s: string, cluster?: Cluster): { ip: number; port: number } {
  const svc = /^svc\/(?:([a-z0-9-]+)\/)?([a-z0-9-]+):(\d+)$/.exec(s);
  if (svc !== null && cluster !== undefined) {
    const ns = svc[1] ?? 'default';
    const service = cluster.get('Service', ns, svc[2]!);
    const ip =
      service?.spec.clusterIP === undefined ? undefined : tryIpToU32(service.spec.clusterIP);
    if (ip === undefined) {
      throw new CliError(`error: no Service ${ns}/${svc[2]} with a ClusterIP (from --to "${s}")`);
    }
    return parseEndpoint(`${u32ToIp(ip)}:${svc[3]}`);
  }
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  const ip = m ? tryIpToU32(m[1]!) : undefined;
  const port = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(port >= 1 && port <= 65535)) {
    throw new CliError(`error: --to wants IP:PORT or svc/NAME:PORT, got "${s}"`);
  }
  return { ip, port };
}

/** The node a packet from `from` to `to` enters first: the source pod's or node's, else the target node. */
export function entryNode(cluster: Cluster, from: number, to: number): string {
  const nodes = resolveNodes(cluster.config);
  const byIp = (ip: number) => nodes.find((n) => tryIpToU32(n.ip) === ip)?.name;
  const pod = cluster
    .list('Pod')
    .find(
      (p) =>
        !p.spec.hostNetwork && p.status.podIP !== undefined && tryIpToU32(p.status.podIP) === from,
    );
  return pod?.spec.nodeName ?? byIp(from) ?? byIp(to) ?? nodes[0]!.name;
}

function traceLine(hook: Hook, e: TraceEvent): string {
  const head = `${e.table}:${e.chain}:${e.kind}:${e.ruleNum}`;
  if (e.kind === 'rule') return `${head}  ${e.text}`;
  return `${head}  (${e.kind === 'policy' ? 'chain policy' : 'return'} at ${HOOK_NAMES[hook]})`;
}

export function registerTrace(program: Command): void {
  nodeViewOptions(
    program
      .command('trace')
      .description(
        'follow one new connection through a node, rule by rule (like iptables -j TRACE)',
      )
      .requiredOption('--from <ip>', 'source address (a pod, a node, or an outside client)')
      .requiredOption(
        '--to <ip:port>',
        'destination: IP:PORT (ClusterIP, node IP + NodePort, LB IP, pod) or svc/[NS/]NAME:PORT',
      )
      .option('--proto <proto>', 'tcp or udp', 'tcp'),
  ).action((o: NodeViewOptions & { from: string; to: string; proto: string }) => {
    const src = tryIpToU32(o.from);
    if (src === undefined)
      throw new CliError(`error: --from wants an IPv4 address, got "${o.from}"`);
    if (o.proto !== 'tcp' && o.proto !== 'udp') throw new CliError('error: --proto is tcp or udp');
    const first = nodeView({ ...o, node: o.node ?? 'k8s-master01' });
    const to = parseEndpoint(o.to, first.cluster);
    const toText = `${u32ToIp(to.ip)}:${to.port}`;
    const node = o.node ?? entryNode(first.cluster, src, to.ip);
    const { cluster, sim } = node === first.sim.node.name ? first : nodeView({ ...o, node });
    const lines: string[] = [];
    bindRedirect(sim); // userspace mode: REDIRECT needs the interfaces' addresses
    const steps = probe(
      sim,
      { proto: o.proto, src, dst: to.ip, dport: to.port },
      {
        tracer: (hook, e) => lines.push(traceLine(hook, e)),
      },
    );
    const s = steps[0]!;
    const after = parsePacket(s.packet);
    const out: string[] = [
      `# ${o.proto.toUpperCase()} ${o.from}:${40000 + (src & 0xfff)} -> ${toText} entering ${node} (${proxyMode(o.proxyMode)} mode) via ${sim.dataplane.describeIface(s.inIf)}`,
      ...lines,
    ];
    if (s.verdict === Verdict.Drop) {
      const c = sim.dataplane.counters;
      const reason = DROP_NAMES.find((_, i) => c.drops[i]! > 0) ?? 'dropped';
      out.push(`result: DROP (${reason})`);
      for (const e of s.emitted) {
        const i = parsePacket(e);
        out.push(
          `        node sent ICMP type ${i.icmpType} code ${i.icmpCode} from ${u32ToIp(i.src)} to ${u32ToIp(i.dst)}`,
        );
      }
    } else {
      const dnat = after.dst !== to.ip || after.dport !== to.port;
      // Masquerade may keep the address and move only the port (nf_nat_used_tuple): still SNAT.
      const snat = after.src !== src || after.sport !== 40000 + (src & 0xfff);
      out.push(
        `result: ${s.verdict === Verdict.Local ? 'LOCAL' : 'FORWARD'}` +
          ` dst ${dnat ? `DNAT ${toText} -> ${u32ToIp(after.dst)}:${after.dport}` : 'unchanged'}` +
          `, src ${snat ? `MASQUERADE ${o.from} -> ${u32ToIp(after.src)}:${after.sport}` : 'unchanged'}`,
      );
      if (s.verdict === Verdict.Forward) {
        const iface = sim.dataplane.ifaces[s.outIf];
        const via = iface?.kind === IfaceKind.Uplink ? ` via ${u32ToIp(s.nextHop)}` : '';
        out.push(`        out ${iface?.name ?? s.outIf}${via}`);
      }
      for (const e of sim.dataplane.ct.list(cluster.now() / 1e6))
        out.push(`conntrack: ${formatEntry(e)}`);
      // userspace mode: the connection ended at kube-proxy's port; its second one goes on.
      out.push(...relayTraceLines(sim, s, o.proto, src, cluster.now() / 1e6, traceLine));
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });
}
