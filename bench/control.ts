// Control-plane scale bench (not a test): N Services each selecting M pods (created
// directly as bare pods, not through Deployments, to measure the endpoint machinery
// rather than ReplicaSet churn), settle, then one endpoint change and the CPU time until
// the Proxier has received it; optionally each real proxy mode's full sync of the result.
// Run: node --import=tsx --expose-gc bench/control.ts [--services 1000,10000]
//      [--per-service 10] [--reps 3] [--no-full-sync] [--quick]
// Issue #3's target: 10,000 x 10 applied and settled in under 2 s and 1 GiB; one change
// reaches the Proxier in under 1 ms of CPU.
import { pathToFileURL } from 'node:url';
import type { EndpointSlice, Pod, Service } from '../src/api/types.ts';
import { Cluster } from '../src/control/cluster.ts';
import { SECOND } from '../src/control/clock.ts';
import { FakeProxier } from '../src/proxy/fake.ts';
import type { Proxier } from '../src/proxy/proxier.ts';
import { IptablesProxier } from '../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../src/proxy/random.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import { NftablesProxier } from '../src/proxy/nftables/proxier.ts';
import { figure, isQuick, printSuiteResult } from './figures.ts';
import type { Figure } from './figures.ts';

const NODE_COUNT = 50;
const POD_CIDR = '10.128.0.0/9';
const MODES = ['iptables', 'ipvs', 'nftables'] as const;
type Mode = (typeof MODES)[number];

