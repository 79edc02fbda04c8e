// A seeded, irregular service set for the real-nft round trip: random addresses,
// ports and protocols (to check nft's element order), NodePorts, externalIPs, LB IPs
// with overlapping and adjacent source ranges (to check interval merging), services
// without endpoints or local endpoints, and affinity timeouts of every size.
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { u32ToIp } from '../../../src/packet/addr.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { ep, makeService, makeSlice } from '../fixtures.ts';

const PROTOS = ['TCP', 'UDP', 'SCTP'] as const;

export function randomServices(n: number, seed: number, node: string) {
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const ip = (base: string, bits: number) => {
    const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
    return u32ToIp((((a << 24) | (b << 16) | (c << 8) | d) + int(1, 2 ** bits - 2)) >>> 0);
  };
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const usedNodePorts = new Set<number>();
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const kind = int(0, 3);
    const ports = Array.from({ length: int(1, 3) }, (_, k) => {
      let nodePort = 0;
      if (kind >= 1) {
        do nodePort = int(30000, 32767);
        while (usedNodePorts.has(nodePort));
        usedNodePorts.add(nodePort);
      }
      return {
        name: `p${k}`,
        port: int(1, 65535),
        protocol: PROTOS[int(0, 2)]!,
        targetPort: int(1, 65535),
        ...(nodePort === 0 ? {} : { nodePort }),
      };
    });
    const lbIPs = kind === 3 ? Array.from({ length: int(1, 2) }, () => ip('192.0.2.0', 8)) : [];
    const ranges =
      kind === 3 && rnd() < 0.7
        ? Array.from({ length: int(1, 4) }, () => `${ip('198.51.100.0', 8)}/${int(24, 32)}`)
        : [];
    const affinity = rnd() < 0.3;
    services.push(
      makeService(
        'random',
        name,
        {
          type: (['ClusterIP', 'NodePort', 'NodePort', 'LoadBalancer'] as const)[kind]!,
          clusterIP: ip('10.96.0.0', 20),
          ports,
          ...(rnd() < 0.3 ? { externalIPs: [ip('203.0.113.0', 8)] } : {}),
          ...(kind >= 1 && rnd() < 0.3 ? { externalTrafficPolicy: 'Local' as const } : {}),
          ...(ranges.length > 0 ? { loadBalancerSourceRanges: ranges } : {}),
          ...(affinity
            ? {
                sessionAffinity: 'ClientIP' as const,
                sessionAffinityConfig: { clientIP: { timeoutSeconds: int(1, 86400) } },
              }
            : {}),
        },
        lbIPs.length > 0 ? { loadBalancer: { ingress: lbIPs.map((x) => ({ ip: x })) } } : undefined,
      ),
    );
    const count = rnd() < 0.15 ? 0 : int(1, 4);
    const eps = Array.from({ length: count }, () =>
      ep(ip('10.244.0.0', 16), rnd() < 0.5 ? { nodeName: node } : { nodeName: 'elsewhere' }),
    );
    slices.push(
      makeSlice(
        'random',
        name,
        `${name}-1`,
        eps,
        ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
      ),
    );
  }
  return { services, slices };
}
