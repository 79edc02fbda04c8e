// `svclab iptables-save`, `svclab iptables -t TABLE -nvL [CHAIN]` and `svclab nft list
// ruleset`: the rules kube-proxy writes on one node, in the real tools' formats.
import type { Command } from 'commander';
import { IptablesProxier } from '../proxy/iptables/proxier.ts';
import { NftablesProxier } from '../proxy/nftables/proxier.ts';
import type { TableName } from '../proxy/iptables/rules.ts';
import { CliError } from './cluster-from-files.ts';
import { type NodeViewOptions, nodeView, nodeViewOptions } from './node-view.ts';

function iptablesOf(o: NodeViewOptions): IptablesProxier {
  const { sim } = nodeView(o);
  if (!(sim.proxier instanceof IptablesProxier)) {
    throw new CliError('error: iptables views need --proxy-mode iptables');
  }
  return sim.proxier;
}

function table(t: string | undefined): TableName {
  const name = t ?? 'filter';
  if (name !== 'nat' && name !== 'filter') {
    throw new CliError(`iptables v1.8.9 (nf_tables): table '${name}' does not exist`);
  }
  return name;
}

export function registerIptables(program: Command): void {
  nodeViewOptions(
    program
      .command('iptables-save')
      .description(
        "print the node's kube-proxy rules as iptables-save does (loads with iptables-restore)",
      )
      .option('-t, --table <table>', 'only this table (nat or filter)')
      .option('-c, --counters', 'include [packets:bytes] counters'),
  ).action((o: NodeViewOptions & { table?: string; counters?: boolean }) => {
    const px = iptablesOf(o);
    process.stdout.write(
      px.save({
        ...(o.table !== undefined ? { table: table(o.table) } : {}),
        counters: o.counters === true,
      }),
    );
  });

  nodeViewOptions(
    program
      .command('iptables')
      .description("list the node's rules like `iptables -t nat -nvL [CHAIN]`")
      .option('-t, --table <table>', 'nat or filter', 'filter')
      .option('-L, --list [chain]', 'list rules (all chains, or one)')
      .option('-n, --numeric', 'numeric output (always on)')
      .option('-v, --verbose', 'counters and interfaces')
      .option('-x, --exact', 'exact counter values'),
  ).action(
    (
      o: NodeViewOptions & {
        table?: string;
        list?: string | boolean;
        verbose?: boolean;
        exact?: boolean;
      },
    ) => {
      if (o.list === undefined)
        throw new CliError('iptables: only -L (list) is supported; try -t nat -nvL');
      const px = iptablesOf(o);
      process.stdout.write(
        px.list(table(o.table), {
          verbose: o.verbose === true,
          exact: o.exact === true,
          ...(typeof o.list === 'string' ? { chain: o.list } : {}),
        }),
      );
    },
  );
}

export function registerNft(program: Command): void {
  nodeViewOptions(
    program
      .command('nft')
      .description("the node's kube-proxy table in nftables mode, as `nft list ruleset` prints it")
      .argument('<words...>', 'list ruleset'),
    'nftables',
  ).action((words: string[], o: NodeViewOptions) => {
    if (words.join(' ') !== 'list ruleset')
      throw new CliError('svclab: only `nft list ruleset` is simulated');
    const { sim } = nodeView({ ...o, proxyMode: o.proxyMode ?? 'nftables' });
    if (!(sim.proxier instanceof NftablesProxier))
      throw new CliError('error: nft views need --proxy-mode nftables');
    process.stdout.write(sim.proxier.listRuleset());
  });
}
