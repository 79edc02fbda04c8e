// Memo tables kept by the Proxier between syncs: chain names per service port (kube-proxy
// caches them per service port too; SHA-256 per chain is a large part of a full sync),
// and each service port's compiled rules (service-fragment.ts), reused while its
// ServiceMap entry is the same object. Names of vanished ports are pruned once the memo
// has grown to twice the table; the parsed fixed rules keep two generations.
import type { ServicePortEntry } from '../service-map.ts';
import { endpointChainHash, sha256Base32 } from './sha256.ts';
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

/** The empty memo every PortNames starts with (never written). */
const NONE: (string | number)[] = [];

/** What a KUBE-SEP name is hashed from: the endpoint's address text and port. */
export interface EndpointKey {
  readonly ipString: string;
  readonly port: number;
}

/**
 * The chain names of one service port, hashed once: KUBE-SVC/SVL/EXT/FW share one hash
 * (each name made on first use), KUBE-SEP names are kept per endpoint in two lists
 * (a Map per service port costs more than its ten names at 100,000 services). Endpoints
 * are known by address text and port: their `ip:port` string is never made (it was a
 * million strings at 100,000 services, kept by the ServiceMap's entries).
 */
export class PortNames {
  /** KUBE-SVC-HASH: the hash is its tail (kept once, as part of this name). */
  readonly clusterPolicy: string;
  private svl: string | undefined;
  private ext: string | undefined;
  private fw: string | undefined;
  /** Address text and port of each named endpoint, two slots each (a sync names none). */
  private eps: (string | number)[] = NONE;
  private seps: string[] = NONE as string[];
  /** By `ip:port`, once there are many endpoints. */
  private index: Map<string, number> | undefined;

  constructor(
    /** servicePortName + protocol: the head of every hashed message. */
    private readonly head: string,
  ) {
    this.clusterPolicy = named('KUBE-SVC-', sha256Base32(head, 2));
  }

  private get hash(): string {
    return this.clusterPolicy.slice('KUBE-SVC-'.length);
  }
  get localPolicy(): string {
    return (this.svl ??= named('KUBE-SVL-', this.hash));
  }
  get external(): string {
    return (this.ext ??= named('KUBE-EXT-', this.hash));
  }
  get firewall(): string {
    return (this.fw ??= named('KUBE-FW-', this.hash));
  }

  /** KUBE-SEP-... of an endpoint: sha256(servicePortName + protocol + `ip:port`). */
  endpoint(ep: EndpointKey): string {
    const { ipString, port } = ep;
    const eps = this.eps;
    let i = -1;
    if (this.index !== undefined) i = this.index.get(`${ipString}:${port}`) ?? -1;
    else {
      for (let k = 0; k < eps.length; k += 2) {
        if (eps[k + 1] === port && eps[k] === ipString) {
          i = k >> 1;
          break;
        }
      }
    }
    if (i >= 0) return this.seps[i]!;
    const n = endpointChainHash(this.head, ipString, port);
    if (eps === NONE) {
      this.eps = [ipString, port];
      this.seps = [n];
    } else {
      eps.push(ipString, port);
      this.seps.push(n);
    }
    if (this.index !== undefined) this.index.set(`${ipString}:${port}`, this.seps.length - 1);
    else if (this.seps.length > 32) this.reindex();
    return n;
  }

  private reindex(): void {
    const eps = this.eps;
    const index = new Map<string, number>();
    for (let k = 0; k < eps.length; k += 2) index.set(`${eps[k]}:${eps[k + 1]}`, k >> 1);
    this.index = index;
  }

  /** Forget endpoints no longer listed, once the memo has grown well past the list. */
  prune(endpoints: readonly EndpointKey[]): void {
    if (this.seps.length <= 2 * endpoints.length + 8) return;
    const keep = new Set(endpoints.map((e) => `${e.ipString}:${e.port}`));
    const eps: (string | number)[] = [];
    const seps: string[] = [];
    this.seps.forEach((name, k) => {
      if (keep.has(`${this.eps[2 * k]}:${this.eps[2 * k + 1]}`)) {
        eps.push(this.eps[2 * k]!, this.eps[2 * k + 1]!);
        seps.push(name);
      }
    });
    this.eps = eps;
    this.seps = seps;
    this.index = undefined;
    if (seps.length > 32) this.reindex();
  }
}

/** `prefix + hash` as one flat string (see chain-names.ts). */
const named = (prefix: string, hash: string): string => [prefix, hash].join('');

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
      n = new PortNames(spn + proto);
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
