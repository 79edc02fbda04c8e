// `svclab walkthrough` (what `npm start` runs): the seed walkthrough replayed in
// simulation — scenarios/seed/walkthrough.yaml, its parts in order, as a terminal session.
import type { Command } from 'commander';
import { repoPath } from '../lab/repo.ts';
import { CliError } from './cluster-from-files.ts';
import { proxyMode } from './node-view.ts';
import { runAll, scenarioFiles, summarize } from './run.ts';

export const SEED_WALKTHROUGH = repoPath('scenarios', 'seed', 'walkthrough.yaml');

export function registerWalkthrough(program: Command): void {
  program
    .command('walkthrough')
    .description(
      'replay the seed walkthrough (Services, kube-proxy modes, DNS, Ingress) in simulation',
    )
    .option(
      '--proxy-mode <mode>',
      "iptables, ipvs or nftables (default ipvs, as in the seed's cluster)",
      'ipvs',
    )
    .option('--pcap <file>', 'write every packet to a pcap file')
    .action(async (o: { proxyMode?: string; pcap?: string }) => {
      process.stdout.write(
        'svclab: the seed walkthrough (k8s详解Service和Ingress), replayed on a simulated 3-node cluster.\n' +
          'Every curl and dig below is real IPv4 packets through a userspace kube-proxy dataplane.\n',
      );
      const reports = await runAll(scenarioFiles([SEED_WALKTHROUGH]), {
        mode: proxyMode(o.proxyMode),
        ...(o.pcap ? { pcap: o.pcap, onPcap: (t: string) => process.stderr.write(t) } : {}),
        onOutput: (s) => process.stdout.write(s),
      });
      process.stdout.write(`\n${summarize(reports)}`);
      if (reports.some((r) => r.failures.length > 0)) throw new CliError('', 1);
    });
}
