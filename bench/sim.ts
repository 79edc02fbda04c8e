// Simulation throughput: the full simulated cluster (three nodes' dataplanes, pod hosts
// running myapp, links with latency on the virtual clock) under a scenario-like load.
// The seed's myapp Deployment (3 pods) and Service, made a NodePort as the walkthrough
// does, and 1,000 outside hosts each making 10 HTTP requests (a fresh connection each,
// as curl does) to a node's NodePort, clients spread over the three nodes.
// Reports wall time (target: under 5 s), dataplane packets per wall second and requests
// completed. Run: npx tsx bench/sim.ts [--quick] [clients] [requestsPerClient] [mode]
import { loadManifests } from '../src/api/load.ts';
import { MILLISECOND, SECOND } from '../src/control/clock.ts';
import { Cluster, formatApplyResult } from '../src/control/cluster.ts';
import { httpRequest } from '../src/sim/http/client.ts';
import type { SimHost } from '../src/sim/host.ts';
import { SimNetwork } from '../src/sim/network.ts';
import type { ProxyMode } from '../src/control/node-setup.ts';
import { PodRuntime } from '../src/sim/runtime.ts';
import { figure, isQuick, printSuiteResult } from './figures.ts';

// --quick (svclab bench --quick): 100 clients × 5 requests.
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const quick = isQuick();
const clients = Number(args[0] ?? (quick ? 100 : 1000));
const perClient = Number(args[1] ?? (quick ? 5 : 10));
const mode = (args[2] ?? 'iptables') as ProxyMode;
const M = 'scenarios/seed/manifests';

const setupStart = performance.now();
const cluster = new Cluster({ seed: 1 });
const net = new SimNetwork(cluster, { mode });
new PodRuntime(cluster, net);
for (const files of [[`${M}/svc-deployment.yaml`, `${M}/svc.yaml`], [`${M}/nodeport.yaml`]]) {
  const loaded = loadManifests(files, {
    recursive: false,
    serviceCidr: cluster.config.serviceCIDR,
    nodePortRange: cluster.config.nodePortRange,
  });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  for (const r of cluster.apply(loaded.objects))
    if (r.error !== undefined) throw new Error(formatApplyResult(r));
}
cluster.advance(60 * SECOND);
const svc = cluster.get('Service', 'default', 'myapp')!;
const nodePort = svc.spec.ports[0]!.nodePort!;
const nodeIPs = [...net.nodes.values()].map((n) => n.node.ip);
const hosts: SimHost[] = Array.from({ length: clients }, (_, i) =>
  net.addExternalHost(`client-${i}`, `192.168.${10 + Math.floor(i / 200)}.${1 + (i % 200)}`),
);
const setupMs = performance.now() - setupStart;

let completed = 0;
let failed = 0;
let pending = clients * perClient;
function next(host: SimHost, i: number, left: number): void {
  if (left === 0) return;
  httpRequest(host, { ip: nodeIPs[i % nodeIPs.length]!, port: nodePort, path: '/' }, (err, res) => {
    pending--;
    if (err === undefined && res?.status === 200) completed++;
    else failed++;
    next(host, i, left - 1);
  });
}

const packetsBefore = dataplanePackets();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const v0 = cluster.now();
hosts.forEach((h, i) => next(h, i, perClient));
// Run virtual time until every request has finished, a millisecond at a time (advance
// settles the controllers once per call as well as per timer instant: fewer calls, less
// overhead). Bounded: a stuck run must end.
const clock = cluster.clock;
const deadline = clock.now() + 600 * SECOND;
while (pending > 0 && clock.now() < deadline && clock.nextTime() !== undefined)
  cluster.advance(MILLISECOND);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const packets = dataplanePackets() - packetsBefore;

function dataplanePackets(): number {
  let n = 0;
  for (const s of net.nodes.values()) {
    const v = s.dataplane.counters.verdicts;
    n += v[0]! + v[1]! + v[2]!;
  }
  return n;
}

const f = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `sim: ${clients} outside clients x ${perClient} HTTP requests to NodePort ${nodePort}, ${mode} mode`,
);
console.log(`  setup (cluster, pods, ${clients} hosts): ${f(setupMs)} ms`);
console.log(
  `  requests completed: ${f(completed)} of ${f(clients * perClient)} (${f(failed)} failed, ${f(pending)} unfinished)`,
);
console.log(
  `  wall time: ${(wallMs / 1000).toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; target < 5 s)`,
);
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(
  `  dataplane packets: ${f(packets)} (${f(packets / (wallMs / 1000))} per wall second, ${f(packets / cpuS)} per CPU second)`,
);
console.log(`  virtual time simulated: ${((cluster.now() - v0) / SECOND).toFixed(3)} s`);
printSuiteResult({
  suite: 'sim',
  figures: [
    figure('http-requests-wall', 's', [wallMs / 1000], { mode }),
    figure('http-requests-cpu', 's', [cpuS], { mode }),
    figure('sim-packets', 'packets/s', [packets / (wallMs / 1000)], { mode }),
    // Per CPU second of the whole process (GC and compiler threads included).
    figure('sim-packets-cpu', 'packets/cpu-s', [packets / cpuS], { mode }),
    figure('dataplane-packets', 'packets', [packets], { mode }),
    figure('requests-completed', 'requests', [completed], { mode }),
  ],
});
process.exitCode = pending === 0 ? 0 : 1;
