// One cluster node's network, as kube-proxy and the CNI set it up: a proxy mode fed by
// the cluster's control plane, and a NodeDataplane with a veth per local pod, routes to
// the other nodes' pod CIDRs (host-gw) and a default route to the node network's router.
// Pods coming and going on the node add and remove their veths.
import { eraOf } from './era.ts';
import type { IptablesBinary } from '../proxy/tool-args.ts';
import type { Pod } from '../api/types.ts';
import type { Cluster } from './cluster.ts';
import { type ResolvedNode, resolveNodes } from './cluster-config.ts';
import { NodeDataplane } from '../dataplane/node.ts';
import type { ConntrackConfig } from '../conntrack/conntrack.ts';
import { KubeProxy } from './kube-proxy.ts';
import {
  KUBE_PROXY_CONFIG_KEY,
  KUBE_PROXY_CONFIGMAP,
  KUBE_PROXY_NAMESPACE,
  type KubeProxySettings,
  validateKubeProxySettings,
  withSettings,
} from './kube-proxy-config.ts';
import { ipToU32, parseCidr, tryIpToU32 } from '../packet/addr.ts';
import type { DataplaneProxier } from '../proxy/hooks.ts';
import type { ProxyMode } from '../proxy/modes.ts';
import { seededStream } from '../proxy/random.ts';

export { PROXY_MODES } from '../proxy/modes.ts';
export type { ProxyMode } from '../proxy/modes.ts';
export { seededStream } from '../proxy/random.ts';

export interface NodeSetupOptions extends KubeProxySettings {
  /**
   * --proxy-mode. The kube-proxy flags (mode, ipvsScheduler, masqueradeAll, clusterCIDR,
   * nodePortAddresses) are written into the kube-proxy ConfigMap, as `kubeadm init` writes
   * its configuration; fields left out keep what the ConfigMap says.
   */
  mode?: ProxyMode | '';
  /** --ipvs-scheduler (ipvs mode; default rr). Same as ipvsScheduler. */
  scheduler?: string;
  /** Address of the node network's router (default .1 of the first node's /24). */
  routerIP?: string;
  conntrack?: ConntrackConfig;
  /** Sends a packet the dataplane generates (ICMP errors) out of an interface. */
  emit?: (packet: Uint8Array, ifIndex: number) => void;
  /** Modes kube-proxy cannot run in this world (it exits with an error if configured). */
  unavailableModes?: readonly ProxyMode[];
}

export interface SimNode {
  readonly node: ResolvedNode;
  readonly ip: number;
  readonly dataplane: NodeDataplane;
  /** The node's kube-proxy process (restarted with its pod). */
  readonly kubeProxy: KubeProxy;
  /** The proxier kube-proxy runs now (a new one after a restart). */
  readonly proxier: DataplaneProxier;
  /** Pod IP → the veth's interface index on this node. */
  readonly podIfaces: Map<number, number>;
  /** The node's iptables binary, by the cluster's era (what `iptables -L` and -save print). */
  readonly iptables: IptablesBinary;
}

/** The kube-proxy flags among setup options (undefined fields left out). */
export function kubeProxyFlags(opts: NodeSetupOptions): KubeProxySettings {
  const s: KubeProxySettings = {};
  if (opts.mode !== undefined) s.mode = opts.mode;
  const sched = opts.ipvsScheduler ?? opts.scheduler;
  if (sched !== undefined) s.ipvsScheduler = sched;
  if (opts.masqueradeAll !== undefined) s.masqueradeAll = opts.masqueradeAll;
  if (opts.clusterCIDR !== undefined) s.clusterCIDR = opts.clusterCIDR;
  if (opts.nodePortAddresses !== undefined) s.nodePortAddresses = opts.nodePortAddresses;
  return s;
}

/**
 * Write kube-proxy flags into the kube-proxy ConfigMap (a no-op when they say what it says,
 * or when the cluster has none). Throws a readable Error on a value kube-proxy rejects.
 */
export function configureKubeProxy(cluster: Cluster, flags: KubeProxySettings): void {
  const bad = validateKubeProxySettings(flags);
  if (bad !== undefined) throw new Error(bad);
  if (Object.keys(flags).length === 0) return;
  const cm = cluster.store.get('ConfigMap', KUBE_PROXY_NAMESPACE, KUBE_PROXY_CONFIGMAP);
  if (cm === undefined) return;
  const text = cm.data[KUBE_PROXY_CONFIG_KEY] ?? '';
  const next = withSettings(text, flags);
  if (next === text) return;
  cluster.store.update({ ...cm, data: { ...cm.data, [KUBE_PROXY_CONFIG_KEY]: next } });
}

/** Build the node's proxy and dataplane and keep its pod veths in step with the cluster. */
export function setUpNode(
  cluster: Cluster,
  nodeName: string,
  opts: NodeSetupOptions = {},
): SimNode {
  const node = resolveNodes(cluster.config).find((n) => n.name === nodeName);
  if (node === undefined) throw new Error(`no node named ${nodeName}`);
  const flags = kubeProxyFlags(opts);
  configureKubeProxy(cluster, flags);
  const kubeProxy = new KubeProxy(cluster, node, flags, opts.unavailableModes);
  const proxier = kubeProxy.start();
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
    kubeProxy,
    get proxier() {
      return dataplane.proxier;
    },
    podIfaces,
    iptables: eraOf(cluster.config.kubernetesVersion).iptables,
  };
  const syncPods = () => syncPodIfaces(cluster.list('Pod'), sim);
  syncPods();
  cluster.store.watch('Pod', () => syncPods());
  kubeProxy.bind(dataplane);
  return sim;
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
