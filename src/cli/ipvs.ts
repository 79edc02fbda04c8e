// `svclab ipvsadm -Ln [--stats|--rate|-c] -f MANIFESTS` and `svclab ipset list`: the
// IPVS table and kube-proxy's ipsets on one node in ipvs mode, as ipvsadm/ipset print them.
import type { Command } from 'commander';
import { IpvsDataplaneProxier } from '../proxy/ipvs/dataplane.ts';
import type { IpvsProxier } from '../proxy/ipvs/proxier.ts';
import { CliError } from './cluster-from-files.ts';
import { type NodeViewOptions, nodeView, nodeViewOptions } from './node-view.ts';
import { parseConnect } from './conntrack.ts';
import { probe } from '../sim/probe.ts';

function ipvsOf(o: NodeViewOptions & { connect?: string[] }): { ipvs: IpvsProxier; nowMs: number } {
  const { cluster, sim } = nodeView({ ...o, proxyMode: o.proxyMode ?? 'ipvs' });
  if (!(sim.proxier instanceof IpvsDataplaneProxier)) {
    throw new CliError('error: ipvsadm views need --proxy-mode ipvs');
  }
  (o.connect ?? [])
    .map(parseConnect)
    .forEach((c, i) => probe(sim, { ...c, sport: 40000 + i }, { complete: true }));
  return { ipvs: sim.proxier.ipvs, nowMs: cluster.now() / 1e6 };
}

export function registerIpvs(program: Command): void {
  nodeViewOptions(
    program
      .command('ipvsadm')
      .description("the node's IPVS table in ipvs mode, as `ipvsadm -Ln` prints it")
      .option('-L, --list', 'list the table')
      .option('-n, --numeric', 'numeric output (always on)')
      .option('-c, --connection', 'list connections')
      .option('--stats', 'packet and byte counters')
      .option('--rate', 'rate estimates')
      .option('--exact', 'exact numbers')
      .option(
        '--connect <from,to:port[/proto]>',
        'run a connection through the node first (repeatable)',
        (v: string, p: string[] = []) => [...p, v],
        [],
      ),
    'ipvs',
  ).action(
    (
      o: NodeViewOptions & {
        list?: boolean;
        connection?: boolean;
        stats?: boolean;
        rate?: boolean;
        exact?: boolean;
        connect: string[];
      },
    ) => {
      if (!o.list && !o.connection)
        throw new CliError('ipvsadm: only -L (list) is simulated; try ipvsadm -Ln');
      const { ipvs, nowMs } = ipvsOf(o);
      process.stdout.write(
        o.connection
          ? ipvs.ipvsadmConnections(nowMs)
          : ipvs.ipvsadm({
              stats: o.stats === true,
              rate: o.rate === true,
              exact: o.exact === true,
            }),
      );
    },
  );

  nodeViewOptions(
    program
      .command('ipset')
      .description("kube-proxy's ipsets on the node in ipvs mode, as `ipset list` prints them")
      .argument('[list]', 'the subcommand (only list)'),
    'ipvs',
  ).action((sub: string | undefined, o: NodeViewOptions) => {
    if (sub !== undefined && sub !== 'list')
      throw new CliError(`ipset v7.17: unknown command ${sub}`);
    process.stdout.write(ipvsOf(o).ipvs.ipsetList());
  });
}
