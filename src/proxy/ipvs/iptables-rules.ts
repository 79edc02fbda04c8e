// The few iptables rules ipvs mode still writes (pkg/proxy/ipvs/proxier.go writeIptablesRules,
// createAndLinkKubeChain, acceptIPVSTraffic): masquerade by mark 0x4000 driven by ipset matches,
// hairpin MASQUERADE via KUBE-LOOP-BACK, source-range firewalling, and the KUBE-IPVS-FILTER
// guard. Produced as kube-proxy's iptables-restore payload (argument lists as it writes them)
// plus the jumps it ensures in the built-in chains. The shared iptables rule model cannot parse
// `-m set`, `-m physdev` or `-m ipvs` yet, so the payload stays text here and the packet path
// uses masquerade.ts, which follows the same rules.
import type { KubeIpsets } from './kube-ipsets.ts';
import * as S from './kube-ipsets.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_NODE_PORT = 'KUBE-NODE-PORT';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_IPVS_FILTER = 'KUBE-IPVS-FILTER';
export const KUBE_IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';

/** iptablesChains: [table, chain]. */
const CHAINS: readonly (readonly ['nat' | 'filter', string])[] = [
  ['nat', KUBE_SERVICES],
  ['nat', KUBE_POSTROUTING],
  ['nat', KUBE_NODE_PORT],
  ['nat', KUBE_LOAD_BALANCER],
  ['nat', KUBE_MARK_MASQ],
  ['filter', KUBE_FORWARD],
  ['filter', KUBE_NODE_PORT],
  ['filter', KUBE_PROXY_FIREWALL],
  ['filter', KUBE_SOURCE_RANGES_FIREWALL],
  ['filter', KUBE_IPVS_FILTER],
  ['filter', KUBE_IPVS_OUT_FILTER],
];

/** iptablesJumpChain: [table, from, to, comment] (EnsureRule Prepend, outside the payload). */
export const JUMP_CHAINS: readonly (readonly ['nat' | 'filter', string, string, string])[] = [
  ['nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'],
  ['nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'],
  ['nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'],
  ['filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'],
  ['filter', 'INPUT', KUBE_NODE_PORT, 'kubernetes health check rules'],
  ['filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'],
  ['filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'],
  ['filter', 'INPUT', KUBE_IPVS_FILTER, 'kubernetes ipvs access filter'],
  ['filter', 'OUTPUT', KUBE_IPVS_OUT_FILTER, 'kubernetes ipvs access filter'],
];

/** ipsetWithIptablesChain: set, table, from, to, match type, protocol. */
export const IPSET_CHAINS: readonly (readonly [
  string,
  'nat' | 'filter',
  string,
  string,
  string,
  string,
])[] = [
  [S.KUBE_LOOP_BACK, 'nat', KUBE_POSTROUTING, 'MASQUERADE', 'dst,dst,src', ''],
  [S.KUBE_LOAD_BALANCER, 'nat', KUBE_SERVICES, KUBE_LOAD_BALANCER, 'dst,dst', ''],
  [S.KUBE_LOAD_BALANCER_LOCAL, 'nat', KUBE_LOAD_BALANCER, 'RETURN', 'dst,dst', ''],
  [S.KUBE_NODE_PORT_LOCAL_TCP, 'nat', KUBE_NODE_PORT, 'RETURN', 'dst', 'tcp'],
  [S.KUBE_NODE_PORT_TCP, 'nat', KUBE_NODE_PORT, KUBE_MARK_MASQ, 'dst', 'tcp'],
  [S.KUBE_NODE_PORT_LOCAL_UDP, 'nat', KUBE_NODE_PORT, 'RETURN', 'dst', 'udp'],
  [S.KUBE_NODE_PORT_UDP, 'nat', KUBE_NODE_PORT, KUBE_MARK_MASQ, 'dst', 'udp'],
  [S.KUBE_NODE_PORT_LOCAL_SCTP, 'nat', KUBE_NODE_PORT, 'RETURN', 'dst,dst', 'sctp'],
  [S.KUBE_NODE_PORT_SCTP, 'nat', KUBE_NODE_PORT, KUBE_MARK_MASQ, 'dst,dst', 'sctp'],
  [
    S.KUBE_LOAD_BALANCER_FW,
    'filter',
    KUBE_PROXY_FIREWALL,
    KUBE_SOURCE_RANGES_FIREWALL,
    'dst,dst',
    '',
  ],
  [
    S.KUBE_LOAD_BALANCER_SOURCE_CIDR,
    'filter',
    KUBE_SOURCE_RANGES_FIREWALL,
    'RETURN',
    'dst,dst,src',
    '',
  ],
  [
    S.KUBE_LOAD_BALANCER_SOURCE_IP,
    'filter',
    KUBE_SOURCE_RANGES_FIREWALL,
    'RETURN',
    'dst,dst,src',
    '',
  ],
];

