// `svclab walkthrough` (what `npm start` runs): the seed walkthrough replayed in
// simulation on one cluster — scenarios/walkthrough.yaml, as a terminal session. It starts
// as kubeadm leaves a cluster (kube-proxy's blank mode: iptables) and switches to ipvs as
// the seed's readers did, through the kube-proxy ConfigMap; so it takes no --proxy-mode.
import type { Command } from 'commander';
import { repoPath } from '../lab/repo.ts';
import { CliError } from './cluster-from-files.ts';
import { runAll, scenarioFiles, summarize } from './run.ts';

export const SEED_WALKTHROUGH = repoPath('scenarios', 'walkthrough.yaml');

export function registerWalkthrough(program: Command): void {
  program
    .command('walkthrough')
    .description(
      'replay the seed walkthrough (Services, kube-proxy modes, DNS, Ingress) in simulation',
    )
    .option('--pcap <file>', 'write every packet to a pcap file')
    .action(async (o: { pcap?: string }) => {
      process.stdout.write(
        'svclab: the seed walkthrough (k8s详解Service和Ingress), replayed on one simulated 3-node cluster.\n' +
          'Every curl and dig below is real IPv4 packets through a userspace kube-proxy dataplane.\n',
      );
      const reports = await runAll(scenarioFiles([SEED_WALKTHROUGH]), {
        ...(o.pcap ? { pcap: o.pcap, onPcap: (t: string) => process.stderr.write(t) } : {}),
        onOutput: (s) => process.stdout.write(s),
      });
      process.stdout.write(`\n${summarize(reports)}`);
      if (reports.some((r) => r.failures.length > 0)) throw new CliError('', 1);
    });
}
