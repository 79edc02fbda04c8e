// kube-proxy's userspace LoadBalancerRR (pkg/proxy/userspace/roundrobin.go, v1.25): per
// service port, the endpoints shuffled once when they change and then handed out round
// robin; with ClientIP affinity, a client keeps its endpoint until the affinity's
// ttlSeconds pass since it last used it, or until a dial to it fails (affinityReset).

/** One balanced service port (balancerState). */
interface BalancerState {
  endpoints: string[];
  index: number;
  affinity: boolean;
  ttlSeconds: number;
  /** client IP → its endpoint and when it was last used (seconds). */
  readonly clients: Map<number, { endpoint: string; lastUsed: number }>;
}

/** v1.DefaultClientIPServiceAffinitySeconds, used when ttlSeconds is 0. */
const DEFAULT_TTL = 10800;

export class LoadBalancerRR {
  private readonly services = new Map<string, BalancerState>();

  /**
   * @param random uniform [0, 1) for the shuffle (util.ShuffleStrings uses math/rand)
   * @param nowSeconds the node's clock
   */
  constructor(
    private readonly random: () => number,
    private readonly nowSeconds: () => number,
  ) {}

  private state(key: string): BalancerState {
    let s = this.services.get(key);
    if (s === undefined) {
      s = { endpoints: [], index: 0, affinity: false, ttlSeconds: DEFAULT_TTL, clients: new Map() };
      this.services.set(key, s);
    }
    return s;
  }

  /** NewService: affinity ClientIP or None, and its timeout (0: the default 3 hours). */
  newService(key: string, clientIP: boolean, ttlSeconds: number): void {
    const s = this.state(key);
    s.affinity = clientIP;
    s.ttlSeconds = ttlSeconds === 0 ? DEFAULT_TTL : ttlSeconds;
  }

  deleteService(key: string): void {
    this.services.delete(key);
  }

  /**
   * OnEndpointsUpdate for one service port: when the set differs (order aside), drop the
   * affinity of clients whose endpoint left, shuffle the new list and restart at index 0.
   */
  setEndpoints(key: string, endpoints: readonly string[]): void {
    const s = this.state(key);
    const same =
      s.endpoints.length === endpoints.length &&
      [...s.endpoints].sort().join(',') === [...endpoints].sort().join(',');
    if (same) return;
    const keep = new Set(endpoints);
    for (const [ip, a] of s.clients) if (!keep.has(a.endpoint)) s.clients.delete(ip);
    s.endpoints = this.shuffle([...endpoints]);
    s.index = 0;
    if (endpoints.length === 0) s.clients.clear();
  }

  /** The endpoints in round-robin order (for views and tests). */
  endpoints(key: string): readonly string[] {
    return this.services.get(key)?.endpoints ?? [];
  }

  /** NextEndpoint: undefined when the service port has no endpoints. */
  nextEndpoint(key: string, clientIp: number, affinityReset: boolean): string | undefined {
    const s = this.services.get(key);
    if (s === undefined || s.endpoints.length === 0) return undefined;
    const now = this.nowSeconds();
    if (s.affinity && !affinityReset) {
      const a = s.clients.get(clientIp);
      if (a !== undefined && Math.floor(now - a.lastUsed) < s.ttlSeconds) {
        a.lastUsed = now;
        return a.endpoint;
      }
    }
    const endpoint = s.endpoints[s.index]!;
    s.index = (s.index + 1) % s.endpoints.length;
    if (s.affinity) s.clients.set(clientIp, { endpoint, lastUsed: now });
    return endpoint;
  }

  /** CleanupStaleStickySessions: forget clients idle for ttlSeconds or more. */
  cleanupStaleStickySessions(): void {
    const now = this.nowSeconds();
    for (const s of this.services.values()) {
      for (const [ip, a] of s.clients)
        if (Math.floor(now - a.lastUsed) >= s.ttlSeconds) s.clients.delete(ip);
    }
  }

  /** util.ShuffleStrings: Fisher-Yates from the end, as Go's rand.Perm-based shuffle. */
  private shuffle(a: string[]): string[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}
