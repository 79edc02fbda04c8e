// What a proxy mode that relays connections itself (userspace mode, kube-proxy v1.0-v1.25)
// asks of the host it runs on: a socket per service port, and for each accepted
// connection the next backend. The mode decides (ports, round robin, affinity); the
// driver (src/sim/userspace-relay.ts) owns the sockets and copies the bytes.

/** One port kube-proxy listens on for one service port. */
export interface RelayPort {
  /** kube-proxy's ServicePortName.String(): `ns/name:port`. */
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** The local port the portal rules REDIRECT / DNAT to. */
  readonly proxyPort: number;
}

/** A backend `ip:port`, as LoadBalancerRR.NextEndpoint returns it. */
export interface RelayBackend {
  readonly ip: number;
  readonly port: number;
  /** `ip:port`. */
  readonly endpoint: string;
}

export interface ProxyRelay {
  /** The ports open now, one per service port. */
  ports(): readonly RelayPort[];
  /** Called after a sync that opened or closed ports (the driver reconciles its sockets). */
  onPortsChanged: (() => void) | undefined;
  /**
   * LoadBalancerRR.NextEndpoint: the next backend of the service port on `proxyPort`,
   * round robin, or the client's sticky one under ClientIP affinity unless
   * `affinityReset` (a dial to it failed). undefined: no endpoints (the connection is closed).
   */
  nextEndpoint(
    proxyPort: number,
    clientIp: number,
    affinityReset: boolean,
  ): RelayBackend | undefined;
  /**
   * The node's interface addresses by name, for REDIRECT (the primary address of the
   * incoming interface). Set by the driver; without it REDIRECT uses the node IP.
   */
  interfaceAddress: ((ifName: string) => number | undefined) | undefined;
  /** --udp-timeout: how long an idle UDP "connection" to a backend is kept (ms). */
  readonly udpIdleTimeoutMs: number;
  /** Dial timeouts of successive attempts (proxysocket.go's endpointDialTimeout), ms. */
  readonly dialTimeoutsMs: readonly number[];
}
