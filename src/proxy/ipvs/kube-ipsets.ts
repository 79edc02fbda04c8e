// The ipsets kube-proxy's ipvs mode keeps (pkg/proxy/ipvs/ipset.go, proxier.go ipsetInfo),
// with their comments (used in the iptables rules) and reference-counted membership: two
// services can contribute the same member (a shared node port protocol, a shared endpoint),
// and a member leaves the set only when its last contributor does.
import { IpSet, parseMember } from './ipset.ts';
import type { IpsetType } from './ipset.ts';
import { jhash2 } from './jhash.ts';
import { KeyTable } from './key-table.ts';

export const KUBE_LOOP_BACK = 'KUBE-LOOP-BACK';
export const KUBE_CLUSTER_IP = 'KUBE-CLUSTER-IP';
export const KUBE_EXTERNAL_IP = 'KUBE-EXTERNAL-IP';
export const KUBE_EXTERNAL_IP_LOCAL = 'KUBE-EXTERNAL-IP-LOCAL';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_LOAD_BALANCER_FW = 'KUBE-LOAD-BALANCER-FW';
export const KUBE_LOAD_BALANCER_LOCAL = 'KUBE-LOAD-BALANCER-LOCAL';
export const KUBE_LOAD_BALANCER_SOURCE_IP = 'KUBE-LOAD-BALANCER-SOURCE-IP';
export const KUBE_LOAD_BALANCER_SOURCE_CIDR = 'KUBE-LOAD-BALANCER-SOURCE-CIDR';
export const KUBE_NODE_PORT_TCP = 'KUBE-NODE-PORT-TCP';
export const KUBE_NODE_PORT_LOCAL_TCP = 'KUBE-NODE-PORT-LOCAL-TCP';
export const KUBE_NODE_PORT_UDP = 'KUBE-NODE-PORT-UDP';
export const KUBE_NODE_PORT_LOCAL_UDP = 'KUBE-NODE-PORT-LOCAL-UDP';
export const KUBE_NODE_PORT_SCTP = 'KUBE-NODE-PORT-SCTP-HASH';
export const KUBE_NODE_PORT_LOCAL_SCTP = 'KUBE-NODE-PORT-LOCAL-SCTP-HASH';
export const KUBE_HEALTH_CHECK_NODE_PORT = 'KUBE-HEALTH-CHECK-NODE-PORT';
export const KUBE_IPVS_IPS = 'KUBE-IPVS-IPS';

