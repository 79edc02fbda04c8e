// `svclab ipvsadm -Ln [--stats|--rate|-c] [-t|-u ADDR:PORT] -f MANIFESTS` and `svclab ipset
// list [NAME]`: the IPVS table and kube-proxy's ipsets on one node (ipvs mode by default;
// in other modes the tools answer as on such a node: an empty table, no sets). The tool's
// arguments go through the tools' one grammar (src/proxy/tool-args.ts).
import type { Command } from 'commander';
import { connectFlows } from './conntrack.ts';
import { collect } from './cluster-from-files.ts';
import { type NodeViewOptions, nodeViewOptions, runNodeViewTool } from './node-view.ts';

export function registerIpvs(program: Command): void {
  nodeViewOptions(
    program
      .command('ipvsadm')
      .description("the node's IPVS table in ipvs mode, as `ipvsadm -Ln` prints it")
      .option('-L, --list', 'list the table')
      .option('-l', 'list the table')
      .option('-n, --numeric', 'numeric output (always on)')
      .option('-c, --connection', 'list connections')
      .option('--stats', 'packet and byte counters')
      .option('--rate', 'rate estimates')
      .option('--thresholds', 'upper and lower connection thresholds')
      .option('--persistent-conn', 'persistent connection counters')
      .option('--exact', 'exact numbers')
      .option('--nosort', 'kernel order')
      .option('-t, --tcp-service <addr:port>', 'one TCP virtual service')
      .option('-u, --udp-service <addr:port>', 'one UDP virtual service')
      .option(
        '--connect <from,to:port[/proto]>',
        'run a connection through the node first (repeatable)',
        collect,
        [],
      )
      .allowUnknownOption()
      .allowExcessArguments(),
    'ipvs',
  ).action((o: NodeViewOptions & { connect: string[] }, cmd: Command) =>
    runNodeViewTool(cmd, o, connectFlows(o.connect)),
  );

  nodeViewOptions(
    program
      .command('ipset')
      .description(
        "kube-proxy's ipsets on the node in ipvs mode, as `ipset list [NAME]` prints them",
      )
      .argument('[words...]', 'list [NAME]')
      .allowUnknownOption(),
    'ipvs',
  ).action((_words: string[], o: NodeViewOptions, cmd: Command) => runNodeViewTool(cmd, o));
}
