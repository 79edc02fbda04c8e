// `svclab probe --from NAME --to IP[:PORT] --proto tcp|udp|icmp`: one crafted packet
// from a raw socket inside a lab namespace (a pod, client, external, a node; or any
// namespace with --netns), and what came back (SYN-ACK, RST, UDP reply, echo reply,
// ICMP error, or nothing within the timeout). In a lab, the node's conntrack names the
// backend the Service picked. Root only.
import type { Command } from 'commander';
import { tryIpToU32 } from '../packet/addr.ts';
import { type ProbeProto, type ProbeRequest, formatProbe, loadRawSocket } from '../lab/probe.ts';
import { probeInNamespace } from '../lab/probe-run.ts';
import { DEFAULT_PREFIX } from '../lab/names.ts';
import type { ProbeResult } from '../lab/probe.ts';
import { CliError } from './cluster-from-files.ts';
import { ask, labStatus, netnsFor } from './lab.ts';

interface ProbeOptions {
  from?: string;
  netns?: string;
  prefix: string;
  to: string;
  proto: string;
  timeout: string;
  sport?: string;
  json?: boolean;
}

export function parseProbeTarget(to: string, proto: ProbeProto): { dst: string; port?: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(to);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (
    !m ||
    tryIpToU32(m[1]!) === undefined ||
    (port !== undefined && !(port >= 1 && port <= 65535))
  )
    throw new CliError(`error: --to wants IP or IP:PORT, got "${to}"`);
  if (proto !== 'icmp' && port === undefined)
    throw new CliError(`error: --proto ${proto} needs a port: --to ${to}:PORT`);
  return { dst: m[1]!, ...(port !== undefined && proto !== 'icmp' ? { port } : {}) };
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('send one crafted packet from inside a network namespace and report the answer')
    .option('--from <name>', 'lab host to send from: a pod, client, external or a node')
    .option('--netns <ns>', 'any network namespace to send from (instead of --from)')
    .option('--prefix <prefix>', 'name prefix of the lab (with --from)', DEFAULT_PREFIX)
    .requiredOption('--to <ip[:port]>', 'destination (a ClusterIP:port, a pod, a node port)')
    .option('--proto <proto>', 'tcp | udp | icmp', 'tcp')
    .option('--timeout <ms>', 'how long to wait for an answer', '1000')
    .option('--sport <port>', 'source port (tcp/udp) or echo id (icmp)')
    .option('--json', 'print the result as JSON')
    .action(async (o: ProbeOptions) => {
      if (o.proto !== 'tcp' && o.proto !== 'udp' && o.proto !== 'icmp')
        throw new CliError(`error: --proto must be tcp, udp or icmp, got "${o.proto}"`);
      const raw = loadRawSocket();
      if (typeof raw === 'string') throw new CliError(`error: ${raw}`);
      if (process.getuid?.() !== 0)
        throw new CliError('error: svclab probe needs root (raw sockets, ip netns exec)');
      const req: ProbeRequest = {
        proto: o.proto,
        ...parseProbeTarget(o.to, o.proto),
        timeoutMs: Number(o.timeout),
        ...(o.sport !== undefined ? { sport: Number(o.sport) } : {}),
      };
      if ((o.from === undefined) === (o.netns === undefined))
        throw new CliError('error: give --from NAME (a lab host) or --netns NS');
      let netns = o.netns;
      if (o.from !== undefined) {
        const s = await labStatus(o.prefix);
        netns = netnsFor(s, o.from);
        if (netns === undefined)
          throw new CliError(
            `error: no pod, node or host named "${o.from}" in lab ${o.prefix} (try: ${s.hosts.map((h) => h.name).join(', ')})`,
          );
      }
      let r: ProbeResult;
      try {
        r = await probeInNamespace(netns!, req);
      } catch (e) {
        throw new CliError(`error: probe from ${netns}: ${(e as Error).message}`);
      }
      const backend =
        o.from !== undefined && r.outcome !== 'timeout' ? await backendOf(o.prefix, r) : undefined;
      if (o.json) console.log(JSON.stringify(backend === undefined ? r : { ...r, backend }));
      else console.log(formatProbe(r) + (backend === undefined ? '' : ` (backend ${backend})`));
      if (r.outcome === 'timeout') throw new CliError('', 1);
    });
}

/**
 * The backend a Service sent the probe to, from the conntrack entry of its flow on the
 * node that NATed it: the reply tuple's source, when it differs from the address probed.
 */
async function backendOf(prefix: string, r: ProbeResult): Promise<string | undefined> {
  const s = await labStatus(prefix);
  for (const node of s.hosts.filter((h) => h.kind === 'node')) {
    const reply = await ask(prefix, { cmd: 'show', what: 'conntrack', node: node.name });
    if (!reply.ok || reply.stdout === undefined) continue;
    const hit = backendFromConntrack(reply.stdout, r);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** In `conntrack -L` lines, the reply source[:port] of the probe's flow, if it was DNATed. */
export function backendFromConntrack(
  listing: string,
  r: Pick<ProbeResult, 'proto' | 'src' | 'sport' | 'dst'>,
): string | undefined {
  const idKey = r.proto === 'icmp' ? 'id' : 'sport';
  for (const line of listing.split('\n')) {
    const srcs = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]);
    const ids = [...line.matchAll(new RegExp(`\\b${idKey}=(\\d+)`, 'g'))].map((m) => m[1]);
    if (!line.startsWith(r.proto) || srcs[0] !== r.src || ids[0] !== String(r.sport)) continue;
    const backend = srcs[1];
    if (backend === undefined || backend === r.dst) return undefined;
    const port = r.proto === 'icmp' ? undefined : [...line.matchAll(/\bsport=(\d+)/g)][1]?.[1];
    return port === undefined ? backend : `${backend}:${port}`;
  }
  return undefined;
}
