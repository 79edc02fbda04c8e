// Cluster configuration with the seed walkthrough's kubeadm cluster as the default:
// one control-plane node and two workers on 10.0.100.0/24, flannel's 10.244.0.0/16
// pod network, kubeadm's 10.96.0.0/12 service network and CoreDNS at 10.96.0.10.
import { kubeMinor } from '../api/kinds.ts';
import { eraOf } from './era.ts';
import { parseCidr, tryIpToU32, u32ToIp, cidrContains } from '../packet/addr.ts';
import { SECOND, MILLISECOND } from './clock.ts';
import { nodePodCidr } from './ipam.ts';
import { parsePortRange } from './allocators/node-port.ts';
import type { PortRange } from './allocators/node-port.ts';

export interface NodeConfig {
  name: string;
  /** InternalIP. */
  ip: string;
  /** A control-plane node (runs the API server; tainted NoSchedule unless configured). */
  controlPlane?: boolean;
  /** Override the carved pod CIDR. */
  podCIDR?: string;
  labels?: Record<string, string>;
  /**
   * The node has the IPVS kernel modules (default true). Without them kube-proxy in ipvs
   * mode falls back to iptables (Kubernetes < 1.26) or exits with an error (1.26+).
   */
  ipvsModules?: boolean;
  /**
   * Seconds this node takes to pull an image it does not have yet (default 0: every image
   * is already present). Pulls are serialized per node, as the kubelet's default
   * (serializeImagePulls): pods needing the same image wait for the one pull.
   */
  imagePullSeconds?: number;
}

export interface ClusterConfig {
  /** Seed of the single RNG behind every random choice. */
  seed: number;
  nodes: NodeConfig[];
  /** --cluster-cidr. */
  podCIDR: string;
  /** --node-cidr-mask-size: each node gets one subnet of this size, in node order. */
  nodeCIDRMaskSize: number;
  /** --service-cluster-ip-range. */
  serviceCIDR: string;
  /** kube-dns Service ClusterIP (kubelet --cluster-dns). */
  dnsServiceIP: string;
  /** --cluster-domain. */
  clusterDomain: string;
  /** API server secure port behind default/kubernetes. */
  apiServerPort: number;
  /** --service-node-port-range. */
  nodePortRange: PortRange;
  /** Simulated LoadBalancer address pool (MetalLB-style; there is no cloud). */
  loadBalancerPool: string;
  /** kubeadm taints control-plane nodes NoSchedule; false lets ordinary pods land there. */
  taintControlPlane: boolean;
  /** Time from a pod's binding to its containers running (image present, sandbox up). */
  podStartDelayNs: number;
  /** Time from running to Ready (a readiness probe's initial delay). */
  podReadyDelayNs: number;
  /** terminationGracePeriodSeconds when a pod does not set one (Kubernetes: 30). */
  defaultTerminationGracePeriodSeconds: number;
  /** Create kube-system's kube-dns Service and CoreDNS Deployment. */
  coreDNS: boolean;
  coreDNSReplicas: number;
  /** The CoreDNS image; '' (the default): the one kubeadm of kubernetesVersion pulls. */
  coreDNSImage: string;
  /** Static control-plane pods and one kube-proxy pod per node (host network). */
  systemPods: boolean;
  kubernetesVersion: string;
  /** Watch events kept per kind. */
  watchHistory: number;
  /** Controllers record core/v1 Events (kubectl get events, describe). */
  recordEvents: boolean;
  /** Events kept at most; the least recently written are deleted first. */
  maxEvents: number;
  /** An event is deleted this long after its last write (kube-apiserver --event-ttl). */
  eventTTLNs: number;
}

/** The cluster's minor release (resolveConfig has checked the version's form). */
export function clusterMinor(cfg: Pick<ClusterConfig, 'kubernetesVersion'>): number {
  return kubeMinor(cfg.kubernetesVersion)!;
}

