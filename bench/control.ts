// Control-plane scale bench (not a test): 10,000 Services each selecting 10 pods
// (100,000 pods created directly as bare pods, not through Deployments, to measure the
// endpoint machinery rather than ReplicaSet churn), settle, then one endpoint change
// and the CPU time until the Proxier has received it.
// Run: node --import=tsx --expose-gc bench/control.ts [services] [podsPerService]
import type { Pod, Service } from '../src/api/types.ts';
import { Cluster } from '../src/control/cluster.ts';
import { SECOND } from '../src/control/clock.ts';
import { FakeProxier } from '../src/proxy/fake.ts';

const services = Number(process.argv[2] ?? 10_000);
const perService = Number(process.argv[3] ?? 10);
const pods = services * perService;
const nodeCount = 50;

const gc = (globalThis as { gc?: () => void }).gc;
const cpuMs = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

// 50 workers with /20 pod CIDRs (4094 addresses each) out of 10.128.0.0/9.
const cluster = new Cluster({
  seed: 42,
  nodes: [
    { name: 'master', ip: '10.0.0.1', controlPlane: true },
    ...Array.from({ length: nodeCount }, (_, i) => ({
      name: `node${i}`,
      ip: `10.0.${1 + (i >> 8)}.${i & 255}`,
    })),
  ],
  podCIDR: '10.128.0.0/9',
  nodeCIDRMaskSize: 20,
  podStartDelayNs: 0,
  podReadyDelayNs: 0,
  systemPods: false,
});
const proxier = new FakeProxier();
const feed = cluster.attachProxier(proxier);

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

gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
const c0 = process.cpuUsage();
cluster.apply(objects, { settle: false });
const storeMs = performance.now() - t0;
cluster.advance(2 * SECOND);
const applyMs = performance.now() - t0;
const applyCpu = cpuMs(c0);
gc?.();
const heap = process.memoryUsage().heapUsed;

const slices = cluster.store.count('EndpointSlice');
const last = proxier.slices.get('default/' + [...proxier.slices.keys()].pop()!.split('/')[1]);
console.log(
  `apply+settle ${services} services, ${pods} pods: ${applyMs.toFixed(0)} ms wall (apply ${storeMs.toFixed(0)}, settle ${(applyMs - storeMs).toFixed(0)}), ${applyCpu.toFixed(0)} ms CPU`,
);
console.log(
  `heapUsed ${(heap / 2 ** 20).toFixed(0)} MiB (delta ${((heap - heapBefore) / 2 ** 20).toFixed(0)} MiB)`,
);
console.log(
  `objects: ${cluster.store.count('Pod')} pods, ${slices} slices; proxier has ${proxier.services.size} services, ${proxier.slices.size} slices (last: ${last?.endpoints.length} endpoints)`,
);
console.log('feed', feed.stats);

// A machine-speed reference, to read the figures above against (typically ~60-100 ms).
{
  const m = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) m.set(`default/pod-${i}`, i);
  const c = process.cpuUsage();
  let sum = 0;
  for (let r = 0; r < 10; r++) for (let i = 0; i < 100_000; i++) sum += m.get(`default/pod-${i}`)!;
  console.log(
    `reference: 1M Map.get with fresh string keys ${cpuMs(c).toFixed(0)} ms CPU (${sum > 0 ? 'ok' : ''})`,
  );
}

// One endpoint change: a pod's readiness flips; measure until the Proxier has it.
const samples: number[] = [];
for (let i = 0; i < 20; i++) {
  cluster.advance(2 * SECOND); // past the min sync period
  // Pairs of samples: one pod turns unready, then ready again.
  const j = i >> 1;
  const name = `pod-${(j * 7919) % services}-${j % perService}`;
  proxier.reset();
  const c = process.cpuUsage();
  cluster.setPodReady('default', name, i % 2 === 1);
  const ms = cpuMs(c);
  const got = proxier.calls.some((x) => x.op === 'sliceUpdate');
  if (!got || proxier.syncs !== 1) {
    const pod = cluster.get('Pod', 'default', name);
    throw new Error(
      `change not delivered: ${proxier.ops().join(',')} ${JSON.stringify(pod?.status)} ${pod?.spec.nodeName}`,
    );
  }
  samples.push(ms);
}
samples.sort((a, b) => a - b);
console.log(
  `single change -> proxier: median ${samples[10]!.toFixed(3)} ms CPU, max ${samples[19]!.toFixed(3)} ms (20 samples)`,
);
