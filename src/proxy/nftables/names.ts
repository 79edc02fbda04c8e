// kube-proxy's nftables names (pkg/proxy/nftables/proxier.go, v1.31 and v1.34+): the fixed chains,
// sets and maps of table `ip kube-proxy`, and the per-service chain names, which are
// readable (`service-ULMVA6XW-ns1/svc1/tcp/p80`) with an 8-character hash in front so
// chains of one service that differ in a digit still look different.
import { sha256Base32 } from '../name-hash.ts';
import type { ServicePortName } from '../model.ts';

export const KUBE_PROXY_TABLE = 'kube-proxy';

// Base chains: "${type}-${hook}".
export const FILTER_PREROUTING = 'filter-prerouting';
export const FILTER_INPUT = 'filter-input';
export const FILTER_FORWARD = 'filter-forward';
export const FILTER_OUTPUT = 'filter-output';
export const FILTER_OUTPUT_POST_DNAT = 'filter-output-post-dnat';
// v1.34+ (kubernetes#132456): the pre-DNAT filters have chains of their own.
export const FILTER_PREROUTING_PRE_DNAT = 'filter-prerouting-pre-dnat';
export const FILTER_OUTPUT_PRE_DNAT = 'filter-output-pre-dnat';
export const NAT_PREROUTING = 'nat-prerouting';
export const NAT_OUTPUT = 'nat-output';
export const NAT_POSTROUTING = 'nat-postrouting';

// Service dispatch.
export const SERVICES_CHAIN = 'services';
export const SERVICE_IPS_MAP = 'service-ips';
export const SERVICE_NODEPORTS_MAP = 'service-nodeports';
export const NODEPORT_IPS_SET = 'nodeport-ips';
export const CLUSTER_IPS_SET = 'cluster-ips';

// Services without endpoints.
export const SERVICE_ENDPOINTS_CHECK = 'service-endpoints-check';
export const NODEPORT_ENDPOINTS_CHECK = 'nodeport-endpoints-check';
export const NO_ENDPOINT_SERVICES_MAP = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS_MAP = 'no-endpoint-nodeports';
export const REJECT_CHAIN = 'reject-chain';

// Unallocated ClusterIPs and unserved ports of ClusterIPs.
export const CLUSTER_IPS_CHECK = 'cluster-ips-check';

// loadBalancerSourceRanges.
export const FIREWALL_IPS_MAP = 'firewall-ips';
export const FIREWALL_CHECK = 'firewall-check';

// Masquerading.
export const MARK_MASQ_CHAIN = 'mark-for-masquerade';
export const MASQUERADING_CHAIN = 'masquerading';

export const SERVICE_PREFIX = 'service-';
export const LOCAL_PREFIX = 'local-';
export const EXTERNAL_PREFIX = 'external-';
export const ENDPOINT_PREFIX = 'endpoint-';
export const AFFINITY_PREFIX = 'affinity-';
export const FIREWALL_PREFIX = 'firewall-';

/** knftables.NameLengthMax (the kernel's NFT_NAME_MAXLEN - 1). */
export const NAME_LENGTH_MAX = 256;
/** chainNamePrefixLengthMax: the longest prefix above, with its hyphen, fits in 16. */
const CHAIN_NAME_BASE_LENGTH_MAX = NAME_LENGTH_MAX - 16;

/** hashAndTruncate: `HASH8-name`, cut to the base length with `...` if ever too long. */
export function hashAndTruncate(name: string): string {
  const hash = sha256Base32(name, 1);
  const s = `${hash}-${name}`;
  return s.length > CHAIN_NAME_BASE_LENGTH_MAX
    ? s.slice(0, CHAIN_NAME_BASE_LENGTH_MAX - 3) + '...'
    : s;
}

/** servicePortChainNameBase: `HASH-namespace/name/protocol/portName`. */
export function servicePortChainNameBase(spn: ServicePortName, protocolLower: string): string {
  return hashAndTruncate(`${spn.namespace}/${spn.name}/${protocolLower}/${spn.port}`);
}

/** servicePortEndpointChainNameBase: `HASH-namespace/name/protocol/portName__ip/port`. */
export function servicePortEndpointChainNameBase(
  spn: ServicePortName,
  protocolLower: string,
  endpointIP: string,
  endpointPort: number,
): string {
  return hashAndTruncate(
    `${spn.namespace}/${spn.name}/${protocolLower}/${spn.port}__${endpointIP}/${endpointPort}`,
  );
}

/** isServiceChainName: per-service chains are the only ones with a `/`. */
export function isServiceChainName(chain: string): boolean {
  return chain.includes('/');
}

/** The chain names of one service port, each string built once (so map lookups hash it once). */
export class PortChainNames {
  readonly service: string;
  readonly local: string;
  readonly external: string;
  readonly firewall: string;
  /** endpoint port -> endpoint IP -> [base, `endpoint-` + base]. */
  private readonly eps = new Map<number, Map<string, readonly [string, string]>>();

  constructor(
    private readonly spn: ServicePortName,
    private readonly proto: string,
    readonly base: string,
  ) {
    this.service = SERVICE_PREFIX + base;
    this.local = LOCAL_PREFIX + base;
    this.external = EXTERNAL_PREFIX + base;
    this.firewall = FIREWALL_PREFIX + base;
  }

  private ep(ip: string, port: number): readonly [string, string] {
    let byIp = this.eps.get(port);
    if (byIp === undefined) this.eps.set(port, (byIp = new Map()));
    let v = byIp.get(ip);
    if (v === undefined) {
      const b = servicePortEndpointChainNameBase(this.spn, this.proto, ip, port);
      v = [b, ENDPOINT_PREFIX + b];
      byIp.set(ip, v);
    }
    return v;
  }

  /** servicePortEndpointChainNameBase, memoised. */
  endpointBase(ip: string, port: number): string {
    return this.ep(ip, port)[0];
  }

  /** `endpoint-` + the base, memoised. */
  endpointChain(ip: string, port: number): string {
    return this.ep(ip, port)[1];
  }
}

/** Memo of chain names between syncs (kube-proxy keeps them on its service infos). */
export class NameCache {
  private cur = new Map<string, PortChainNames>();
  private prev = new Map<string, PortChainNames>();

  /** Start a compile: service ports unused by the previous compile are forgotten. */
  nextGeneration(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }

  /** The names of a service port (`key`: its ServiceMap key, unique per port and protocol). */
  port(key: string, spn: ServicePortName, proto: string): PortChainNames {
    let v = this.cur.get(key);
    if (v !== undefined) return v;
    v = this.prev.get(key) ?? new PortChainNames(spn, proto, servicePortChainNameBase(spn, proto));
    this.cur.set(key, v);
    return v;
  }
}
