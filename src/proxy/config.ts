// The configuration every proxy mode takes, shaped like kube-proxy's
// KubeProxyConfiguration (k8s.io/kube-proxy/config/v1alpha1): what all modes read at
// the top, each mode's own options in its sub-object. A mode's constructor takes the
// common fields with its own sub-object's fields beside them (IptablesOptions,
// IpvsProxierOptions, NftablesOptions); modes.ts makes one from a whole configuration.
// Fields svclab adds are marked so.

import { kubeMinor } from '../api/kinds.ts';

/** What every mode reads: KubeProxyConfiguration's top level, as far as svclab models it. */
export interface ProxyCommonConfig {
  /** --hostname-override: endpoints whose nodeName is this are local. */
  readonly nodeName: string;
  /** This node's IPv4 addresses; the first is kube-proxy's node IP (--bind-address). */
  readonly nodeIPs: readonly string[];
  /** --cluster-cidr: the local-traffic detector (pod sources are not masqueraded). */
  readonly clusterCIDR?: string;
  /** --masquerade-all: masquerade all traffic to service addresses. */
  readonly masqueradeAll?: boolean;
  /** --iptables-masquerade-bit (default 14: mark 0x4000); nftables and ipvs mode use it too. */
  readonly masqueradeBit?: number;
  /**
   * svclab: the kube-proxy release whose rules to write (`v1.32.0`; the cluster's
   * kubernetesVersion). Where kube-proxy's rules changed between releases, an older
   * version selects the older shape (docs/proxy-*.md list them). Default: the newest
   * shapes svclab knows (kubeProxyMinor() is then LATEST_MINOR).
   */
  readonly version?: string;
}

/** The minor release svclab treats an unset `version` as: newer than every shape it knows. */
export const LATEST_MINOR = 1000;

/** `v1.31.2` -> 31; unset or unparsable -> LATEST_MINOR. Major versions other than 1 are later. */
export function kubeProxyMinor(version: string | undefined): number {
  return kubeMinor(version) ?? LATEST_MINOR;
}

/** KubeProxyIPTablesConfiguration, and what svclab adds. */
export interface IptablesConfig {
  /** --iptables-localhost-nodeports (default true). */
  readonly localhostNodePorts?: boolean;
  /**
   * The iptables binary supports MASQUERADE --random-fully (default true; iptables >=
   * 1.6.2; kube-proxy detects it). ipvs mode reads it too: it writes iptables rules.
   */
  readonly randomFully?: boolean;
  /**
   * svclab: the mark as written in the restore payload. Default: Go's `%#08x` of 1<<bit, as
   * the real kube-proxy (`0x00004000`); kube-proxy's unit tests use `0x4000`.
   */
  readonly masqueradeMarkText?: string;
  /** svclab: create KUBE-PROXY-CANARY as kube-proxy's iptables monitor does (default true). */
  readonly canaryChains?: boolean;
  /**
   * The node's kernel has nfnetlink_acct (default true): kube-proxy v1.30+ then counts
   * ct-state-invalid drops and (v1.31+) localhost NodePort packets with `-m nfacct`.
   */
  readonly nfacct?: boolean;
}

/** KubeProxyIPVSConfiguration, and what svclab adds. */
export interface IpvsConfig {
  /** --ipvs-scheduler (default rr); the annotation svclab.io/ipvs-scheduler overrides it per Service. */
  readonly scheduler?: string;
  /** svclab: also set mh-fallback (IP_VS_SVC_F_SCHED1) on mh services; kube-proxy sets only mh-port. */
  readonly mhFallback?: boolean;
  /** --ipvs-tcp-timeout / --ipvs-tcpfin-timeout / --ipvs-udp-timeout in seconds (0 = keep). */
  readonly tcpTimeout?: number;
  readonly tcpFinTimeout?: number;
  readonly udpTimeout?: number;
  /** svclab: seed for the ipsets' jhash initval (the kernel draws it at random). */
  readonly ipsetSeed?: number;
}

/** KubeProxyNFTablesConfiguration, and what nftables mode alone reads here. */
export interface NftablesConfig {
  /**
   * --nodeport-addresses (kube-proxy's top-level nodePortAddresses; only nftables mode
   * honours it in svclab): CIDRs selecting which node IPs take NodePort traffic, or
   * 'all' for kube-proxy's match-all form. Default: every node IP.
   */
  readonly nodePortAddresses?: readonly string[] | 'all';
  /**
   * The cluster's ServiceCIDRs (kube-proxy learns them from ServiceCIDR objects):
   * traffic to an unallocated address in them is dropped. Default: none (no drop rule).
   */
  readonly serviceCIDRs?: readonly string[];
}

export interface KubeProxyConfiguration extends ProxyCommonConfig {
  readonly iptables?: IptablesConfig;
  readonly ipvs?: IpvsConfig;
  readonly nftables?: NftablesConfig;
}
