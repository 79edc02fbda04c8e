// `svclab conntrack -L|-C|-S -f MANIFESTS [--connect FROM,TO:PORT[/udp]]...`: a node's
// connection table in conntrack-tools' format, after the given connections have gone
// through it (each completes its handshake, so TCP flows show ESTABLISHED).
import type { Command } from 'commander';
import type { SimNode } from '../control/node-setup.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import { probe } from '../sim/probe.ts';
import { CliError, collect } from './cluster-from-files.ts';
import { type NodeViewOptions, nodeViewOptions, runNodeViewTool } from './node-view.ts';
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

/** --connect FROM,TO:PORT[/proto]: run these connections through the node first. */
export function connectFlows(specs: readonly string[]): (sim: SimNode) => void {
  const conns = specs.map(parseConnect);
  return (sim) =>
    conns.forEach((c, i) => probe(sim, { ...c, sport: 40000 + i }, { complete: true }));
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
      .option('-p, --proto <proto>', 'only this layer-4 protocol (tcp, udp, icmp)')
      .option('-s, --orig-src <ip>', 'original source address')
      .option('-d, --orig-dst <ip>', 'original destination address')
      .option('-r, --reply-src <ip>', 'reply source address')
      .option('-q, --reply-dst <ip>', 'reply destination address')
      .option('--sport <port>', 'original source port (with -p)')
      .option('--dport <port>', 'original destination port (with -p)')
      .option('-m, --mark <mark>', 'connection mark')
      .option('-n, --src-nat', 'source-NATed flows only')
      .option('-g, --dst-nat', 'destination-NATed flows only')
      .option(
        '--connect <from,to:port[/proto]>',
        'run a connection through the node first (repeatable)',
        collect,
        [],
      )
      .allowUnknownOption()
      .allowExcessArguments(),
  ).action((o: NodeViewOptions & { connect: string[] }, cmd: Command) =>
    runNodeViewTool(cmd, o, connectFlows(o.connect)),
  );
}
