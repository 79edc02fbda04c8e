// The iptables rules of kube-proxy's userspace mode (pkg/proxy/userspace/proxier.go,
// v1.25: iptablesInit, openOnePortal, openNodePort and the *PortalArgs builders), as
// iptables-save prints them. Per service port, with the proxy listening on 0.0.0.0:
//
//   nat KUBE-PORTALS-CONTAINER  -d CLUSTER-IP/32 -p tcp -m comment --comment "ns/svc:port"
//                               -m tcp --dport PORT -j REDIRECT --to-ports PROXY-PORT
//   nat KUBE-PORTALS-HOST       the same, -j DNAT --to-destination NODE-IP:PROXY-PORT
//   (the same pair for each LoadBalancer ingress IP; an external IP gets the container rule
//    twice, once with `-m physdev ! --physdev-is-in` and once with `-m addrtype --dst-type
//    LOCAL`, and the host rule with the addrtype match)
//   nat KUBE-NODEPORT-CONTAINER -p tcp -m comment ... -m tcp --dport NODE-PORT -j REDIRECT ...
//   nat KUBE-NODEPORT-HOST      -p tcp -m comment ... -m tcp --dport NODE-PORT -j DNAT ...
//   filter KUBE-NODEPORT-NON-LOCAL -p tcp -m comment ... -m tcp --dport PROXY-PORT
//                               -m state --state NEW -j ACCEPT
//
// PREROUTING and OUTPUT jump to the portal chains first (prepended) and to the NodePort
// chains last, for destinations of type LOCAL; filter INPUT jumps to KUBE-NODEPORT-NON-LOCAL.
import { ipToU32 } from '../../packet/addr.ts';
import type { ServicePortInfo } from '../model.ts';

export const PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
export const PORTALS_HOST = 'KUBE-PORTALS-HOST';
export const NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
export const NODEPORT_HOST = 'KUBE-NODEPORT-HOST';
export const NODEPORT_NON_LOCAL = 'KUBE-NODEPORT-NON-LOCAL';

const PORTALS_COMMENT = 'handle ClusterIPs; NOTE: this must be before the NodePort rules';
const NODEPORTS_COMMENT = 'handle service NodePorts; NOTE: this must be the last rule in the chain';
const NON_LOCAL_COMMENT = 'Ensure that non-local NodePort traffic can flow';

export const enum PortalTarget {
  /** REDIRECT --to-ports: the primary address of the incoming interface. */
  Redirect = 0,
  /** DNAT --to-destination NODE-IP:PROXY-PORT. */
  Dnat = 1,
  /** ACCEPT (KUBE-NODEPORT-NON-LOCAL). */
  Accept = 2,
}

/** One rule kube-proxy wrote into one of its chains. */
export interface PortalRule {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  /** The rule as iptables-save prints it. */
  readonly line: string;
  readonly proto: number;
  /** Destination address (u32), or -1 for any. */
  readonly dst: number;
  readonly dport: number;
  /** `-m physdev ! --physdev-is-in`: the packet did not come in over a bridge port. */
  readonly notBridged: boolean;
  /** `-m addrtype --dst-type LOCAL`. */
  readonly dstLocal: boolean;
  /** `-m state --state NEW`. */
  readonly newOnly: boolean;
  readonly target: PortalTarget;
  readonly proxyPort: number;
  /** DNAT's address (the node IP). */
  readonly toIp: number;
  /** Index among its chain's rules (0-based). */
  readonly pos: number;
}

/** A built-in chain's jump into one of kube-proxy's chains. */
export interface JumpRule {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  readonly line: string;
  readonly to: string;
  readonly dstLocal: boolean;
  readonly pos: number;
}

const q = (s: string) =>
  /^[A-Za-z0-9_-]+$/.test(s) ? s : `"${s.replace(/["\\']/g, (c) => '\\' + c)}"`;
const PROTO: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

/** The jumps iptablesInit ensures, in each built-in chain's order. */
export const JUMPS: readonly JumpRule[] = [
  jump('nat', 'PREROUTING', 0, PORTALS_CONTAINER, false, PORTALS_COMMENT),
  jump('nat', 'PREROUTING', 1, NODEPORT_CONTAINER, true, NODEPORTS_COMMENT),
  jump('nat', 'OUTPUT', 0, PORTALS_HOST, false, PORTALS_COMMENT),
  jump('nat', 'OUTPUT', 1, NODEPORT_HOST, true, NODEPORTS_COMMENT),
  jump('filter', 'INPUT', 0, NODEPORT_NON_LOCAL, false, NON_LOCAL_COMMENT),
];

function jump(
  table: 'nat' | 'filter',
  chain: string,
  pos: number,
  to: string,
  dstLocal: boolean,
  comment: string,
): JumpRule {
  const local = dstLocal ? ' -m addrtype --dst-type LOCAL' : '';
  return {
    table,
    chain,
    line: `-A ${chain}${local} -m comment --comment ${q(comment)} -j ${to}`,
    to,
    dstLocal,
    pos,
  };
}