/** ipsetInfo: name, type, comment, in kube-proxy's order. */
export const KUBE_IPSETS: readonly (readonly [string, IpsetType, string])[] = [
  [
    KUBE_LOOP_BACK,
    'hash:ip,port,ip',
    'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
  ],
  [KUBE_CLUSTER_IP, 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'],
  [
    KUBE_EXTERNAL_IP,
    'hash:ip,port',
    'Kubernetes service external ip + port for masquerade and filter purpose',
  ],
  [
    KUBE_EXTERNAL_IP_LOCAL,
    'hash:ip,port',
    'Kubernetes service external ip + port with externalTrafficPolicy=local',
  ],
  [KUBE_LOAD_BALANCER, 'hash:ip,port', 'Kubernetes service lb portal'],
  [
    KUBE_LOAD_BALANCER_FW,
    'hash:ip,port',
    'Kubernetes service load balancer ip + port for load balancer with sourceRange',
  ],
  [
    KUBE_LOAD_BALANCER_LOCAL,
    'hash:ip,port',
    'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
  ],
  [
    KUBE_LOAD_BALANCER_SOURCE_IP,
    'hash:ip,port,ip',
    'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  ],
  [
    KUBE_LOAD_BALANCER_SOURCE_CIDR,
    'hash:ip,port,net',
    'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  ],
  [KUBE_NODE_PORT_TCP, 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'],
  [
    KUBE_NODE_PORT_LOCAL_TCP,
    'bitmap:port',
    'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
  ],
  [KUBE_NODE_PORT_UDP, 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'],
  [
    KUBE_NODE_PORT_LOCAL_UDP,
    'bitmap:port',
    'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
  ],
  [
    KUBE_NODE_PORT_SCTP,
    'hash:ip,port',
    "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
  ],
  [
    KUBE_NODE_PORT_LOCAL_SCTP,
    'hash:ip,port',
    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  ],
  [KUBE_HEALTH_CHECK_NODE_PORT, 'bitmap:port', 'Kubernetes health check node port'],
  [KUBE_IPVS_IPS, 'hash:ip', 'Addresses on the ipvs interface'],
];

const at = (name: string): number => KUBE_IPSETS.findIndex(([n]) => n === name);

/**
 * Each set's index in KUBE_IPSETS. A service's members are kept as flat quads
 * `[set index, a, b, c]` (ipset.ts Member): numbers in one array, no string or tuple each.
 */
export const SetId = {
  LOOP_BACK: at(KUBE_LOOP_BACK),
  CLUSTER_IP: at(KUBE_CLUSTER_IP),
  EXTERNAL_IP: at(KUBE_EXTERNAL_IP),
  EXTERNAL_IP_LOCAL: at(KUBE_EXTERNAL_IP_LOCAL),
  LOAD_BALANCER: at(KUBE_LOAD_BALANCER),
  LOAD_BALANCER_FW: at(KUBE_LOAD_BALANCER_FW),
  LOAD_BALANCER_LOCAL: at(KUBE_LOAD_BALANCER_LOCAL),
  LOAD_BALANCER_SOURCE_IP: at(KUBE_LOAD_BALANCER_SOURCE_IP),
  LOAD_BALANCER_SOURCE_CIDR: at(KUBE_LOAD_BALANCER_SOURCE_CIDR),
  NODE_PORT_TCP: at(KUBE_NODE_PORT_TCP),
  NODE_PORT_LOCAL_TCP: at(KUBE_NODE_PORT_LOCAL_TCP),
  NODE_PORT_UDP: at(KUBE_NODE_PORT_UDP),
  NODE_PORT_LOCAL_UDP: at(KUBE_NODE_PORT_LOCAL_UDP),
  NODE_PORT_SCTP: at(KUBE_NODE_PORT_SCTP),
  NODE_PORT_LOCAL_SCTP: at(KUBE_NODE_PORT_LOCAL_SCTP),
  HEALTH_CHECK_NODE_PORT: at(KUBE_HEALTH_CHECK_NODE_PORT),
  IPVS_IPS: at(KUBE_IPVS_IPS),
} as const;

export class KubeIpsets {
  readonly sets = new Map<string, IpSet>();
  readonly comments = new Map<string, string>();
  /** The sets by SetId. */
  readonly list: IpSet[] = [];
  /** Bit `1 << SetId` set while that set has members (masquerade.ts reads this one word). */
  readonly occupied = new Int32Array(1);
  /** Per set (by SetId): member -> contributors. */
  private readonly refs: KeyTable[] = [];
  /** ipset add/del calls made (the sync-diff proof counts these too). */
  adds = 0;
  dels = 0;
  /** Failed adds (e.g. "Hash is full" past maxelem 65536); kube-proxy logs them and goes on. */
  errors = 0;
  lastError = '';

  /** @param seed makes each set's jhash initval reproducible (the kernel draws it at random). */
  constructor(seed = 0) {
    for (const [name, type, comment] of KUBE_IPSETS) {
      const initval = jhash2(
        [...name].map((c) => c.charCodeAt(0)),
        seed >>> 0,
      );
      const occupancyBit = 1 << this.list.length;
      const set = new IpSet(name, type, { initval, occupancy: this.occupied, occupancyBit });
      this.sets.set(name, set);
      this.comments.set(name, comment);
      this.list.push(set);
      this.refs.push(new KeyTable());
    }
    this.loopBack = this.get(KUBE_LOOP_BACK);
    this.clusterIP = this.get(KUBE_CLUSTER_IP);
    this.externalIP = this.get(KUBE_EXTERNAL_IP);
    this.externalIPLocal = this.get(KUBE_EXTERNAL_IP_LOCAL);
    this.loadBalancer = this.get(KUBE_LOAD_BALANCER);
    this.loadBalancerFW = this.get(KUBE_LOAD_BALANCER_FW);
    this.loadBalancerLocal = this.get(KUBE_LOAD_BALANCER_LOCAL);
    this.loadBalancerSourceIP = this.get(KUBE_LOAD_BALANCER_SOURCE_IP);
    this.loadBalancerSourceCIDR = this.get(KUBE_LOAD_BALANCER_SOURCE_CIDR);
    this.nodePortTCP = this.get(KUBE_NODE_PORT_TCP);
    this.nodePortLocalTCP = this.get(KUBE_NODE_PORT_LOCAL_TCP);
    this.nodePortUDP = this.get(KUBE_NODE_PORT_UDP);
    this.nodePortLocalUDP = this.get(KUBE_NODE_PORT_LOCAL_UDP);
    this.nodePortSCTP = this.get(KUBE_NODE_PORT_SCTP);
    this.nodePortLocalSCTP = this.get(KUBE_NODE_PORT_LOCAL_SCTP);
    this.healthCheckNodePort = this.get(KUBE_HEALTH_CHECK_NODE_PORT);
    this.ipvsIPs = this.get(KUBE_IPVS_IPS);
  }

  // Each set by name once, for the packet path (masquerade.ts): no Map lookup per packet.
  readonly loopBack: IpSet;
  readonly clusterIP: IpSet;
  readonly externalIP: IpSet;
  readonly externalIPLocal: IpSet;
  readonly loadBalancer: IpSet;
  readonly loadBalancerFW: IpSet;
  readonly loadBalancerLocal: IpSet;
  readonly loadBalancerSourceIP: IpSet;
  readonly loadBalancerSourceCIDR: IpSet;
  readonly nodePortTCP: IpSet;
  readonly nodePortLocalTCP: IpSet;
  readonly nodePortUDP: IpSet;
  readonly nodePortLocalUDP: IpSet;
  readonly nodePortSCTP: IpSet;
  readonly nodePortLocalSCTP: IpSet;
  readonly healthCheckNodePort: IpSet;
  readonly ipvsIPs: IpSet;

  get(name: string): IpSet {
    const s = this.sets.get(name);
    if (s === undefined) throw new Error(`no ipset ${name}`);
    return s;
  }

  isEmpty(name: string): boolean {
    return this.get(name).size === 0;
  }

  /** One more contributor of `entry`; added to the set on the first. */
  ref(name: string, entry: string): void {
    const id = at(name);
    const set = this.get(name);
    const e = parseMember(set.type, entry);
    if (e === undefined) {
      this.errors++;
      this.lastError = `ipset ${name}: bad entry ${JSON.stringify(entry)}`;
      return;
    }
    this.refMember(id, e.a, e.b, e.c);
  }

  /** One contributor fewer; deleted from the set with the last. */
  unref(name: string, entry: string): void {
    const e = parseMember(this.get(name).type, entry);
    if (e !== undefined) this.unrefMember(at(name), e.a, e.b, e.c);
  }

  /** ref() of member (a, b, c) of set `id` (SetId): the sync's path. */
  refMember(id: number, a: number, b: number, c: number): void {
    const refs = this.refs[id]!;
    const n = refs.get(a, b, c);
    refs.set(a, b, c, n + 1);
    if (n !== 0) return;
    const set = this.list[id]!;
    if (set.full) {
      // Past maxelem (65,536 by default: kube-proxy at ~65k services); no Error built per member.
      this.errors++;
      this.lastError = `ipset ${set.name}: Hash is full`;
      return;
    }
    try {
      set.addMember(a, b, c);
      this.adds++;
    } catch (e) {
      this.errors++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
  }

  /** unref() of member (a, b, c) of set `id`. */
  unrefMember(id: number, a: number, b: number, c: number): void {
    const refs = this.refs[id]!;
    const n = refs.get(a, b, c);
    if (n > 1) refs.set(a, b, c, n - 1);
    else if (n === 1) {
      refs.delete(a, b, c);
      this.list[id]!.delMember(a, b, c);
      this.dels++;
    }
  }

  /** Sets in kube-proxy's order (what `ipset list` shows after kube-proxy created them). */
  all(): IpSet[] {
    return this.list.slice();
  }
}
