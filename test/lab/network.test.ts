// LabNetwork's routing without devices: fake ports stand for the TUNs, so the decisions
// (which device a packet leaves by, rewritten how) run anywhere, no root needed.
import test from 'ava';
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import type { Cluster } from '../../src/control/cluster.ts';
import { resolveNodes } from '../../src/control/cluster-config.ts';
import { clientAddress } from '../../src/lab/daemon.ts';
import { LabNetwork, type PacketPort } from '../../src/lab/network.ts';
import { ipToU32, u32ToIp } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildTcp } from '../../src/packet/build.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';

const SEED = 'scenarios/seed/manifests';
const EXTERNAL = '192.168.1.100';

class FakePort implements PacketPort {
  readonly got: Uint8Array[] = [];
  sendOne(p: Uint8Array): boolean {
    this.got.push(p.slice());
    return true;
  }
}

const src = (p: Uint8Array) =>
  u32ToIp(((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0);
const dst = (p: Uint8Array) =>
  u32ToIp(((p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!) >>> 0);

interface Lab {
  cluster: Cluster;
  net: LabNetwork;
  pods: Map<string, FakePort>;
  nodes: Map<string, FakePort>;
  client: FakePort;
  clientIP: string;
  external: FakePort;
}

function lab(mode: 'iptables' | 'ipvs' | 'nftables'): Lab {
  const cluster = clusterFromFiles({
    files: [`${SEED}/svc-deployment.yaml`, `${SEED}/nodeport.yaml`],
  });
  const net = new LabNetwork(cluster, { mode });
  const pods = new Map<string, FakePort>();
  for (const p of cluster.list('Pod')) {
    if (p.spec.hostNetwork || p.status.podIP === undefined) continue;
    const port = new FakePort();
    net.attachPod(p.status.podIP, p.spec.nodeName!, port);
    pods.set(p.status.podIP, port);
  }
  const nodes = new Map<string, FakePort>();
  for (const n of resolveNodes(cluster.config)) {
    const port = new FakePort();
    net.attachNode(n.name, port);
    nodes.set(n.ip, port);
  }
  const clientIP = clientAddress(resolveNodes(cluster.config)[1]!.podCIDR);
  const client = new FakePort();
  net.attachPodLike('client', clientIP, 'k8s-node01', client);
  const external = new FakePort();
  net.attachExternal(EXTERNAL, external);
  return { cluster, net, pods, nodes, client, clientIP, external };
}

const myapp = (c: Cluster) => c.get('Service', 'default', 'myapp')!;
const allGot = (m: Map<string, FakePort>) => [...m.values()].flatMap((p) => p.got);

for (const mode of ['iptables', 'ipvs', 'nftables'] as const) {
  test(`${mode}: the client's SYN to the ClusterIP leaves by a backend pod's device, DNATed`, (t) => {
    const l = lab(mode);
    const vip = myapp(l.cluster).spec.clusterIP!;
    l.net.fromPod(
      ipToU32(l.clientIP),
      buildTcp({ src: l.clientIP, dst: vip, sport: 40000, dport: 80, flags: TcpFlags.SYN }),
    );
    const got = allGot(l.pods);
    t.is(got.length, 1);
    t.true(l.pods.has(dst(got[0]!)), 'to a pod IP');
    t.is(src(got[0]!), l.clientIP, 'not masqueraded (from the pod CIDR)');
    t.is(l.pods.get(dst(got[0]!))!.got.length, 1, "that pod's device");
    // The pod's SYN-ACK comes back un-DNATed to the client's device.
    const syn = got[0]!;
    l.net.fromPod(
      ipToU32(dst(syn)),
      buildTcp({
        src: dst(syn),
        dst: l.clientIP,
        sport: 80,
        dport: 40000,
        flags: TcpFlags.SYN | TcpFlags.ACK,
        ack: 1,
      }),
    );
    t.is(l.client.got.length, 1);
    t.is(src(l.client.got[0]!), vip);
  });

  test(`${mode}: NodePort from the external host reaches a pod masqueraded to the node`, (t) => {
    const l = lab(mode);
    const np = myapp(l.cluster).spec.ports[0]!.nodePort!;
    l.net.fromExternal(
      buildTcp({ src: EXTERNAL, dst: '10.0.100.11', sport: 40001, dport: np, flags: TcpFlags.SYN }),
    );
    const got = allGot(l.pods);
    t.is(got.length, 1);
    t.true(l.pods.has(dst(got[0]!)));
    // MASQUERADE: the address of the interface it leaves by (the node IP, or cni0's).
    t.true(['10.0.100.11', '10.244.1.1'].includes(src(got[0]!)), src(got[0]!));
  });
}

test('a packet for the node itself goes to the node namespace; outside hosts via the router', (t) => {
  const l = lab('iptables');
  l.net.fromExternal(buildIcmpEcho({ src: EXTERNAL, dst: '10.0.100.12', echoId: 1, seq: 1 }));
  t.is(l.nodes.get('10.0.100.12')!.got.length, 1);
  l.net.fromNode(
    'k8s-node02',
    buildIcmpEcho({ src: '10.0.100.12', dst: EXTERNAL, echoId: 1, seq: 1, reply: true }),
  );
  t.is(l.external.got.length, 1);
});

test('a Service without endpoints: the client gets an ICMP port unreachable on its device', (t) => {
  const l = lab('iptables');
  l.cluster.apply([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'noep', namespace: 'default' },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] },
    } as never,
  ]);
  l.cluster.advance(2e9);
  const vip = l.cluster.get('Service', 'default', 'noep')!.spec.clusterIP!;
  l.net.fromPod(
    ((10 << 24) | (244 << 16) | (1 << 8) | 254) >>> 0,
    buildTcp({ src: l.clientIP, dst: vip, sport: 40002, dport: 80, flags: TcpFlags.SYN }),
  );
  t.is(allGot(l.pods).length, 0);
  t.is(l.client.got.length, 1);
  const icmp = l.client.got[0]!;
  t.is(icmp[9], 1, 'ICMP');
  t.is(icmp[20], 3, 'destination unreachable');
  t.is(icmp[21], 3, 'port unreachable');
});

test('no device for an address: counted, not thrown', (t) => {
  const l = lab('iptables');
  l.net.fromExternal(
    buildTcp({ src: EXTERNAL, dst: '172.16.0.1', sport: 1, dport: 2, flags: TcpFlags.SYN }),
  );
  t.is(l.net.counters.noDevice, 1);
});

test('ping of a ClusterIP: no answer in iptables mode, REJECTed in nftables and ipvs modes', (t) => {
  for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
    const l = lab(mode);
    const vip = myapp(l.cluster).spec.clusterIP!;
    l.net.fromPod(
      ipToU32(l.clientIP),
      buildIcmpEcho({ src: l.clientIP, dst: vip, echoId: 7, seq: 1 }),
    );
    t.is(allGot(l.pods).length, 0, mode);
    if (mode === 'iptables') {
      // Nothing holds the VIP: the echo request leaves toward the router and is lost.
      t.is(l.client.got.length, 0, mode);
      t.is(l.net.counters.noDevice, 1, mode);
    } else {
      // nftables: cluster-ips-check rejects other ports of a ClusterIP; ipvs:
      // KUBE-IPVS-FILTER rejects a kube-ipvs0 address with no virtual service for it.
      t.is(l.client.got.length, 1, mode);
      t.is(l.client.got[0]![20], 3, `${mode}: destination unreachable`);
    }
  }
});