export interface ControlBenchOptions {
  /** Fresh-cluster apply+settle repetitions (default 3). */
  reps?: number;
  /** Endpoint-change samples on the last cluster (default 20). */
  changes?: number;
  /** Also time each real proxy mode's full sync of the settled state (default true). */
  fullSync?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface ControlFigures {
  services: number;
  pods: number;
  /** apply + settle, CPU ms per repetition (includes GC threads). */
  applySettleCpuMs: number[];
  /** Of that, apply alone (store writes + watch events), CPU ms. */
  applyCpuMs: number[];
  /** The same, wall-clock ms (noisy on a shared machine). */
  applySettleWallMs: number[];
  /** heapUsed after settle and a full GC, MiB per repetition. */
  heapMiB: number[];
  /** The same cluster with event recording on (the Cluster default): apply + settle CPU ms. */
  eventsApplySettleCpuMs: number[];
  /** ... and its heapUsed after settle, MiB. */
  eventsHeapMiB: number[];
  /** One pod readiness flip until the Proxier has it, CPU ms per sample. */
  endpointChangeCpuMs: number[];
  /** Per mode: CPU ms of feeding every Service and slice (onServiceAdd/onEndpointSliceAdd). */
  fullSyncFeedCpuMs: Partial<Record<Mode, number[]>>;
  /** Per mode: CPU ms of the first sync() after that (compile + swap in). */
  fullSyncCpuMs: Partial<Record<Mode, number[]>>;
  /** Per mode: CPU ms of a sync() after one endpoint's readiness flipped (then flipped back). */
  changeSyncCpuMs: Partial<Record<Mode, number[]>>;
  figures: Figure[];
}

const gc = (globalThis as { gc?: () => void }).gc;

const cpuMs = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

function newCluster(recordEvents: boolean): Cluster {
  // 50 workers with /20 pod CIDRs (4094 addresses each) out of 10.128.0.0/9.
  return new Cluster({
    recordEvents,
    seed: 42,
    nodes: [
      { name: 'master', ip: '10.0.0.1', controlPlane: true },
      ...Array.from({ length: NODE_COUNT }, (_, i) => ({
        name: `node${i}`,
        ip: `10.0.${1 + (i >> 8)}.${i & 255}`,
      })),
    ],
    podCIDR: POD_CIDR,
    nodeCIDRMaskSize: 20,
    podStartDelayNs: 0,
    podReadyDelayNs: 0,
    systemPods: false,
  });
}

export function manifests(services: number, perService: number): (Service | Pod)[] {
  const objects: (Service | Pod)[] = [];
  for (let s = 0; s < services; s++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${s}`, namespace: 'default' },
      spec: {
        type: 'ClusterIP',
        selector: { app: `app-${s}` },
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }],
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
      },
    });
    for (let p = 0; p < perService; p++) {
      objects.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `pod-${s}-${p}`,
          namespace: 'default',
          labels: { app: `app-${s}`, tier: 'web' },
        },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            },
          ],
          restartPolicy: 'Always',
        },
        status: { phase: 'Pending' },
      });
    }
  }
  return objects;
}

interface Settled {
  cluster: Cluster;
  proxier: FakeProxier;
  cpu: number;
  /** CPU ms of apply alone (the store writes and watch events, before any controller runs). */
  applyCpu: number;
  wall: number;
  heap: number;
}

/**
 * One fresh cluster: apply every manifest, then run 2 s of virtual time. The issue #3
 * figures are taken with event recording off (the control plane's own work, comparable
 * with earlier runs); `recordEvents` measures what recording events adds.
 */
function applyAndSettle(services: number, perService: number, recordEvents = false): Settled {
  const cluster = newCluster(recordEvents);
  const proxier = new FakeProxier();
  cluster.attachProxier(proxier);
  const objects = manifests(services, perService);
  gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  cluster.apply(objects, { settle: false });
  const applyCpu = cpuMs(c0);
  cluster.advance(2 * SECOND);
  const wall = performance.now() - t0;
  const cpu = cpuMs(c0);
  objects.length = 0;
  gc?.();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  const pods = services * perService;
  if (proxier.services.size < services || proxier.slices.size < services) {
    throw new Error(
      `not settled: proxier has ${proxier.services.size} services, ${proxier.slices.size} slices`,
    );
  }
  if (cluster.store.count('Pod') < pods) throw new Error('pods missing');
  return { cluster, proxier, cpu, applyCpu, wall, heap };
}

/** Pod readiness flips (unready, then ready again), CPU ms each until the Proxier has it. */
function endpointChanges(s: Settled, services: number, perService: number, n: number): number[] {
  const { cluster, proxier } = s;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    cluster.advance(2 * SECOND); // past the min sync period
    const j = i >> 1;
    const name = `pod-${(j * 7919) % services}-${j % perService}`;
    proxier.reset();
    const c = process.cpuUsage();
    cluster.setPodReady('default', name, i % 2 === 1);
    samples.push(cpuMs(c));
    if (!proxier.calls.some((x) => x.op === 'sliceUpdate') || proxier.syncs !== 1) {
      const pod = cluster.get('Pod', 'default', name);
      throw new Error(
        `change not delivered: ${proxier.ops().join(',')} ${JSON.stringify(pod?.status)}`,
      );
    }
  }
  return samples;
}

function realProxier(mode: Mode): Proxier {
  const base = { nodeName: 'node0', nodeIPs: ['10.0.1.0'], clusterCIDR: POD_CIDR };
  if (mode === 'iptables') return new IptablesProxier({ ...base, random: seededRandom(1) });
  if (mode === 'ipvs') {
    return new IpvsDataplaneProxier(new IpvsProxier({ ...base, now: () => 0 }), () => 0);
  }
  return new NftablesProxier({
    ...base,
    serviceCIDRs: ['10.96.0.0/12'],
    random: seededRandom(1),
    now: () => 0,
  });
}

/** Feed a fresh proxier of `mode` everything the settled cluster's proxier received, then sync. */
function fullSync(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  mode: Mode,
): { feed: number; sync: number; change: number[] } {
  gc?.();
  const px = realProxier(mode);
  const c0 = process.cpuUsage();
  for (const svc of services) px.onServiceAdd(svc);
  for (const sl of slices) px.onEndpointSliceAdd(sl);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  const feed = cpuMs(c0);
  const c1 = process.cpuUsage();
  px.sync();
  const sync = cpuMs(c1);
  // One endpoint turns unready, then ready again: each is one incremental sync.
  const change: number[] = [];
  for (let i = 0; i < 4; i++) {
    const old = slices[(i * 7919) % slices.length]!;
    const ep = old.endpoints[0];
    if (ep === undefined) continue;
    const flipped = {
      ...old,
      endpoints: [
        { ...ep, conditions: { ...ep.conditions, ready: false } },
        ...old.endpoints.slice(1),
      ],
    };
    for (const [a, b] of [
      [old, flipped],
      [flipped, old],
    ] as const) {
      px.onEndpointSliceUpdate(a, b);
      const c = process.cpuUsage();
      px.sync();
      change.push(cpuMs(c));
    }
  }
  return { feed, sync, change };
}

/** The same apply + settle with event recording on: figures into `out`, a log line back. */
function eventsRep(services: number, perService: number, out: ControlFigures): string {
  const e = applyAndSettle(services, perService, true);
  out.eventsApplySettleCpuMs.push(e.cpu);
  out.eventsHeapMiB.push(e.heap);
  const ev = e.cluster.events.stats;
  return (
    `  events on: ${e.cpu.toFixed(0)} ms CPU (apply ${e.applyCpu.toFixed(0)}, ` +
    `settle ${(e.cpu - e.applyCpu).toFixed(0)}), heapUsed ${e.heap.toFixed(0)} MiB; ` +
    `${ev.recorded} events recorded, ${ev.dropped} dropped (queues full), ` +
    `${e.cluster.store.count('Event')} stored`
  );
}

/** One fresh cluster's apply + settle, recorded into `out`; the cluster is left in `held`. */
function oneRep(
  held: { last: Settled | undefined },
  services: number,
  perService: number,
  out: ControlFigures,
  log: (line: string) => void,
): void {
  // Events on first, in a frame of its own: that cluster is garbage before the main run
  // measures its heap (a local set to undefined may be kept alive by the optimiser).
  const withEvents = eventsRep(services, perService, out);
  const s = applyAndSettle(services, perService);
  held.last = s;
  out.applySettleCpuMs.push(s.cpu);
  out.applyCpuMs.push(s.applyCpu);
  out.applySettleWallMs.push(s.wall);
  out.heapMiB.push(s.heap);
  const st = s.cluster.store;
  log(
    `apply+settle ${services} services, ${s.cluster.store.count('Pod')} pods, events off: ` +
      `${s.cpu.toFixed(0)} ms CPU (apply ${s.applyCpu.toFixed(0)}, ` +
      `settle ${(s.cpu - s.applyCpu).toFixed(0)}), ${s.wall.toFixed(0)} ms wall, ` +
      `heapUsed ${s.heap.toFixed(0)} MiB; ${st.count('EndpointSlice')} slices, ` +
      `proxier has ${s.proxier.services.size} services, ${s.proxier.slices.size} slices`,
  );
  log(withEvents);
}

/** A machine-speed yardstick to read the figures against: 1M Map.get with fresh string keys. */
export function referenceMs(): number {
  const m = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) m.set(`default/pod-${i}`, i);
  const c = process.cpuUsage();
  let sum = 0;
  for (let r = 0; r < 10; r++) for (let i = 0; i < 100_000; i++) sum += m.get(`default/pod-${i}`)!;
  if (sum <= 0) throw new Error('unreachable');
  return cpuMs(c);
}

export function controlBench(
  services: number,
  perService: number,
  opts: ControlBenchOptions = {},
): ControlFigures {
  const reps = opts.reps ?? 3;
  const log = opts.log ?? (() => undefined);
  const pods = services * perService;
  const out: ControlFigures = {
    services,
    pods,
    applySettleCpuMs: [],
    applyCpuMs: [],
    applySettleWallMs: [],
    heapMiB: [],
    eventsApplySettleCpuMs: [],
    eventsHeapMiB: [],
    endpointChangeCpuMs: [],
    fullSyncFeedCpuMs: {},
    fullSyncCpuMs: {},
    changeSyncCpuMs: {},
    figures: [],
  };
  // The settled cluster lives in a heap slot, never in a local of this frame: an optimizing
  // compiler may drop `local = undefined` before a reassignment, and the previous cluster
  // would then stay alive (and in heapUsed) through the next one's measurement.
  const held: { last: Settled | undefined } = { last: undefined };
  for (let r = 0; r < reps; r++) {
    held.last = undefined;
    oneRep(held, services, perService, out, log);
  }
  out.endpointChangeCpuMs = endpointChanges(held.last!, services, perService, opts.changes ?? 20);
  const changes = [...out.endpointChangeCpuMs].sort((a, b) => a - b);
  log(
    `single change -> proxier: median ${changes[changes.length >> 1]!.toFixed(3)} ms CPU, ` +
      `max ${changes[changes.length - 1]!.toFixed(3)} ms (${changes.length} samples)`,
  );
  if (opts.fullSync !== false) {
    const svcs = [...held.last!.proxier.services.values()];
    const slices = [...held.last!.proxier.slices.values()];
    held.last = undefined;
    for (const mode of MODES) {
      const feeds: number[] = [];
      const syncs: number[] = [];
      const changes: number[] = [];
      for (let r = 0; r < Math.min(reps, 3); r++) {
        const t = fullSync(svcs, slices, mode);
        feeds.push(t.feed);
        syncs.push(t.sync);
        changes.push(...t.change);
      }
      out.fullSyncFeedCpuMs[mode] = feeds;
      out.fullSyncCpuMs[mode] = syncs;
      out.changeSyncCpuMs[mode] = changes;
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
      log(
        `full sync ${mode}: feed ${med(feeds).toFixed(0)} ms CPU, sync() ${med(syncs).toFixed(0)} ms CPU; ` +
          `one-change sync() median ${med(changes).toFixed(2)} ms CPU (${changes.length} samples)`,
      );
    }
  }
  const reference = [referenceMs(), referenceMs(), referenceMs()];
  log(`reference: 1M Map.get with fresh string keys ${reference[1]!.toFixed(0)} ms CPU`);
  const at = { services };
  out.figures.push(
    figure('reference-map-get', 'ms', reference, at),
    figure('apply-settle', 'ms', out.applySettleCpuMs, at),
    figure('apply', 'ms', out.applyCpuMs, at),
    figure('apply-settle-wall', 'ms', out.applySettleWallMs, at),
    figure('heap', 'MiB', out.heapMiB, at),
    figure('apply-settle-events', 'ms', out.eventsApplySettleCpuMs, at),
    figure('heap-events', 'MiB', out.eventsHeapMiB, at),
    figure('endpoint-change', 'ms', out.endpointChangeCpuMs, at),
  );
  for (const mode of MODES) {
    const feed = out.fullSyncFeedCpuMs[mode];
    const sync = out.fullSyncCpuMs[mode];
    if (feed !== undefined) out.figures.push(figure('full-sync-feed', 'ms', feed, { mode, ...at }));
    if (sync !== undefined) out.figures.push(figure('full-sync', 'ms', sync, { mode, ...at }));
    const change = out.changeSyncCpuMs[mode];
    if (change !== undefined && change.length > 0) {
      out.figures.push(figure('one-change-sync', 'ms', change, { mode, ...at }));
    }
  }
  return out;
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function main(argv: readonly string[]): void {
  const quick = isQuick(argv);
  const sizes = (argValue(argv, '--services') ?? (quick ? '1000' : '10000')).split(',').map(Number);
  const perService = Number(argValue(argv, '--per-service') ?? 10);
  const reps = Number(argValue(argv, '--reps') ?? 3);
  const figures: Figure[] = [];
  for (const n of sizes) {
    const r = controlBench(n, perService, {
      reps,
      fullSync: !argv.includes('--no-full-sync'),
      log: (line) => console.log(line),
    });
    figures.push(...r.figures);
  }
  printSuiteResult({ suite: 'control', figures });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
