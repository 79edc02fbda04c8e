// The proxy modes by name (kube-proxy's --proxy-mode): how the control plane gets a
// node's proxier from a mode name and a configuration without knowing any mode's
// classes, as kube-proxy's createProxier does. Adding a mode is one entry in MODES.
import type { KubeProxyConfiguration } from './config.ts';
import type { DataplaneProxier } from './hooks.ts';
import { IptablesProxier } from './iptables/proxier.ts';
import { IpvsDataplaneProxier } from './ipvs/dataplane.ts';
import { IpvsProxier } from './ipvs/proxier.ts';
import { NftablesProxier } from './nftables/proxier.ts';
import { UserspaceProxier } from './userspace/proxier.ts';

/** What a proxier draws on besides its configuration: the node's random source and clock. */
export interface ProxierRuntime {
  /** Uniform [0, 1): `-m statistic`, `numgen random`. */
  readonly random: () => number;
  /** The node's clock in nanoseconds: xt_recent and affinity timeouts, IPVS timers. */
  readonly nowNs: () => number;
}

type ModeFactory = (config: KubeProxyConfiguration, runtime: ProxierRuntime) => DataplaneProxier;

const NS_PER_SECOND = 1e9;
const NS_PER_MS = 1e6;

const MODES = {
  iptables: ({ iptables, ipvs: _ipvs, nftables: _nft, ...common }, rt) =>
    new IptablesProxier({
      ...common,
      ...iptables,
      random: rt.random,
      now: () => rt.nowNs() / NS_PER_SECOND,
    }),
  ipvs: ({ iptables, ipvs, nftables: _nft, ...common }, rt) => {
    const nowMs = () => rt.nowNs() / NS_PER_MS;
    const randomFully = iptables?.randomFully;
    const proxier = new IpvsProxier({
      ...common,
      ...ipvs,
      ...(randomFully !== undefined ? { randomFully } : {}),
      now: nowMs,
    });
    return new IpvsDataplaneProxier(proxier, nowMs);
  },
  nftables: ({ iptables: _ipt, ipvs: _ipvs, nftables, ...common }, rt) =>
    new NftablesProxier({
      ...common,
      ...nftables,
      random: rt.random,
      now: () => rt.nowNs() / NS_PER_SECOND,
    }),
  userspace: ({ iptables: _ipt, ipvs: _ipvs, nftables: _nft, ...common }, rt) =>
    new UserspaceProxier({
      ...common,
      random: rt.random,
      now: () => rt.nowNs() / NS_PER_SECOND,
    }),
} satisfies Record<string, ModeFactory>;

export type ProxyMode = keyof typeof MODES;

/** Every mode, in the order svclab lists them. */
export const PROXY_MODES: readonly ProxyMode[] = Object.keys(MODES) as ProxyMode[];

export function isProxyMode(name: string): name is ProxyMode {
  return Object.hasOwn(MODES, name);
}

/** A proxier of `mode` for one node (throws on an option the mode rejects, e.g. a scheduler). */
export function newProxier(
  mode: ProxyMode,
  config: KubeProxyConfiguration,
  runtime: ProxierRuntime,
): DataplaneProxier {
  return MODES[mode](config, runtime);
}
