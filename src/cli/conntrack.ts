// `svclab conntrack -L|-C|-S -f MANIFESTS [--connect FROM,TO:PORT[/udp]]...`: a node's
// connection table in conntrack-tools' format, after the given connections have gone
// through it (each completes its handshake, so TCP flows show ESTABLISHED).
import type { Command } from 'commander';
import { formatCount, formatList, formatStats } from '../conntrack/format.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import { probe } from '../sim/probe.ts';
import { CliError, collect } from './cluster-from-files.ts';
import { type NodeViewOptions, nodeView, nodeViewOptions } from './node-view.ts';
import { parseEndpoint } from './trace.ts';

export function parseConnect(s: string): {
  src: number;
  dst: number;
  dport: number;
  proto: 'tcp' | 'udp';
} {
  const m = /^([^,]+),([^/]+)(?:\/(tcp|udp))?$/.exec(s);
  const src = m ? tryIpToU32(m[1]!) : undefined;
  if (!m || src === undefined)
    throw new CliError(`error: --connect wants FROM,TO:PORT[/tcp|udp], got "${s}"`);
  const to = parseEndpoint(m[2]!);
  return { src, dst: to.ip, dport: to.port, proto: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

export function registerConntrack(program: Command): void {
  nodeViewOptions(
    program
      .command('conntrack')
      .description("a node's conntrack table (-L list, -C count, -S stats) after --connect flows")
      .option('-L, --dump', 'list the connection tracking table')
      .option('-C, --count', 'show the table counter')
      .option('-S, --stats', 'show in-kernel statistics')
      .option('-o, --output <fmt>', 'extended: prefix the layer-3 protocol')
      .option(
        '--connect <from,to:port[/proto]>',
        'run a connection through the node first (repeatable)',
        collect,
        [],
      ),
  ).action(
    (
      o: NodeViewOptions & {
        dump?: boolean;
        count?: boolean;
        stats?: boolean;
        output?: string;
        connect: string[];
      },
    ) => {
      const conns = o.connect.map(parseConnect);
      const { cluster, sim } = nodeView(o);
      conns.forEach((c, i) => probe(sim, { ...c, sport: 40000 + i }, { complete: true }));
      const ct = sim.dataplane.ct;
      if (o.count) process.stdout.write(formatCount(ct.count));
      else if (o.stats) process.stdout.write(formatStats(ct.stats));
      else {
        const { stdout, stderr } = formatList(ct.list(cluster.now() / 1e6), {
          extended: o.output === 'extended',
        });
        process.stdout.write(stdout);
        process.stderr.write(stderr);
      }
    },
  );
}
