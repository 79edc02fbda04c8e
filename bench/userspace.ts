// Why userspace mode was replaced (kube-proxy v1.2 made iptables the default): in userspace
// mode every packet of a Service connection is delivered to kube-proxy on the node, copied
// through its process and sent again on a second connection to the backend; in iptables
// mode the kernel DNATs it once and forwards it. This suite pushes one bulk TCP transfer
// from a client pod to a backend pod through a ClusterIP, in the whole simulated cluster,
// once in iptables mode and once in userspace mode per round, and reports the CPU time per
// KiB delivered in each and their ratio (userspace / iptables), measured in the same run.
// The simulator's CPU is the stand-in for the node's: both modes pay for the same client and
// backend stacks, and userspace mode adds the relay's two TCP stacks, its byte copies and a
// second pass through the node's dataplane for every segment.
// Run: npx tsx bench/userspace.ts [--quick]
import { SECOND } from '../src/control/clock.ts';
import type { ProxyMode } from '../src/control/node-setup.ts';
import { Session } from '../src/scenario/session.ts';
import { figure, isQuick, printSuiteResult } from './figures.ts';

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: { name: sink }
spec:
  replicas: 1
  selector: { matchLabels: { app: sink } }
  template:
    metadata: { labels: { app: sink } }
    spec:
      nodeName: k8s-node02
      containers: [{ name: sink, image: busybox }]
---
apiVersion: v1
kind: Service
metadata: { name: sink }
spec:
  selector: { app: sink }
  ports: [{ name: tcp, port: 80, targetPort: 80 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  nodeName: k8s-node01
  containers: [{ name: client, image: busybox }]
`;

interface Transfer {
  /** CPU ns per KiB delivered to the backend. */
  nsPerKiB: number;
  /** Packets through all nodes' dataplanes per KiB. */
  packetsPerKiB: number;
}

/** One bulk transfer of `bytes` through the Service in `mode`, on a fresh cluster. */
function transfer(mode: ProxyMode, bytes: number): Transfer {
  // A full collection first when node runs with --expose-gc (bench/run.ts passes it): the
  // previous cluster's garbage is not collected on this transfer's time.
  (globalThis as { gc?: () => void }).gc?.();
  const s = new Session({ mode, baseDir: '.', seed: 1 });
  const applied = s.applyText(MANIFESTS, 'bench-userspace.yaml');
  if (applied.exitCode !== 0) throw new Error(applied.stderr);
  s.wait(20 * SECOND);
  const vip = s.cluster.get('Service', 'default', 'sink')!.spec.clusterIP!;
  const sink = s.host('pod/sink');
  const client = s.host('pod/client');
  let received = 0;
  sink.tcpListen(80, (conn) => {
    conn.onData = (b) => (received += b.length);
  });
  const chunk = new Uint8Array(16 * 1024);
  const packets = () => {
    let n = 0;
    for (const node of s.net.nodes.values()) {
      const v = node.dataplane.counters.verdicts;
      n += v[0]! + v[1]! + v[2]!;
    }
    return n;
  };
  const p0 = packets();
  const cpu0 = process.cpuUsage();
  const conn = client.tcpConnect(vip, 80);
  let sent = 0;
  const pump = () => {
    // Keep a window's worth queued; the stack sends as the peer's window opens.
    while (sent < bytes && conn.bufferedAmount < 256 * 1024) {
      conn.write(chunk);
      sent += chunk.length;
    }
  };
  conn.onConnect = pump;
  const done = s.runUntil(() => {
    pump();
    return received >= bytes;
  }, 600 * SECOND);
  const cpu = process.cpuUsage(cpu0);
  if (!done) throw new Error(`${mode}: ${received} of ${bytes} bytes arrived`);
  const kib = bytes / 1024;
  return {
    nsPerKiB: ((cpu.user + cpu.system) * 1000) / kib,
    packetsPerKiB: (packets() - p0) / kib,
  };
}

export function userspaceFigures(quick: boolean) {
  const rounds = quick ? 3 : 7;
  const bytes = (quick ? 2 : 8) * 1024 * 1024;
  transfer('iptables', bytes / 8); // warm-up: JIT both paths before anything is timed
  transfer('userspace', bytes / 8);
  const ipt: Transfer[] = [];
  const us: Transfer[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = transfer('iptables', bytes);
    const b = transfer('userspace', bytes);
    ipt.push(a);
    us.push(b);
    ratio.push(b.nsPerKiB / a.nsPerKiB);
  }
  return {
    bytes,
    figures: [
      figure(
        'bulk-transfer',
        'ns/KiB',
        ipt.map((t) => t.nsPerKiB),
        { mode: 'iptables' },
      ),
      figure(
        'bulk-transfer',
        'ns/KiB',
        us.map((t) => t.nsPerKiB),
        { mode: 'userspace' },
      ),
      figure(
        'dataplane-packets',
        'packets/KiB',
        ipt.map((t) => t.packetsPerKiB),
        { mode: 'iptables' },
      ),
      figure(
        'dataplane-packets',
        'packets/KiB',
        us.map((t) => t.packetsPerKiB),
        { mode: 'userspace' },
      ),
      figure('userspace-vs-iptables', 'ratio', ratio, { mode: 'userspace' }),
    ],
  };
}

const { bytes, figures } = userspaceFigures(isQuick());
const [ipt, us, ippk, uspk, ratio] = figures as [
  (typeof figures)[0],
  (typeof figures)[0],
  (typeof figures)[0],
  (typeof figures)[0],
  (typeof figures)[0],
];
const mib = bytes / 1024 / 1024;
console.log(
  `userspace: one ${mib} MiB TCP transfer, client pod -> ClusterIP -> backend pod on another node`,
);
console.log(
  `  iptables mode:  ${ipt.median.toFixed(0)} ns CPU per KiB (${ippk.median.toFixed(2)} dataplane packets per KiB)`,
);
console.log(
  `  userspace mode: ${us.median.toFixed(0)} ns CPU per KiB (${uspk.median.toFixed(2)} dataplane packets per KiB)`,
);
console.log(
  `  userspace / iptables: ${ratio.median.toFixed(2)}x (rounds ${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)}x, ${ratio.samples} rounds)`,
);
printSuiteResult({ suite: 'userspace', figures });
