// Memo tables kept by the Proxier between syncs: chain names per service port (kube-proxy
// caches them per service port too; SHA-256 per chain is a large part of a full sync),
// and each service port's compiled rules (service-fragment.ts), reused while its
// ServiceMap entry is the same object. Names of vanished ports are pruned once the memo
// has grown to twice the table; the parsed fixed rules keep two generations.
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

  /** Forget endpoints no longer listed, once the memo has grown well past the list. */
  prune(endpoints: readonly { readonly endpoint: string }[]): void {
    if (this.seps.size <= 2 * endpoints.length + 8) return;
    const keep = new Set(endpoints.map((e) => e.endpoint));
    for (const k of this.seps.keys()) if (!keep.has(k)) this.seps.delete(k);
  }
}

export class CompileCache {
  /** The fixed rules (jumps, KUBE-POSTROUTING, ...), parsed once, by text. */
  readonly rules = new GenerationalCache<Rule>();
  /** By entry key; pruned when it has grown well past the table (see prune). */
  private readonly names = new Map<string, PortNames>();
  /** Compiled rules per entry; an entry replaced in the ServiceMap is collected with it. */
  readonly fragments = new WeakMap<ServicePortEntry, ServiceFragment>();

  nextGeneration(): void {
    this.rules.nextGeneration();
  }

  /** The chain names of a service port (`proto` lower-case), memoised by entry key. */
  portNames(key: string, spn: string, proto: string): PortNames {
    let n = this.names.get(key);
    if (n === undefined) {
      n = new PortNames(spn, proto);
      this.names.set(key, n);
    }
    return n;
  }

  /** Drop the names of service ports gone from `entries` (amortised: only past 2x). */
  prune(entries: readonly ServicePortEntry[]): void {
    if (this.names.size <= 2 * entries.length + 64) return;
    const keep = new Set(entries.map((e) => e.key));
    for (const k of this.names.keys()) if (!keep.has(k)) this.names.delete(k);
  }
}
