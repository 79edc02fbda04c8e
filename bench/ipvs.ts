// ipvs-mode costs vs number of services (each: one ClusterIP port, 10 endpoints, rr):
//   1. the first packet of a new connection: classify() = connection lookup miss, service hash
//      lookup, rr schedule, a new IPVS connection entry (freed again so the table stays small);
//      also lookup + schedule alone. Target: 100,000 services within 1.5x of 100.
//   2. one endpoint change: sync() after one EndpointSlice update (one real server added or
//      removed), split into the shared ServiceMap.snapshot() and the ipvs diff itself.
// Plain timing (median of rounds, CPU time per op). Flows go either to a hot set of 64
// services spread over the table (the algorithmic cost: what grows with N besides memory) or
// to every service in shuffled order (adds this machine's cache/TLB misses, which no O(1)
// structure avoids once the table outgrows the caches).
// Run: node --expose-gc --import tsx bench/ipvs.ts [N...]   (default 100 10000 100000)
import { pathToFileURL } from 'node:url';
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { ipToU32, u32ToIp } from '../src/packet/addr.ts';
import { IPPROTO_TCP, TCP_SYN } from '../src/proxy/ipvs/constants.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import type { SchedPacket } from '../src/proxy/ipvs/schedulers/index.ts';
import { cpuNsPerOp, shuffled } from './measure.ts';

const ENDPOINTS = 10;
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

function slice(i: number, endpoints: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-1`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: endpoints }, (_, k) => ({
      addresses: [u32ToIp(POD_BASE + i * 16 + k)],
      conditions: { ready: true },
      nodeName: 'k8s-node02',
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function cluster(n: number): IpvsProxier {
  const px = new IpvsProxier({
    nodeName: 'k8s-node01',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
  });
  for (let i = 0; i < n; i++) {
    px.onServiceAdd(service(i));
    px.onEndpointSliceAdd(slice(i, ENDPOINTS));
  }
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

export interface IpvsBenchRow {
  readonly services: number;
  readonly buildMs: number;
  /** Hot set of 64 services. */
  readonly classifyNs: number;
  readonly scheduleNs: number;
  /** Every service, shuffled. */
  readonly classifySpreadNs: number;
  readonly scheduleSpreadNs: number;
  readonly syncMs: number;
  readonly snapshotMs: number;
  /** The ipvs diff alone (sync minus ServiceMap.snapshot). */
  readonly diffMs: number;
}

export function ipvsBench(n: number): IpvsBenchRow {
  const t0 = performance.now();
  const px = cluster(n);
  const buildMs = performance.now() - t0;
  // Measure after the build's garbage is collected (run with --expose-gc to make this count).
  (globalThis as { gc?: () => void }).gc?.();
  const ipvs = px.ipvs;
  const spread = Uint32Array.from(shuffled(n), (i) => SVC_BASE + i);
  const h = Math.min(64, n);
  const hot = Uint32Array.from({ length: h }, (_, k) => SVC_BASE + Math.floor((k * n) / h));
  const client = ipToU32('10.244.1.9');
  let sport = 1024;
  let sink = 0;
  const OPS = 1 << 18;
  const classify = (vips: Uint32Array) =>
    cpuNsPerOp(OPS, 7, (k) => {
      const id = ipvs.classify(
        IPPROTO_TCP,
        client,
        sport,
        vips[k % vips.length]!,
        80,
        TCP_SYN,
        60,
        0,
      );
      sport = sport === 65535 ? 1024 : sport + 1;
      sink += ipvs.conns.daddr[id]!;
      ipvs.expireNow(id, 0);
    });
  const pkt: SchedPacket = {
    proto: IPPROTO_TCP,
    saddr: client,
    sport: 0,
    daddr: 0,
    dport: 80,
    now: 0,
  };
  const schedule = (vips: Uint32Array) =>
    cpuNsPerOp(OPS, 7, (k) => {
      const svc = ipvs.services.lookup(IPPROTO_TCP, vips[k % vips.length]!, 80, 0)!;
      pkt.daddr = svc.addr;
      sink += svc.scheduler.schedule(svc, pkt)!.port;
    });
  const classifyNs = classify(hot);
  const scheduleNs = schedule(hot);
  const classifySpreadNs = classify(spread);
  const scheduleSpreadNs = schedule(spread);

  // One endpoint change in the middle service: alternately 11 and 10 endpoints.
  const mid = n >> 1;
  const syncs: number[] = [];
  const snaps: number[] = [];
  const diffs: number[] = [];
  const ops0 = ipvs.services.destOps.add + ipvs.services.destOps.del;
  for (let round = 0; round < 20; round++) {
    const old = slice(mid, round % 2 === 0 ? ENDPOINTS : ENDPOINTS + 1);
    const next = slice(mid, round % 2 === 0 ? ENDPOINTS + 1 : ENDPOINTS);
    px.onEndpointSliceUpdate(old, next);
    const s0 = performance.now();
    px.sync();
    syncs.push(performance.now() - s0);
    snaps.push(px.lastSync.snapshotMs);
    diffs.push(px.lastSync.diffMs);
  }
  const destOps = ipvs.services.destOps.add + ipvs.services.destOps.del - ops0;
  if (destOps !== 20)
    throw new Error(`expected one real-server op per change, saw ${destOps} for 20`);
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  if (sink === -1) console.log(sink);
  return {
    services: n,
    buildMs,
    classifyNs,
    scheduleNs,
    classifySpreadNs,
    scheduleSpreadNs,
    syncMs: med(syncs),
    snapshotMs: med(snaps),
    diffMs: med(diffs),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv.slice(2).map(Number);
  const rows: IpvsBenchRow[] = [];
  for (const n of sizes.length > 0 ? sizes : [100, 10_000, 100_000]) {
    const r = ipvsBench(n);
    rows.push(r);
    console.log(
      `${String(n).padStart(7)} services x ${ENDPOINTS} endpoints: build+sync ${r.buildMs.toFixed(0)} ms | ` +
        `first packet classify ${r.classifyNs.toFixed(0)} ns (lookup+rr ${r.scheduleNs.toFixed(0)} ns), ` +
        `all services shuffled ${r.classifySpreadNs.toFixed(0)} ns (${r.scheduleSpreadNs.toFixed(0)} ns) | ` +
        `one endpoint change: sync ${r.syncMs.toFixed(3)} ms = ServiceMap.snapshot ${r.snapshotMs.toFixed(3)} ms + ipvs diff ${r.diffMs.toFixed(3)} ms`,
    );
  }
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  console.log(
    `\nclassify ratio ${last.services}/${first.services} services: hot set ${(last.classifyNs / first.classifyNs).toFixed(2)}x (target <= 1.5x), ` +
      `all services ${(last.classifySpreadNs / first.classifySpreadNs).toFixed(2)}x` +
      `\nipvs diff for one endpoint change: ${first.diffMs.toFixed(3)} ms at ${first.services}, ` +
      `${last.diffMs.toFixed(3)} ms at ${last.services} services (one real-server operation each)` +
      `\nServiceMap.snapshot for one endpoint change: ${first.snapshotMs.toFixed(3)} ms at ${first.services}, ` +
      `${last.snapshotMs.toFixed(3)} ms at ${last.services} services (only the changed service is recomputed)`,
  );
}
