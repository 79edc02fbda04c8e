// The kernel differential test for whole flows (issue 15, section 3): real TCP, UDP and
// ICMP flows through a real node (k8s-node02 of test/kernel/fixtures/services.yaml)
// holding svclab's own rules for it (test/kernel/flow-lab.ts), captured as they enter and
// leave the node; the ingress capture is then replayed through svclab's node, packet by
// packet, as `svclab replay` does (src/sim/replay.ts), and what svclab sends out must be
// what the kernel sent out, every header field.
//
// One thing is mapped, not compared: a port MASQUERADE --random-fully / fully-random drew
// at random. Where svclab drew another port than the kernel, the kernel's port is mapped
// onto svclab's for the rest of that flow (the backend's answers to the kernel's port are
// replayed to svclab's), and the two must agree that a port was drawn. Flows go to the
// single-pod Service `solo`, so both sides pick the same backend.
// Skipped, with the reason, without root, ip, tcpdump, ping, iptables-restore or nft.
import test from 'ava';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { DROP_NAMES } from '../../src/dataplane/counters.ts';
import { nodeView } from '../../src/cli/node-view.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import type { PcapPacket } from '../../src/packet/pcap-read.ts';
import { natRewriteDst } from '../../src/packet/nat.ts';
import { runNodeTool } from '../../src/proxy/node-tool.ts';
import { replayPackets } from '../../src/sim/replay.ts';
import { FlowLab } from './flow-lab.ts';
import { kernelSkipReason, systemTool } from './kernel-node.ts';
import { EXTERNAL, describeError, describePacket } from './probes.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'services.yaml');
const NODE = 'k8s-node02';

const why =
  kernelSkipReason() ??
  (systemTool('tcpdump') === undefined ? 'tcpdump not installed' : undefined) ??
  (systemTool('ethtool') === undefined ? 'ethtool not installed' : undefined) ??
  (systemTool('ping') === undefined ? 'ping not installed' : undefined);

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const ip = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const ported = (b: Uint8Array) => b[9] === 6 || b[9] === 17;
const isError = (b: Uint8Array) => b[9] === 1 && (b[20] === 3 || b[20] === 11);

/** A packet as compared: errors without the IP ID the kernel draws; `sport` shown in place of its own. */
function words(b: Uint8Array, sport?: number): string {
  if (isError(b)) return describeError(b);
  const w = describePacket(b);
  if (sport === undefined || !ported(b)) return w;
  return w.replace(`${ip(b, 12)}:${u16(b, 20)} >`, `${ip(b, 12)}:${sport} >`);
}

