// kube-proxy's iptables chain names (pkg/proxy/iptables/proxier.go): fixed chains,
// and per-service chains named by a 16-character hash because iptables chain names
// must stay under 29 characters.
import { sha256Base32 } from './sha256.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';
/** kubelet's anti-martian chain, which kube-proxy duplicates. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

// nfacct counter names (pkg/proxy/metrics: IPTablesCTStateInvalidDroppedNFAcctCounter,
// LocalhostNodePortAcceptedNFAcctCounter).
export const CT_STATE_INVALID_COUNTER = 'ct_state_invalid_dropped_pkts';
export const LOCALHOST_NODEPORTS_COUNTER = 'localhost_nps_accepted_pkts';

/**
 * `prefix` and the first 16 base32 characters (80 bits: the first 10 bytes) of sha256(s),
 * as one flat string: `prefix + hash` would make a rope (about twice the memory of the 25
 * characters), and a large cluster keeps a million endpoint chain names.
 */
const hash16 = (s: string, prefix = ''): string => sha256Base32(s, 2, prefix);

/** portProtoHash: first 16 base32 chars of sha256(servicePortName + protocol). */
export function portProtoHash(servicePortName: string, protocolLower: string): string {
  return hash16(servicePortName + protocolLower);
}

/** KUBE-SVC-: the Cluster-policy dispatch chain. */
export function servicePortPolicyClusterChain(spn: string, protocolLower: string): string {
  return 'KUBE-SVC-' + portProtoHash(spn, protocolLower);
}

/** KUBE-SVL-: the Local-policy dispatch chain. */
export function servicePortPolicyLocalChainName(spn: string, protocolLower: string): string {
  return 'KUBE-SVL-' + portProtoHash(spn, protocolLower);
}

/** KUBE-FW-: loadBalancerSourceRanges filter. */
export function serviceFirewallChainName(spn: string, protocolLower: string): string {
  return 'KUBE-FW-' + portProtoHash(spn, protocolLower);
}

/** KUBE-EXT-: external-traffic entry (masquerade / Local short-circuits). */
export function serviceExternalChainName(spn: string, protocolLower: string): string {
  return 'KUBE-EXT-' + portProtoHash(spn, protocolLower);
}

/** KUBE-SEP-: one endpoint; hashes servicePortName + protocol + `ip:port`. */
export function servicePortEndpointChainName(
  spn: string,
  protocolLower: string,
  endpoint: string,
): string {
  return hash16(spn + protocolLower + endpoint, 'KUBE-SEP-');
}

/** isServiceChainName: the per-service chains kube-proxy owns and garbage-collects. */
export function isServiceChainName(chain: string): boolean {
  return /^KUBE-(SVC|SVL|SEP|FW|EXT)-/.test(chain);
}
