// What a cluster of one Kubernetes release looks like from its nodes: the OS image, kernel
// and container runtime the nodes report, the images kubeadm pulls, the dig the node's
// shell has and the shell's prompt. One table keyed by the minor release, so a cluster's
// printed versions agree with each other: a v1.15 cluster is the seed's (CentOS 7 with
// the elrepo 4.4 kernel its readers installed for IPVS, Docker, k8s.gcr.io), a current
// one is Debian 12 with containerd and registry.k8s.io.
import { kubeMinor } from '../api/kinds.ts';
import type { IptablesBinary } from '../proxy/tool-args.ts';

/** How dig prints on this node (BIND 9.11 from CentOS 7's bind-utils, or 9.18 from Debian 12). */
export interface DigFlavor {
  /** The banner's version: `; <<>> DiG VERSION <<>> ...`. */
  version: string;
  /** The EDNS buffer size dig advertises (9.11: 4096; 9.18: 1232, the DNS flag day value). */
  udpPayloadSize: number;
  /** 9.18 names the transport after the server: `;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)`. */
  serverProtocol: boolean;
}

export interface Era {
  osImage: string;
  kernelVersion: string;
  containerRuntimeVersion: string;
  /** The registry kubeadm pulls from (k8s.gcr.io until v1.24, registry.k8s.io since v1.25). */
  registry: string;
  etcdImage: string;
  coreDNSImage: string;
  dig: DigFlavor;
  /** The node's iptables: CentOS 7's legacy 1.4.21, Debian 12's 1.8.9 over nf_tables. */
  iptables: IptablesBinary;
  /** kubeadm's role labels on a control-plane node (`node-role.kubernetes.io/...`). */
  controlPlaneLabels: string[];
  /** kubeadm's NoSchedule taints on a control-plane node (CoreDNS tolerates them). */
  controlPlaneTaints: string[];
  /** bash's prompt for root on the node: RHEL's `[root@host ~]# ` or Debian's `root@host:~# `. */
  prompt(host: string): string;
}

/** kubeadm's CoreDNS version by minor release (constants.CoreDNSVersion). */
const COREDNS: [minor: number, version: string][] = [
  [15, '1.3.1'],
  [16, '1.6.2'],
  [17, '1.6.5'],
  [18, '1.6.7'],
  [19, '1.7.0'],
  [21, 'v1.8.0'],
  [22, 'v1.8.4'],
  [23, 'v1.8.6'],
  [25, 'v1.9.3'],
  [27, 'v1.10.1'],
  [29, 'v1.11.1'],
  [31, 'v1.11.3'],
  [33, 'v1.12.0'],
  [34, 'v1.12.1'],
  [35, 'v1.13.1'],
];

/** kubeadm's etcd version by minor release (constants.DefaultEtcdVersion). */
const ETCD: [minor: number, version: string][] = [
  [15, '3.3.10'],
  [16, '3.3.15-0'],
  [17, '3.4.3-0'],
  [19, '3.4.13-0'],
  [22, '3.5.0-0'],
  [23, '3.5.1-0'],
  [24, '3.5.3-0'],
  [25, '3.5.4-0'],
  [26, '3.5.6-0'],
  [27, '3.5.7-0'],
  [28, '3.5.9-0'],
  [29, '3.5.10-0'],
  [30, '3.5.12-0'],
  [31, '3.5.15-0'],
  [32, '3.5.16-0'],
  [33, '3.5.21-0'],
  [34, '3.6.4-0'],
  [35, '3.6.5-0'],
];

/** The last entry at or below `minor` (the first entry for older releases). */
function pick(table: [number, string][], minor: number): string {
  let v = table[0]![1];
  for (const [m, x] of table) if (m <= minor) v = x;
  return v;
}

/** Until dockershim left (v1.24): the seed's CentOS 7 nodes with Docker. */
const RHEL7 = {
  osImage: 'CentOS Linux 7 (Core)',
  kernelVersion: '4.4.248-1.el7.elrepo.x86_64',
  containerRuntimeVersion: 'docker://19.3.15',
  dig: {
    version: '9.11.4-P2-RedHat-9.11.4-26.P2.el7_9.16',
    udpPayloadSize: 4096,
    serverProtocol: false,
  },
  iptables: { version: 'v1.4.21', protocolNames: true },
  prompt: (host: string) => `[root@${host} ~]# `,
};

/** From v1.24: Debian 12 nodes with containerd (dig as this project's own Debian 12 has it). */
const DEBIAN12 = {
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0-28-amd64',
  containerRuntimeVersion: 'containerd://1.7.24',
  dig: { version: '9.18.49-1~deb12u3-Debian', udpPayloadSize: 1232, serverProtocol: true },
  iptables: { version: 'v1.8.9 (nf_tables)', protocolNames: false },
  prompt: (host: string) => `root@${host}:~# `,
};

/** The era of release `version` (`v1.15.1`); anything unparsable counts as the newest. */
export function eraOf(version: string): Era {
  const minor = kubeMinor(version) ?? 1000;
  const base = minor < 24 ? RHEL7 : DEBIAN12;
  const registry = minor < 25 ? 'k8s.gcr.io' : 'registry.k8s.io';
  const dns = pick(COREDNS, minor);
  // CoreDNS moved to its own repository path (coredns/coredns) with v1.8.0.
  const coreDNSImage =
    minor < 21 ? `${registry}/coredns:${dns}` : `${registry}/coredns/coredns:${dns}`;
  // kubeadm renamed master to control-plane: the label from v1.20 (master's gone in v1.24),
  // the taint from v1.24 (master's gone in v1.25).
  const role = (r: string) => `node-role.kubernetes.io/${r}`;
  const controlPlaneLabels =
    minor < 20
      ? [role('master')]
      : minor < 24
        ? [role('control-plane'), role('master')]
        : [role('control-plane')];
  const controlPlaneTaints =
    minor < 24
      ? [role('master')]
      : minor < 25
        ? [role('master'), role('control-plane')]
        : [role('control-plane')];
  return {
    ...base,
    registry,
    etcdImage: `${registry}/etcd:${pick(ETCD, minor)}`,
    coreDNSImage,
    controlPlaneLabels,
    controlPlaneTaints,
  };
}