if (why !== undefined) {
  test.skip(`kernel differential: whole flows (skipped: ${why})`, () => {});
} else {
  for (const mode of ['iptables', 'nftables'] as const) {
    test.serial(
      `kernel differential, whole flows, ${mode} mode: svclab replay sends what the kernel sent`,
      async (t) => {
        const { cluster, sim } = nodeView({ filename: [FIXTURE], proxyMode: mode, node: NODE });
        const now = cluster.now() / 1e6;
        const rules =
          mode === 'iptables'
            ? runNodeTool(sim, ['iptables-save'], now).stdout
            : runNodeTool(sim, ['nft', 'list', 'ruleset'], now).stdout;
        const solo = cluster.get('Service', 'default', 'solo')!;
        const empty = cluster.get('Service', 'default', 'empty')!;
        const soloPod = cluster.list('Pod').find((p) => p.metadata.labels?.app === 'solo')!;
        const nodeIp = '10.0.100.12';
        const lab = await FlowLab.start({
          sim,
          mode,
          rules,
          routeLocalnet: sim.proxier.routeLocalnet === true,
          toNode: [cluster.config.serviceCIDR, '192.168.100.0/24', sim.node.podCIDR],
          external: EXTERNAL,
          tag: mode[0]!,
        });
        let capture: { ingress: Uint8Array; egress: Uint8Array; stats: string };
        const ended: string[] = [];
        try {
          const b = lab.pods.get(soloPod.status.podIP!)!;
          const a = [...lab.pods.entries()].find(([ipA]) => ipA !== soloPod.status.podIP)![1];
          const lb = solo.status!.loadBalancer!.ingress![0]!.ip!;
          const ext = solo.spec.externalIPs![0]!;
          const cip = solo.spec.clusterIP!;
          // A capture that lost packets (tcpdump: dropped by kernel) proves nothing: run again.
          for (let attempt = 1; ; attempt++) {
            ended.length = 0;
            await lab.startCapture();
            const flow = (what: string, r: string) => ended.push(`${what}: ${r}`);
            flow('pod → ClusterIP tcp', lab.client(a, 'tcp', cip, 80));
            flow('hairpin tcp', lab.client(b, 'tcp', cip, 80));
            flow(
              'external → NodePort tcp',
              lab.client(lab.outside, 'tcp', nodeIp, 30083, EXTERNAL),
            );
            flow('external → LB tcp', lab.client(lab.outside, 'tcp', lb, 80, EXTERNAL));
            flow('external → externalIP tcp', lab.client(lab.outside, 'tcp', ext, 80, EXTERNAL));
            flow('pod → ClusterIP udp', lab.client(a, 'udp', cip, 53));
            flow(
              'external → NodePort udp',
              lab.client(lab.outside, 'udp', nodeIp, 30086, EXTERNAL),
            );
            flow('pod → ClusterIP udp TTL 1', lab.client(a, 'udp', cip, 53, '-', '1'));
            flow('pod → ClusterIP udp, TTL 1 mid-flow', lab.client(a, 'udp', cip, 53, '-', '+1'));
            flow('pod → no endpoints tcp', lab.client(a, 'tcp', empty.spec.clusterIP!, 80));
            flow('pod → no endpoints udp', lab.client(a, 'udp', empty.spec.clusterIP!, 53));
            flow('pod → pod ping', String(lab.ping(a, soloPod.status.podIP!)));
            flow(
              'external → pod ping',
              String(lab.ping(lab.outside, soloPod.status.podIP!, { src: EXTERNAL })),
            );
            flow(
              'external → pod ping TTL 1',
              String(
                lab.ping(lab.outside, soloPod.status.podIP!, { src: EXTERNAL, ttl: 1, count: 1 }),
              ),
            );
            capture = await lab.stopCapture();
            if (/ 0 packets dropped by kernel/.test(capture.stats) || attempt === 3) break;
            t.log(`capture ${attempt} lost packets (${capture.stats}): again`);
          }
        } finally {
          lab.close();
        }
        t.log(ended.join('; '));
        t.log(`tcpdump: ${capture!.stats}`);
        t.regex(capture!.stats, / 0 packets dropped by kernel/, 'the capture is whole');
        // The flows really ran through the kernel node (else there would be nothing to compare).
        t.deepEqual(ended, [
          'pod → ClusterIP tcp: echoed',
          'hairpin tcp: echoed',
          'external → NodePort tcp: echoed',
          'external → LB tcp: echoed',
          'external → externalIP tcp: echoed',
          'pod → ClusterIP udp: echoed',
          'external → NodePort udp: echoed',
          // Linux reports no time exceeded to a UDP socket without IP_RECVERR.
          'pod → ClusterIP udp TTL 1: sent',
          'pod → ClusterIP udp, TTL 1 mid-flow: sent',
          'pod → no endpoints tcp: error:ECONNREFUSED',
          'pod → no endpoints udp: error:ECONNREFUSED',
          'pod → pod ping: 0',
          'external → pod ping: 0',
          'external → pod ping TTL 1: 1',
        ]);

        const ingress = readPcap(capture.ingress).packets;
        const egress = readPcap(capture.egress).packets.map((p) => ({ p, used: false }));
        // Replay packet by packet (the clock follows the capture), pairing what svclab sends
        // with what the kernel sent, and mapping the kernel's masquerade ports onto svclab's.
        const portMap = new Map<string, number>();
        const diffs: string[] = [];
        let matched = 0;
        let prev: bigint | undefined;
        for (const p of ingress) {
          if (prev !== undefined && p.tsNs > prev) cluster.advance(Number(p.tsNs - prev));
          prev = p.tsNs;
          const data = p.data.slice();
          if (ported(data)) {
            const mapped = portMap.get(`${data[9]} ${ip(data, 16)}:${u16(data, 22)}`);
            if (mapped !== undefined)
              natRewriteDst(
                data,
                0,
                ((data[16]! << 24) | (data[17]! << 16) | (data[18]! << 8) | data[19]!) >>> 0,
                mapped,
              );
          }
          const outs: Uint8Array[] = [];
          const one: PcapPacket = { ...p, data };
          const drops = Float64Array.from(sim.dataplane.counters.drops);
          replayPackets(cluster, sim, [one], (_ts, out) => outs.push(out.slice()));
          // SVCLAB_KERNEL_DIFF_LOG=FILE: every packet in, and why svclab dropped it.
          const logFile = process.env.SVCLAB_KERNEL_DIFF_LOG;
          if (logFile !== undefined) {
            const d = DROP_NAMES.filter((_, i) => sim.dataplane.counters.drops[i]! > drops[i]!);
            appendFileSync(
              logFile,
              `${mode} in ${p.tsNs} ${words(p.data)}${d.length > 0 ? ` [svclab drop: ${d.join(',')}]` : ''}\n`,
            );
          }
          for (const o of outs) {
            const drawn = ported(o) && ported(p.data) && u16(o, 20) !== u16(p.data, 20);
            const ours = words(o);
            const hit = egress.find(({ p: k, used }) => {
              if (used) return false;
              if (!drawn) return words(k.data) === ours;
              // A drawn port: the kernel must have drawn one too; the rest must agree.
              return u16(k.data, 20) !== u16(p.data, 20) && words(k.data, u16(o, 20)) === ours;
            });
            if (hit === undefined) {
              diffs.push(`svclab sent, the kernel did not: ${ours}`);
              continue;
            }
            hit.used = true;
            matched++;
            if (drawn) portMap.set(`${o[9]} ${ip(o, 12)}:${u16(hit.p.data, 20)}`, u16(o, 20));
          }
        }
        for (const { p, used } of egress)
          if (!used) diffs.push(`the kernel sent, svclab did not: ${words(p.data)}`);
        const total = matched + diffs.length;
        t.log(
          `${mode} mode: ${matched} of ${total} packets agree (${ingress.length} packets in, ${egress.length} out of the kernel node)`,
        );
        t.deepEqual(diffs, [], diffs.join('\n'));
        t.true(matched >= 40, `${matched} packets matched`);
      },
    );
  }
}
