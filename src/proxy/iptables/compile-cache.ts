// Memo tables kept by the Proxier between syncs, so a sync after a small change
// reuses chain-name hashes (kube-proxy caches them per service port too) and parsed
// rules whose text did not change. Two generations: whatever one compile did not
// use is dropped by the next, so the caches never outgrow the rule set.
import { portProtoHash, servicePortEndpointChainName } from './chain-names.ts';
import type { Rule } from './rules.ts';

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

export class CompileCache {
  readonly rules = new GenerationalCache<Rule>();
  private readonly names = new GenerationalCache<string>();

  nextGeneration(): void {
    this.rules.nextGeneration();
    this.names.nextGeneration();
  }

  /** portProtoHash(servicePortName, protocol), memoised. */
  portHash(spn: string, proto: string): string {
    return this.names.get(`${spn} ${proto}`, () => portProtoHash(spn, proto));
  }

  /** KUBE-SEP-... for an endpoint, memoised. */
  endpointChain(spn: string, proto: string, endpoint: string): string {
    return this.names.get(`${spn} ${proto} ${endpoint}`, () =>
      servicePortEndpointChainName(spn, proto, endpoint),
    );
  }
}
