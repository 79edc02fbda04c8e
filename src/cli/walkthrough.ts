// `svclab walkthrough`: replays the seed walkthrough (what `npm start` runs).
import type { Command } from 'commander';

export function registerWalkthrough(program: Command): void {
  program
    .command('walkthrough')
    .description(
      'replay the seed walkthrough (Services, kube-proxy modes, DNS, Ingress) in simulation',
    )
    .action(() => {
      console.log('svclab walkthrough: the simulated seed walkthrough is not built yet.');
      console.log('Available now: the packet layer (src/packet). See README.md for the roadmap.');
    });
}