export interface IpvsRulesOptions {
  readonly masqueradeAll: boolean;
  /** Normalised --cluster-cidr, or undefined without a local-traffic detector. */
  readonly clusterCIDR: string | undefined;
  /** Mark as written (Go's %#08x of 1 << bit: `0x00004000`). */
  readonly mark: string;
  readonly randomFully: boolean;
  /** LB ip, protocol, port that nodes may not reach (lbNoNodeAccessIPPortProtocolEntries). */
  readonly lbNoNodeAccess: readonly (readonly [string, string, number])[];
}

export interface IpvsRules {
  /** The iptables-restore payload, one line each. */
  readonly restoreLines: readonly string[];
  /** Rules referencing each set (ipset's `References:`), payload and jumps together. */
  readonly references: ReadonlyMap<string, number>;
}

const q = (s: string): string => `"${s}"`;

/** Every line of kube-proxy's ipvs-mode restore payload for the current set contents. */
export function ipvsIptablesRules(sets: KubeIpsets, o: IpvsRulesOptions): IpvsRules {
  const nat: string[] = [];
  const filter: string[] = [];
  const refs = new Map<string, number>();
  const w = (table: 'nat' | 'filter', ...args: string[]) => {
    const i = args.indexOf('--match-set');
    if (i >= 0) refs.set(args[i + 1]!, (refs.get(args[i + 1]!) ?? 0) + 1);
    (table === 'nat' ? nat : filter).push(args.join(' '));
  };
  const comment = (set: string) => ['-m', 'comment', '--comment', q(sets.comments.get(set)!)];
  const nonEmpty = (set: string) => !sets.isEmpty(set);

  w('nat', '-A', KUBE_SERVICES, '-s', '127.0.0.0/8', '-j', 'RETURN');
  for (const [set, table, from, to, match, proto] of IPSET_CHAINS) {
    if (!nonEmpty(set)) continue;
    const p = proto === '' ? [] : ['-p', proto];
    w(table, '-A', from, ...p, ...comment(set), '-m', 'set', '--match-set', set, match, '-j', to);
  }
  if (nonEmpty(S.KUBE_CLUSTER_IP)) {
    const a = [
      '-A',
      KUBE_SERVICES,
      ...comment(S.KUBE_CLUSTER_IP),
      '-m',
      'set',
      '--match-set',
      S.KUBE_CLUSTER_IP,
    ];
    if (o.masqueradeAll) w('nat', ...a, 'dst,dst', '-j', KUBE_MARK_MASQ);
    else if (o.clusterCIDR !== undefined)
      w('nat', ...a, 'dst,dst', '!', '-s', o.clusterCIDR, '-j', KUBE_MARK_MASQ);
    else w('nat', ...a, 'src,dst', '-j', KUBE_MARK_MASQ);
  }
  const externalIPRules = (args: string[]) => {
    w(
      'nat',
      ...args,
      '-m',
      'physdev',
      '!',
      '--physdev-is-in',
      '-m',
      'addrtype',
      '!',
      '--src-type',
      'LOCAL',
      '-j',
      'ACCEPT',
    );
    w('nat', ...args, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT');
  };
  if (nonEmpty(S.KUBE_EXTERNAL_IP)) {
    const a = [
      '-A',
      KUBE_SERVICES,
      ...comment(S.KUBE_EXTERNAL_IP),
      '-m',
      'set',
      '--match-set',
      S.KUBE_EXTERNAL_IP,
      'dst,dst',
    ];
    w('nat', ...a, '-j', KUBE_MARK_MASQ);
    externalIPRules(a);
  }
  if (nonEmpty(S.KUBE_EXTERNAL_IP_LOCAL)) {
    externalIPRules([
      '-A',
      KUBE_SERVICES,
      ...comment(S.KUBE_EXTERNAL_IP_LOCAL),
      '-m',
      'set',
      '--match-set',
      S.KUBE_EXTERNAL_IP_LOCAL,
      'dst,dst',
    ]);
  }
  w('nat', '-A', KUBE_SERVICES, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', KUBE_NODE_PORT);
  w('nat', '-A', KUBE_LOAD_BALANCER, '-j', KUBE_MARK_MASQ);
  w('filter', '-A', KUBE_SOURCE_RANGES_FIREWALL, '-j', 'DROP');
  for (const [ip, proto, port] of o.lbNoNodeAccess) {
    w(
      'filter',
      '-A',
      KUBE_IPVS_OUT_FILTER,
      '-s',
      ip,
      '-m',
      'ipvs',
      '--vaddr',
      ip,
      '--vproto',
      proto,
      '--vport',
      String(port),
      '-j',
      'DROP',
    );
  }
  // acceptIPVSTraffic: the last rules of KUBE-SERVICES.
  for (const set of [S.KUBE_CLUSTER_IP, S.KUBE_LOAD_BALANCER]) {
    if (nonEmpty(set))
      w('nat', '-A', KUBE_SERVICES, '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'ACCEPT');
  }
  const mm = `${o.mark}/${o.mark}`;
  w(
    'filter',
    '-A',
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    q('kubernetes forwarding rules'),
    '-m',
    'mark',
    '--mark',
    mm,
    '-j',
    'ACCEPT',
  );
  w(
    'filter',
    '-A',
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    q('kubernetes forwarding conntrack rule'),
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  );
  w(
    'filter',
    '-A',
    KUBE_NODE_PORT,
    ...comment(S.KUBE_HEALTH_CHECK_NODE_PORT),
    '-m',
    'set',
    '--match-set',
    S.KUBE_HEALTH_CHECK_NODE_PORT,
    'dst',
    '-j',
    'ACCEPT',
  );
  for (const set of [
    S.KUBE_LOAD_BALANCER,
    S.KUBE_CLUSTER_IP,
    S.KUBE_EXTERNAL_IP,
    S.KUBE_EXTERNAL_IP_LOCAL,
  ]) {
    w('filter', '-A', KUBE_IPVS_FILTER, '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'RETURN');
  }
  w(
    'filter',
    '-A',
    KUBE_IPVS_FILTER,
    '-m',
    'set',
    '--match-set',
    S.KUBE_HEALTH_CHECK_NODE_PORT,
    'dst',
    '-j',
    'RETURN',
  );
  w(
    'filter',
    '-A',
    KUBE_IPVS_FILTER,
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-m',
    'set',
    '--match-set',
    S.KUBE_IPVS_IPS,
    'dst',
    '-j',
    'REJECT',
  );
  w('nat', '-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', mm, '-j', 'RETURN');
  w('nat', '-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', o.mark);
  const masq = [
    '-A',
    KUBE_POSTROUTING,
    '-m',
    'comment',
    '--comment',
    q('kubernetes service traffic requiring SNAT'),
    '-j',
    'MASQUERADE',
  ];
  w('nat', ...masq, ...(o.randomFully ? ['--random-fully'] : []));
  w('nat', '-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', o.mark);

  const chainLines = (t: 'nat' | 'filter') =>
    CHAINS.filter(([tt]) => tt === t).map(([, c]) => `:${c} - [0:0]`);
  return {
    restoreLines: [
      '*nat',
      ...chainLines('nat'),
      ...nat,
      'COMMIT',
      '*filter',
      ...chainLines('filter'),
      ...filter,
      'COMMIT',
    ],
    references: refs,
  };
}
