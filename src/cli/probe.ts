// `svclab probe --netns NS --to IP[:PORT] --proto tcp|udp|icmp`: one crafted packet from
// a raw socket inside a network namespace, and what came back (SYN-ACK, RST, UDP reply,
// echo reply, ICMP error, or nothing within the timeout). Root only.
import type { Command } from 'commander';
import { tryIpToU32 } from '../packet/addr.ts';
import { type ProbeProto, type ProbeRequest, formatProbe, loadRawSocket } from '../lab/probe.ts';
import { probeInNamespace } from '../lab/probe-run.ts';
import { CliError } from './cluster-from-files.ts';

interface ProbeOptions {
  netns: string;
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
    .requiredOption('--netns <ns>', 'network namespace to send from (ip netns list)')
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
      let r;
      try {
        r = await probeInNamespace(o.netns, req);
      } catch (e) {
        throw new CliError(`error: probe from ${o.netns}: ${(e as Error).message}`);
      }
      console.log(o.json ? JSON.stringify(r) : formatProbe(r));
      if (r.outcome === 'timeout') throw new CliError('', 1);
    });
}
