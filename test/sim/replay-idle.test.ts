// Replay jumps idle time: two packets 136 years apart replay as two packets, with the
// virtual clock moved by at most IDLE_JUMP_NS between them (not 136 years of timers).
import test from 'ava';
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import { setUpNode } from '../../src/control/node-setup.ts';
import { ipToU32 } from '../../src/packet/addr.ts';
import { buildTcp } from '../../src/packet/build.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { IDLE_JUMP_NS, replayPackets } from '../../src/sim/replay.ts';

test('a capture whose timestamps are 136 years apart replays with one idle jump', (t) => {
  const cluster = clusterFromFiles({
    files: ['scenarios/seed/manifests/svc-deployment.yaml', 'scenarios/seed/manifests/svc.yaml'],
  });
  const sim = setUpNode(cluster, 'k8s-node01', { mode: 'iptables' });
  const client = [...sim.podIfaces.keys()].sort((a, b) => a - b)[0]!;
  const vip = ipToU32(cluster.get('Service', 'default', 'myapp')!.spec.clusterIP!);
  const syn = (sport: number) =>
    buildTcp({ src: client, dst: vip, sport, dport: 80, flags: TcpFlags.SYN, seq: 1 });
  const start = cluster.now();
  const firedBefore = cluster.clock.fired;
  const stats = replayPackets(
    cluster,
    sim,
    [
      { tsNs: 0n, data: syn(40000), origLen: 60 },
      { tsNs: 136n * 365n * 86400n * 1_000_000_000n, data: syn(40001), origLen: 60 },
    ] as never,
    () => undefined,
  );
  t.is(stats.read, 2);
  t.is(stats.forwarded, 2);
  t.is(stats.jumps, 1);
  t.is(cluster.now() - start, IDLE_JUMP_NS);
  // Six days of the control plane's periodic timers, not 136 years of them.
  t.true(cluster.clock.fired - firedBefore < 1_000_000, String(cluster.clock.fired - firedBefore));
});
