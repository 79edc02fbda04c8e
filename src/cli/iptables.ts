// `svclab iptables-save`, `svclab iptables -t TABLE -nvL|-S [CHAIN]` and `svclab nft list
// ruleset|table|chain ...`: the rules on one node, in the real tools' formats, in any proxy
// mode (ipvs mode's own iptables rules included). The options are declared for --help and
// so that svclab's own options after them still parse; the tool's arguments themselves go
// through the tools' one grammar (src/proxy/tool-args.ts).
import type { Command } from 'commander';
import { type NodeViewOptions, nodeViewOptions, runNodeViewTool } from './node-view.ts';

export function registerIptables(program: Command): void {
  nodeViewOptions(
    program
      .command('iptables-save')
      .description(
        "print the node's kube-proxy rules as iptables-save does (loads with iptables-restore)",
      )
      .option('-t, --table <table>', 'only this table (nat or filter)')
      .option('-c, --counters', 'include [packets:bytes] counters')
      .allowUnknownOption()
      .allowExcessArguments(),
  ).action((o: NodeViewOptions, cmd: Command) => runNodeViewTool(cmd, o));

  nodeViewOptions(
    program
      .command('iptables')
      .description("list the node's rules like `iptables -t nat -nvL [CHAIN]` or `-S [CHAIN]`")
      .option('-t, --table <table>', 'nat or filter', 'filter')
      .option('-L, --list [chain]', 'list rules (all chains, or one)')
      .option('-S, --list-rules [chain]', 'print rules as iptables-save does')
      .option('-n, --numeric', 'numeric output (always on)')
      .option('-v, --verbose', 'counters and interfaces')
      .option('-x, --exact', 'exact counter values')
      .option('--line-numbers', 'number the rules of each chain')
      .allowUnknownOption()
      .allowExcessArguments(),
  ).action((o: NodeViewOptions, cmd: Command) => runNodeViewTool(cmd, o));
}

export function registerNft(program: Command): void {
  nodeViewOptions(
    program
      .command('nft')
      .description(
        "the node's kube-proxy table in nftables mode: `nft list ruleset|tables|table T|chain T C`",
      )
      .argument('<words...>', 'list ruleset')
      .allowUnknownOption(),
    'nftables',
  ).action((_words: string[], o: NodeViewOptions, cmd: Command) => runNodeViewTool(cmd, o));
}