export const DEFAULT_NODES: readonly NodeConfig[] = [
  { name: 'k8s-master01', ip: '10.0.100.10', controlPlane: true },
  { name: 'k8s-node01', ip: '10.0.100.11' },
  { name: 'k8s-node02', ip: '10.0.100.12' },
];

export const DEFAULT_CONFIG: Readonly<ClusterConfig> = {
  seed: 1,
  nodes: DEFAULT_NODES.map((n) => ({ ...n })),
  podCIDR: '10.244.0.0/16',
  nodeCIDRMaskSize: 24,
  serviceCIDR: '10.96.0.0/12',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
  apiServerPort: 6443,
  nodePortRange: { min: 30000, max: 32767 },
  loadBalancerPool: '192.168.100.240/28',
  taintControlPlane: true,
  podStartDelayNs: 500 * MILLISECOND,
  podReadyDelayNs: 1 * SECOND,
  defaultTerminationGracePeriodSeconds: 30,
  coreDNS: true,
  coreDNSReplicas: 2,
  coreDNSImage: '',
  systemPods: true,
  kubernetesVersion: 'v1.35.4',
  watchHistory: 1000,
  recordEvents: true,
  maxEvents: 5000,
  eventTTLNs: 3600 * SECOND,
};

export type ClusterOptions = Partial<Omit<ClusterConfig, 'nodePortRange'>> & {
  nodePortRange?: PortRange | string;
};

export interface ResolvedNode extends NodeConfig {
  podCIDR: string;
  index: number;
}

/** Defaults filled in and checked (throws a readable Error on a bad value). */
export function resolveConfig(opts: ClusterOptions = {}): ClusterConfig {
  const cfg: ClusterConfig = {
    ...DEFAULT_CONFIG,
    ...opts,
    nodes: (opts.nodes ?? DEFAULT_CONFIG.nodes).map((n) => ({ ...n })),
    nodePortRange:
      typeof opts.nodePortRange === 'string'
        ? parsePortRange(opts.nodePortRange)
        : (opts.nodePortRange ?? DEFAULT_CONFIG.nodePortRange),
  };
  if (cfg.nodes.length === 0) throw new Error('a cluster needs at least one node');
  if (!/^v1\.\d+\.\d+$/.test(cfg.kubernetesVersion))
    throw new Error(`kubernetesVersion ${cfg.kubernetesVersion}: a version like v1.35.4`);
  if (cfg.coreDNSImage === '') cfg.coreDNSImage = eraOf(cfg.kubernetesVersion).coreDNSImage;
  const names = new Set<string>();
  for (const n of cfg.nodes) {
    if (names.has(n.name)) throw new Error(`duplicate node name ${n.name}`);
    names.add(n.name);
    if (tryIpToU32(n.ip) === undefined) throw new Error(`node ${n.name}: bad IP ${n.ip}`);
  }
  const svc = parseCidr(cfg.serviceCIDR);
  const dns = tryIpToU32(cfg.dnsServiceIP);
  if (dns === undefined || !cidrContains(svc, dns)) {
    throw new Error(`dnsServiceIP ${cfg.dnsServiceIP} is not in serviceCIDR ${cfg.serviceCIDR}`);
  }
  parseCidr(cfg.podCIDR);
  parseCidr(cfg.loadBalancerPool);
  return cfg;
}

/** Nodes with their pod CIDRs carved in order (master .0/24, node01 .1/24, node02 .2/24). */
export function resolveNodes(cfg: ClusterConfig): ResolvedNode[] {
  return cfg.nodes.map((n, index) => ({
    ...n,
    index,
    podCIDR: n.podCIDR ?? nodePodCidr(cfg.podCIDR, cfg.nodeCIDRMaskSize, index),
  }));
}

/** The kubernetes Service's ClusterIP: the first address of the service range (10.96.0.1). */
export function kubernetesServiceIP(cfg: ClusterConfig): string {
  return u32ToIp(parseCidr(cfg.serviceCIDR).base + 1);
}
