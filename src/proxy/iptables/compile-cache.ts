// Memo tables kept by the Proxier between syncs: chain names per service port (kube-proxy
// caches them per service port too; SHA-256 per chain is a large part of a full sync),
// and each service port's compiled rules (service-fragment.ts), reused while its
// ServiceMap entry is the same object. Two generations for the names: whatever one
// compile did not use is dropped by the next, so the caches never outgrow the rule set.
import type { ServicePortEntry } from '../service-map.ts';
import { portProtoHash, servicePortEndpointChainName } from './chain-names.ts';
import type { Rule } from './rules.ts';
import type { ServiceFragment } from './service-fragment.ts';

export class GenerationalCache<V> {
  private cur = new Map<string, V>();
  private prev = new Map<string, V>();

  get(key: string, make: (key: string) => V): V {
    let v = this.cur.get(key);
    if (v !== undefined) return v;
    v = this.prev.get(key) ?? make(key);
    this.cur.set(key, v);
    return v;
  }

  /** Start a compile: entries unused since the previous call are forgotten. */
  nextGeneration(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }

  get size(): number {
    return this.cur.size;
  }
}

/** The chain names of one service port, hashed once. */
export class PortNames {
  readonly clusterPolicy: string;
  readonly localPolicy: string;
  readonly external: string;
  readonly firewall: string;
  private readonly seps = new Map<string, string>();

  constructor(
    private readonly spn: string,
    private readonly proto: string,
  ) {
    const hash = portProtoHash(spn, proto);
    this.clusterPolicy = `KUBE-SVC-${hash}`;
    this.localPolicy = `KUBE-SVL-${hash}`;
    this.external = `KUBE-EXT-${hash}`;
    this.firewall = `KUBE-FW-${hash}`;
  }

  /** KUBE-SEP-... of an endpoint (`ip:port`). */
  endpoint(endpoint: string): string {
    let n = this.seps.get(endpoint);
    if (n === undefined) {
      n = servicePortEndpointChainName(this.spn, this.proto, endpoint);
      this.seps.set(endpoint, n);
    }
    return n;
  }

  /** Keep only the given endpoints' names (after the endpoint list changed). */
  retain(endpoints: ReadonlySet<string>): void {
    for (const k of this.seps.keys()) if (!endpoints.has(k)) this.seps.delete(k);
  }
}

export class CompileCache {
  /** The fixed rules (jumps, KUBE-POSTROUTING, ...), parsed once, by text. */
  readonly rules = new GenerationalCache<Rule>();
  private readonly names = new GenerationalCache<PortNames>();
  /** Compiled rules per entry; an entry replaced in the ServiceMap is collected with it. */
  readonly fragments = new WeakMap<ServicePortEntry, ServiceFragment>();

  nextGeneration(): void {
    this.rules.nextGeneration();
    this.names.nextGeneration();
  }

  /** The chain names of a service port (`proto` lower-case), memoised by entry key. */
  portNames(key: string, spn: string, proto: string): PortNames {
    return this.names.get(key, () => new PortNames(spn, proto));
  }
}
