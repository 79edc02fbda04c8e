// nftables-mode first-packet cost vs number of services (each: one ClusterIP port, two
// endpoints). A new connection's first packet runs filter-prerouting (firewall-check:
// one verdict-map probe) and nat-prerouting -> services (one map probe) -> service-
// (numgen) -> endpoint- (dnat): the same rules at any table size. Target: 100,000
// services within 1.5x of 100 services.
// Plain timing (median of rounds, CPU time per op), over a hot set of 64 services
// spread across the table (the algorithmic cost) and over every service in shuffled
// order (adds this machine's cache misses once the table outgrows the caches).
// Run: node --expose-gc --import tsx bench/nftables.ts [N...]   (default 100 10000 100000)
import { pathToFileURL } from 'node:url';
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { ipToU32, u32ToIp } from '../src/packet/addr.ts';
import { CtState, Hook, TABLE_NAT, newPacketMeta } from '../src/proxy/hooks.ts';
import type { PacketMeta } from '../src/proxy/hooks.ts';
import { seededRandom } from '../src/proxy/random.ts';
import { NftablesProxier } from '../src/proxy/nftables/proxier.ts';
import { cpuNsPerOp, shuffled } from './measure.ts';

const SVC_BASE = ipToU32('10.96.0.0') + 16;
const POD_BASE = ipToU32('10.128.0.0');

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'bench' },
    spec: {
      type: 'ClusterIP',
      clusterIP: u32ToIp(SVC_BASE + i),
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
    },
  };
}

function slice(i: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-1`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    endpoints: [0, 1].map((k) => ({
      addresses: [u32ToIp(POD_BASE + i * 4 + k)],
      conditions: { ready: true },
      nodeName: 'k8s-node02',
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function cluster(n: number): NftablesProxier {
  const px = new NftablesProxier({
    nodeName: 'k8s-node01',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
    serviceCIDRs: ['10.96.0.0/12'],
    random: seededRandom(1),
    now: () => 0,
  });
  for (let i = 0; i < n; i++) {
    px.onServiceAdd(service(i));
    px.onEndpointSliceAdd(slice(i));
  }
  return px;
}

export interface NftablesBenchRow {
  readonly services: number;
  readonly syncMs: number;
  /** Rules visited by a first packet at PREROUTING (same for every service). */
  readonly rulesVisited: number;
  readonly hotNs: number;
  readonly spreadNs: number;
}

export function nftablesBench(n: number): NftablesBenchRow {
  const px = cluster(n);
  const t0 = performance.now();
  px.sync();
  const syncMs = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const meta: PacketMeta = newPacketMeta({
    src: ipToU32('10.244.1.9'),
    sport: 40000,
    dport: 80,
    ctstate: CtState.NEW,
    len: 60,
  });
  // Every service DNATs, each after the same number of rules.
  let rulesVisited = -1;
  for (const i of [0, n >> 1, n - 1]) {
    meta.dst = SVC_BASE + i;
    const r = px.classify(meta, Hook.Prerouting, TABLE_NAT);
    if (!r.dnat) throw new Error(`service ${i} not DNATed`);
    if (rulesVisited >= 0 && r.rulesVisited !== rulesVisited) throw new Error('cost varies');
    rulesVisited = r.rulesVisited;
  }
  const h = Math.min(64, n);
  const hot = Uint32Array.from({ length: h }, (_, k) => SVC_BASE + Math.floor((k * n) / h));
  const spread = Uint32Array.from(shuffled(n), (i) => SVC_BASE + i);
  let sink = 0;
  const OPS = 1 << 18;
  // Module imports are getters under the TypeScript loader: read them once.
  const hook = Hook.Prerouting;
  const nat = TABLE_NAT;
  const run = (vips: Uint32Array) =>
    cpuNsPerOp(OPS, 7, (k) => {
      meta.dst = vips[k % vips.length]!;
      meta.sport = 1024 + (k & 0x7fff);
      sink += px.classify(meta, hook, nat).dnatPort;
    });
  const hotNs = run(hot);
  const spreadNs = run(spread);
  if (sink === -1) console.log(sink);
  return { services: n, syncMs, rulesVisited, hotNs, spreadNs };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv.slice(2).map(Number);
  const rows: NftablesBenchRow[] = [];
  for (const n of sizes.length > 0 ? sizes : [100, 10_000, 100_000]) {
    const r = nftablesBench(n);
    rows.push(r);
    console.log(
      `${String(n).padStart(7)} services: sync ${r.syncMs.toFixed(0).padStart(6)} ms | first packet ` +
        `${r.rulesVisited} rules/lookups visited, ${r.hotNs.toFixed(0)} ns/packet (hot 64), ` +
        `${r.spreadNs.toFixed(0)} ns/packet (all services shuffled)`,
    );
  }
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  console.log(
    `\nfirst-packet ratio ${last.services}/${first.services} services: hot set ` +
      `${(last.hotNs / first.hotNs).toFixed(2)}x (target <= 1.5x), all services ` +
      `${(last.spreadNs / first.spreadNs).toFixed(2)}x; rules visited ${first.rulesVisited} -> ${last.rulesVisited}`,
  );
}
