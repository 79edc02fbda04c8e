// The kernel differential test (issue 15, section 3): svclab's own rules for a node —
// what `svclab iptables-save` / `svclab nft list ruleset -f test/kernel/fixtures/services.yaml`
// print — loaded into a real kernel in a namespace (test/kernel/kernel-node.ts), real first
// packets sent for every probe (test/kernel/probes.ts), and the kernel's verdict (from
// conntrack events and what left its devices) put beside svclab's for the same packet on
// the same node, as `svclab trace` sends it. Every node of the fixture cluster is probed in
// iptables and nftables mode. Agreement must be whole; docs/kernel-diff.md has the numbers.
// Skipped, with the reason, without root, TUN, ip, iptables-restore, nft or conntrack.
import test from 'ava';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeView } from '../../src/cli/node-view.ts';
import { resolveNodes } from '../../src/control/cluster-config.ts';
import { ipToU32 } from '../../src/packet/addr.ts';
import { runNodeTool } from '../../src/proxy/node-tool.ts';
import { ingressFor } from '../../src/sim/probe.ts';
import { KernelNode, kernelSkipReason, sleep } from './kernel-node.ts';
import {
  fromNode,
  kernelOutcome,
  kernelTarget,
  listenPorts,
  localProbe,
  probePacket,
  probesFor,
  svclabOutcome,
} from './probes.ts';
import type { Probe } from './probes.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'services.yaml');
const MODES = ['iptables', 'nftables'] as const;

/** Differences svclab keeps on purpose, by probe name, with the reason (docs/kernel-diff.md). */
const KNOWN: Record<string, string> = {};

const why = kernelSkipReason();

if (why !== undefined) {
  test.skip(`kernel differential: first packets (skipped: ${why})`, () => {});
} else {
  for (const mode of MODES) {
    test.serial(
      `kernel differential, first packets, ${mode} mode: svclab trace agrees with the kernel`,
      async (t) => {
        const first = nodeView({ filename: [FIXTURE], proxyMode: mode });
        const nodes = resolveNodes(first.cluster.config).map((n) => n.name);
        let total = 0;
        const diffs: string[] = [];
        const kinds = new Set<string>();
        const log: string[] = [];
        for (const [i, name] of nodes.entries()) {
          const { cluster, sim } = nodeView({ filename: [FIXTURE], proxyMode: mode, node: name });
          const now = cluster.now() / 1e6;
          const rules =
            mode === 'iptables'
              ? runNodeTool(sim, ['iptables-save'], now).stdout
              : runNodeTool(sim, ['nft', 'list', 'ruleset'], now).stdout;
          const probes = probesFor(cluster, sim, i * 1000);
          const kernel = await KernelNode.start({
            sim,
            mode,
            rules,
            routeLocalnet: sim.proxier.routeLocalnet === true,
            listen: listenPorts(cluster, probes),
            tag: `${mode[0]}${i}`,
          });
          let outcomes: { probe: Probe; kernel: string }[];
          try {
            const wire = probes.filter((p) => !fromNode(p));
            for (const p of wire) {
              const dev = ingressFor(sim, ipToU32(p.src)) === 1 ? 'eth0' : 'pod0';
              kernel.inject(dev, [probePacket(p)]);
            }
            const own = probes.filter(fromNode);
            const results = await kernel.local(own.map(localProbe));
            // Until nothing more arrives (a busy machine may deliver events late).
            for (let seen = -1, quiet = 0; quiet < 2;) {
              await sleep(150);
              const count = kernel.events.length + kernel.out.length;
              quiet = count === seen ? quiet + 1 : 0;
              seen = count;
            }
            const out = kernel.take();
            outcomes = probes.map((p) => ({
              probe: p,
              kernel: kernelOutcome(
                p,
                kernel.events,
                out,
                results.find((r) => r.id === p.id),
              ),
            }));
          } finally {
            kernel.close();
          }
          for (const { probe, kernel: k } of outcomes) {
            const target = kernelTarget(kernel.events, probe);
            const ours = svclabOutcome(sim, probe, target);
            total++;
            kinds.add(k.split(' ')[0]!);
            log.push(
              `${mode} ${name}: ${probe.name}\n    kernel: ${k}${ours === k ? '' : `\n    svclab: ${ours}`}`,
            );
            if (ours !== k && KNOWN[probe.name] === undefined) {
              diffs.push(`${name}: ${probe.name}\n    kernel: ${k}\n    svclab: ${ours}`);
            }
          }
        }
        // SVCLAB_KERNEL_DIFF_LOG=FILE: every probe and both verdicts, for reading.
        const logFile = process.env.SVCLAB_KERNEL_DIFF_LOG;
        if (logFile !== undefined) appendFileSync(logFile, log.join('\n') + '\n');
        t.log(
          `${mode} mode: ${total - diffs.length} of ${total} probes agree (${nodes.length} nodes)`,
        );
        t.log(`kernel verdicts seen: ${[...kinds].sort().join(', ')}`);
        // A harness that saw nothing would agree on DROP everywhere: every kind must show up.
        for (const kind of ['FORWARD', 'LOCAL', 'ICMP', 'DROP'])
          t.true(kinds.has(kind), `a ${kind} verdict was seen`);
        t.true(total > 100, `${total} probes`);
        t.deepEqual(diffs, [], diffs.join('\n'));
      },
    );
  }
}
