// iptables-mode first-packet cost vs number of services. Each service has one
// ClusterIP port and two endpoints; a new connection's first packet walks nat
// PREROUTING -> KUBE-SERVICES (linearly, one rule per service) -> KUBE-SVC -> KUBE-SEP.
// Reported per N: rules visited (mean over services, and for the last service),
// ns per first packet (benny), and the time to compile + swap a full rule set.
// Run: npx tsx bench/iptables.ts [N...]   (default 100 1000 10000)
import { pathToFileURL } from 'node:url';
import b from 'benny';
import { ipToU32, u32ToIp } from '../src/packet/addr.ts';
import type { EndpointSlice, Service } from '../src/api/types.ts';
import { CtState, Hook, newPacketMeta } from '../src/proxy/hooks.ts';
import type { PacketMeta } from '../src/proxy/hooks.ts';
import { IptablesProxier, TABLE_NAT } from '../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../src/proxy/random.ts';

/** First packets per benchmark op: fewer for big tables so each op costs about the same. */
const batchFor = (n: number) => Math.max(4, Math.round(25600 / n));
const SVC_BASE = ipToU32('10.96.0.0') + 16;
const POD_BASE = ipToU32('10.244.0.0');

function cluster(n: number): IptablesProxier {
  const px = new IptablesProxier({
    nodeName: 'k8s-node01',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
    random: seededRandom(1),
    now: () => 0,
  });
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(5, '0')}`;
    const svc: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench' },
      spec: {
        type: 'ClusterIP',
        clusterIP: u32ToIp(SVC_BASE + i),
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
      },
    };
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-1`,
        namespace: 'bench',
        labels: { 'kubernetes.io/service-name': name },
      },
      addressType: 'IPv4',
      endpoints: [0, 1].map((k) => ({
        addresses: [u32ToIp(POD_BASE + 2 * i + k + 256)],
        conditions: { ready: true },
      })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    };
    px.onServiceAdd(svc);
    px.onEndpointSliceAdd(slice);
  }
  return px;
}

function meta(i: number): PacketMeta {
  return newPacketMeta({
    src: POD_BASE + 100 + (i & 0xff),
    dst: SVC_BASE + i,
    sport: 40000 + (i % 20000),
    dport: 80,
    ctstate: CtState.NEW,
    len: 60,
  });
}

export interface IptablesFigures {
  services: number;
  natRules: number;
  meanRulesVisited: number;
  lastRulesVisited: number;
  syncMs: number;
}

/** Runs the suite for each size; prints benny's table and a per-size summary. */
export async function iptablesSuite(
  sizes: readonly number[] = [100, 1000, 10000],
): Promise<IptablesFigures[]> {
  const figures: IptablesFigures[] = [];
  const cases: ReturnType<typeof b.add>[] = [];
  for (const n of sizes) {
    const px = cluster(n);
    const t0 = performance.now();
    px.sync();
    const syncMs = performance.now() - t0;
    // Every service once: mean and worst-case walk length.
    let total = 0;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const r = px.classify(meta(i), Hook.Prerouting, TABLE_NAT);
      if (!r.dnat) throw new Error(`service ${i} not DNATed`);
      total += r.rulesVisited;
      if (i === n - 1) last = r.rulesVisited;
    }
    figures.push({
      services: n,
      natRules: px.ruleSet.nat.rules.length,
      meanRulesVisited: total / n,
      lastRulesVisited: last,
      syncMs,
    });
    // A batch of first packets to services spread uniformly over the list.
    const batch = batchFor(n);
    const metas = Array.from({ length: batch }, (_, k) =>
      meta(Math.floor(((k + 0.5) * n) / batch)),
    );
    let sink = 0;
    const run = () => {
      for (let k = 0; k < batch; k++) {
        sink += px.classify(metas[k] as PacketMeta, Hook.Prerouting, TABLE_NAT).dnatPort;
      }
    };
    cases.push(
      b.add(`${n} services: first packets to ${batch} spread services/op`, run, { maxTime: 3 }),
    );
    if (sink < 0) console.log(sink);
  }
  await b.suite(
    'iptables mode: first-packet classification (linear chain walk)',
    ...cases,
    b.cycle(),
    b.complete((s) => {
      console.log('\nper first packet:');
      s.results.forEach((r, i) => {
        const f = figures[i];
        if (f === undefined) return;
        // details.mean is seconds per op; ops/s is rounded to an integer by benny.
        const ns = (r.details.mean * 1e9) / batchFor(f.services);
        console.log(
          `  ${String(f.services).padStart(6)} services  ${String(f.natRules).padStart(6)} nat rules  ` +
            `${f.meanRulesVisited.toFixed(1).padStart(8)} rules visited (mean)  ` +
            `${String(f.lastRulesVisited).padStart(6)} (last service)  ` +
            `${ns.toFixed(0).padStart(8)} ns/packet  ${(ns / f.meanRulesVisited).toFixed(1)} ns/rule  ` +
            `sync ${f.syncMs.toFixed(0)} ms  (±${r.margin}%)`,
        );
      });
    }),
  );
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  await iptablesSuite(sizes.length > 0 ? sizes : undefined);
}
