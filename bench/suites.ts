// The benchmark suites `svclab bench` knows, in run order, with rough durations (seconds on
// this 2-core machine) for the progress line's time-left estimate before any run has been
// recorded. Each suite is a script under bench/ that prints one BENCH_JSON line.

export interface SuiteSpec {
  /** Name for --suite and in results.json. */
  readonly name: string;
  /** Script under bench/. */
  readonly file: string;
  readonly about: string;
  /** Estimated seconds: [quick, full]. */
  readonly weight: readonly [number, number];
}

export const SUITES: readonly SuiteSpec[] = [
  {
    name: 'classify',
    file: 'classify.ts',
    about: 'first packet of a new connection vs services, per mode',
    weight: [15, 330],
  },
  {
    name: 'dataplane',
    file: 'dataplane.ts',
    about: 'established-flow packets/s and new connections/s through the node pipeline',
    weight: [20, 60],
  },
  {
    name: 'conntrack',
    file: 'conntrack.ts',
    about: 'connection table lookups and inserts',
    weight: [10, 30],
  },
  {
    name: 'packet',
    file: 'packet.ts',
    about: 'header views, checksums, NAT rewrites',
    weight: [10, 30],
  },
  {
    name: 'control',
    file: 'control.ts',
    about: 'full sync and one endpoint change through the control plane',
    weight: [20, 150],
  },
  {
    name: 'render',
    file: 'render.ts',
    about: 'iptables-save render time and size; real iptables-restore load time (root)',
    weight: [10, 200],
  },
  {
    name: 'kernel',
    file: 'kernel.ts',
    about: 'kernel iptables/nftables TCP connect latency vs services (root)',
    weight: [30, 300],
  },
  {
    name: 'tun',
    file: 'tun.ts',
    about: 'TUN lab forwarding packets/s vs a minimal C forwarder (root)',
    weight: [20, 60],
  },
  {
    name: 'apiserver',
    file: 'apiserver.ts',
    about:
      'Kubernetes API: GET latency and kubectl get at 10k Services, watch fan-out, kubectl apply of 1,000 Services',
    weight: [20, 60],
  },
  {
    name: 'sim',
    file: 'sim.ts',
    about: 'whole simulated cluster: HTTP requests through NodePorts',
    weight: [10, 40],
  },
  {
    name: 'ns3',
    file: 'ns3/compare.ts',
    about:
      "simulation engine vs ns-3 on bench/sim.ts's workload: packets per wall and CPU second (skipped without ns-3)",
    weight: [30, 300],
  },
  {
    name: 'userspace',
    file: 'userspace.ts',
    about: 'userspace mode vs iptables mode: CPU per KiB of one TCP transfer through a ClusterIP',
    weight: [15, 60],
  },
];

export function suiteByName(name: string): SuiteSpec | undefined {
  return SUITES.find((s) => s.name === name);
}
