// One cluster node's network, as kube-proxy and the CNI set it up: a proxy mode fed by
// the cluster's control plane, and a NodeDataplane with a veth per local pod, routes to
// the other nodes' pod CIDRs (host-gw) and a default route to the node network's router.
// Pods coming and going on the node add and remove their veths.
import type { Pod } from '../api/types.ts';
import type { Cluster } from './cluster.ts';
import { type ResolvedNode, resolveNodes } from './cluster-config.ts';
import type { ProxyFeed } from './proxy-feed.ts';
import { NodeDataplane } from '../dataplane/node.ts';
import type { ConntrackConfig } from '../conntrack/conntrack.ts';
import { ipToU32, parseCidr, tryIpToU32 } from '../packet/addr.ts';
import type { DataplaneProxier } from '../proxy/hooks.ts';
import { newProxier } from '../proxy/modes.ts';
import type { ProxyMode } from '../proxy/modes.ts';
import { seededStream } from '../proxy/random.ts';

export { PROXY_MODES } from '../proxy/modes.ts';
export type { ProxyMode } from '../proxy/modes.ts';
export { seededStream } from '../proxy/random.ts';

export interface NodeSetupOptions {
  mode: ProxyMode;
  /** --ipvs-scheduler (ipvs mode; default rr). */
  scheduler?: string;
  /** Address of the node network's router (default .1 of the first node's /24). */
  routerIP?: string;
  conntrack?: ConntrackConfig;
  /** Sends a packet the dataplane generates (ICMP errors) out of an interface. */
  emit?: (packet: Uint8Array, ifIndex: number) => void;
}

export interface SimNode {
  readonly node: ResolvedNode;
  readonly ip: number;
  readonly dataplane: NodeDataplane;
  readonly proxier: DataplaneProxier;
  readonly feed: ProxyFeed;
  /** Pod IP → the veth's interface index on this node. */
  readonly podIfaces: Map<number, number>;
}

/** The node's proxier: kube-proxy in `mode`, configured as the cluster sets up its nodes. */
export function makeProxier(
  cluster: Cluster,
  node: ResolvedNode,
  mode: ProxyMode,
  scheduler?: string,
): DataplaneProxier {
  const cfg = cluster.config;
  return newProxier(
    mode,
    {
      nodeName: node.name,
      nodeIPs: [node.ip],
      clusterCIDR: cfg.podCIDR,
      version: cfg.kubernetesVersion,
      ...(scheduler !== undefined ? { ipvs: { scheduler } } : {}),
      nftables: { serviceCIDRs: [cfg.serviceCIDR] },
    },
    { random: seededStream(cfg.seed, `proxy/${node.name}`), nowNs: () => cluster.now() },
  );
}

/** Build the node's proxy and dataplane and keep its pod veths in step with the cluster. */
export function setUpNode(cluster: Cluster, nodeName: string, opts: NodeSetupOptions): SimNode {
  const node = resolveNodes(cluster.config).find((n) => n.name === nodeName);
  if (node === undefined) throw new Error(`no node named ${nodeName}`);
  const proxier = makeProxier(cluster, node, opts.mode, opts.scheduler);
  const podCidr = parseCidr(node.podCIDR);
  const dataplane = new NodeDataplane({
    name: node.name,
    nodeIP: ipToU32(node.ip),
    podGateway: (podCidr.base + 1) >>> 0,
    proxier,
    nowMs: () => cluster.now() / 1e6,
    emit: opts.emit ?? (() => undefined),
    random: seededStream(cluster.config.seed, `dataplane/${node.name}`),
    ...(opts.conntrack ? { conntrack: opts.conntrack } : {}),
  });
  for (const other of resolveNodes(cluster.config)) {
    if (other.name !== node.name)
      dataplane.addUplinkRoute(parseCidr(other.podCIDR), ipToU32(other.ip));
  }
  const router = opts.routerIP ?? defaultRouter(node.ip);
  dataplane.addUplinkRoute({ base: 0, prefix: 0 }, ipToU32(router));
  const podIfaces = new Map<number, number>();
  const sim: SimNode = {
    node,
    ip: ipToU32(node.ip),
    dataplane,
    proxier,
    feed: undefined!,
    podIfaces,
  };
  const syncPods = () => syncPodIfaces(cluster.list('Pod'), sim);
  syncPods();
  cluster.store.watch('Pod', () => syncPods());
  const feed = cluster.attachProxier(proxier);
  return { ...sim, feed };
}

function syncPodIfaces(pods: Pod[], sim: SimNode): void {
  const want = new Map<number, string>();
  for (const p of pods) {
    if (p.spec.nodeName !== sim.node.name || p.spec.hostNetwork) continue;
    const ip = p.status.podIP === undefined ? undefined : tryIpToU32(p.status.podIP);
    if (ip !== undefined && p.metadata.deletionTimestamp === undefined)
      want.set(ip, p.metadata.name);
  }
  for (const [ip] of sim.podIfaces) {
    if (!want.has(ip)) {
      sim.dataplane.removePod(ip);
      sim.podIfaces.delete(ip);
    }
  }
  for (const [ip, name] of want) {
    if (!sim.podIfaces.has(ip)) sim.podIfaces.set(ip, sim.dataplane.addPod(vethName(name), ip));
  }
}

/** A pod's host-side veth name: `veth` + 8 hex digits of the pod name, as CNIs hash them (IFNAMSIZ 15). */
export function vethName(podName: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < podName.length; i++)
    h = Math.imul(h ^ podName.charCodeAt(i), 0x01000193) >>> 0;
  return `veth${h.toString(16).padStart(8, '0')}`;
}

/** The node network's router: .1 of the node's /24 (10.0.100.1 for the seed's nodes). */
export function defaultRouter(nodeIP: string): string {
  return nodeIP.replace(/\.\d+$/, '.1');
}