/** What one service port asks for: its rules, given its proxy port and the node IP. */
export interface PortalInput {
  readonly info: ServicePortInfo;
  readonly proxyPort: number;
}

/** The rules of every chain, in order. */
export interface PortalRules {
  /** Chain name → its rules in order. */
  readonly chains: ReadonlyMap<string, readonly PortalRule[]>;
}

/** All of kube-proxy's userspace rules for `ports`, in the order it appends them. */
export function buildPortalRules(ports: readonly PortalInput[], hostIP: string): PortalRules {
  const chains = new Map<string, PortalRule[]>([
    [PORTALS_CONTAINER, []],
    [PORTALS_HOST, []],
    [NODEPORT_CONTAINER, []],
    [NODEPORT_HOST, []],
    [NODEPORT_NON_LOCAL, []],
  ]);
  const host = ipToU32(hostIP);
  const add = (
    chain: string,
    dst: string | undefined,
    port: number,
    info: ServicePortInfo,
    proxyPort: number,
    opts: { notBridged?: boolean; dstLocal?: boolean; target: PortalTarget },
  ) => {
    const list = chains.get(chain)!;
    const p = info.protocol.toLowerCase();
    let line = `-A ${chain}${dst !== undefined ? ` -d ${dst}/32` : ''} -p ${p} -m comment --comment ${q(info.nameString)} -m ${p} --dport ${port}`;
    if (opts.notBridged) line += ' -m physdev ! --physdev-is-in';
    if (opts.dstLocal) line += ' -m addrtype --dst-type LOCAL';
    if (opts.target === PortalTarget.Redirect) line += ` -j REDIRECT --to-ports ${proxyPort}`;
    else if (opts.target === PortalTarget.Dnat)
      line += ` -j DNAT --to-destination ${hostIP}:${proxyPort}`;
    else line += ' -m state --state NEW -j ACCEPT';
    list.push({
      table: chain === NODEPORT_NON_LOCAL ? 'filter' : 'nat',
      chain,
      line,
      proto: PROTO[info.protocol] ?? 0,
      dst: dst === undefined ? -1 : ipToU32(dst),
      dport: port,
      notBridged: opts.notBridged ?? false,
      dstLocal: opts.dstLocal ?? false,
      newOnly: opts.target === PortalTarget.Accept,
      target: opts.target,
      proxyPort,
      toIp: host,
      pos: list.length,
    });
  };
  for (const { info, proxyPort } of ports) {
    // openPortal: the cluster IP, each external IP, each load-balancer ingress IP, the node port.
    const portal = (ip: string, external: boolean) => {
      add(PORTALS_CONTAINER, ip, info.port, info, proxyPort, {
        notBridged: external,
        target: PortalTarget.Redirect,
      });
      if (external) {
        add(PORTALS_CONTAINER, ip, info.port, info, proxyPort, {
          dstLocal: true,
          target: PortalTarget.Redirect,
        });
      }
      add(PORTALS_HOST, ip, info.port, info, proxyPort, {
        dstLocal: external,
        target: PortalTarget.Dnat,
      });
    };
    portal(info.clusterIPString, false);
    for (const ip of info.externalIPs) portal(ip, true);
    for (const ip of info.loadBalancerIPs) portal(ip, false);
    if (info.nodePort !== 0) {
      add(NODEPORT_CONTAINER, undefined, info.nodePort, info, proxyPort, {
        target: PortalTarget.Redirect,
      });
      add(NODEPORT_HOST, undefined, info.nodePort, info, proxyPort, { target: PortalTarget.Dnat });
      add(NODEPORT_NON_LOCAL, undefined, proxyPort, info, proxyPort, {
        target: PortalTarget.Accept,
      });
    }
  }
  return { chains };
}

/** The rules as iptables-save prints them (filter, then nat), with no header comments. */
export function portalSaveText(rules: PortalRules): string {
  const lines: string[] = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
  ];
  lines.push(`:${NODEPORT_NON_LOCAL} - [0:0]`);
  for (const j of JUMPS) if (j.table === 'filter') lines.push(j.line);
  for (const r of rules.chains.get(NODEPORT_NON_LOCAL)!) lines.push(r.line);
  lines.push('COMMIT', '*nat');
  for (const c of ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'])
    lines.push(`:${c} ACCEPT [0:0]`);
  for (const c of [NODEPORT_CONTAINER, NODEPORT_HOST, PORTALS_CONTAINER, PORTALS_HOST])
    lines.push(`:${c} - [0:0]`);
  for (const j of JUMPS) if (j.table === 'nat' && j.chain === 'PREROUTING') lines.push(j.line);
  for (const j of JUMPS) if (j.table === 'nat' && j.chain === 'OUTPUT') lines.push(j.line);
  for (const c of [NODEPORT_CONTAINER, NODEPORT_HOST, PORTALS_CONTAINER, PORTALS_HOST])
    for (const r of rules.chains.get(c)!) lines.push(r.line);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}
