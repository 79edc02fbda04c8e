// The connection table: fixed-capacity columns in typed arrays, hashed by 5-tuple.
// Every entry owns two hash nodes, node = entry*2 + dir, holding its ORIGINAL and its REPLY
// tuple (the kernel's ct->tuplehash[IP_CT_DIR_ORIGINAL / IP_CT_DIR_REPLY]), so one lookup finds a
// packet of either direction. A lookup returns that node number ("ref"): entry = ref >> 1,
// direction = ref & 1. Expired entries are reaped when a walk meets them (as
// ____nf_conntrack_find does) and by gc(), a bounded bucket walk like the kernel's gc worker.
// A node's key and chain links are interleaved in one Int32Array record (NODE_STRIDE words),
// so walking a chain costs one cache line per node instead of one per column; the record
// also holds a few words for the table's user (the dataplane's flow cache), so the packet
// that found its node finds them in the same cache line.

import { CtStatus, IPPROTO_ICMP, InsertError } from './constants.ts';
import { hashTuple, packPorts } from './hash.ts';
import { CtStats } from './stats.ts';

export interface TableOptions {
  /** nf_conntrack_max, the fixed capacity (default 262144). */
  readonly max?: number;
  /**
   * nf_conntrack_buckets (default = max, the kernel's own ratio since it defaults max_factor
   * to 1; kube-proxy's conntrack setup writes hashsize = max/4 — pass that to mimic a node).
   */
  readonly buckets?: number;
  /** Hash seed (the kernel's is random per boot; fixed here for reproducible runs). */
  readonly seed?: number;
}

/** Early-drop scan bounds: NF_CT_EVICTION_RANGE buckets, and a cap on nodes looked at. */
export const EARLY_DROP_BUCKETS = 8;
export const EARLY_DROP_NODES = 64;

/** Node record layout in `nodes` (words; addresses and ports stored as int32 bit patterns). */
const SRC = 0;
const DST = 1;
const PORTS = 2;
const PROTO = 3;
const NEXT = 4;
const PREV = 5;
const BUCKET = 6;
/** The user's stamp: zeroed whenever the node is (re)created; the user words count only while it holds. */
export const NODE_STAMP = 7;
/** The user's words, NODE_USER .. NODE_USER + 3, not cleared (the stamp says whether they hold). */
export const NODE_USER = 8;
/** Words 12..15: the direction's packet and byte counters, as doubles (index in `counts`). */
const PACKETS_F64 = 6;
const BYTES_F64 = 7;
const NODE_SHIFT = 4; // NODE_STRIDE = 16 words = 64 bytes
/** The same record in doubles (8 per node): index shift for `counts`. */
const NODE_SHIFT_F64 = NODE_SHIFT - 1;

export class ConntrackTable {
  readonly max: number;
  readonly buckets: number;
  readonly seed: number;
  /** buckets - 1 when buckets is a power of two (a mask instead of a division), else -1. */
  private readonly bucketMask: number;
  readonly stats = new CtStats();
  /** Live entries, expired-but-unreaped included (nf_conntrack_count). */
  count = 0;

  // Per entry (index e). Written by the protocol trackers; read-only for everyone else.
  readonly proto: Uint8Array;
  readonly status: Uint32Array;
  readonly mark: Uint32Array;
  /** Expiry time, ms on the caller's clock; an entry is dead once expires <= now. */
  readonly expires: Float64Array;
  /** Insert time, ms (UDP's stream_ts is created + 2 s). */
  readonly created: Float64Array;
  /** Protocol state (TCP: TcpState). */
  readonly l4state: Uint8Array;
  private readonly used: Uint8Array;
  private readonly freeNext: Int32Array;
  private freeHead: number;

  // Per hash node (ref = e*2 + dir): the tuple of that direction, chain links, counters.
  /**
   * The node records. Only NODE_STAMP and the NODE_USER words at nodeOffset(ref) are the
   * user's (the dataplane's flow cache): the stamp is zeroed whenever the node is (re)created,
   * so nothing remembered for an old flow survives slot reuse. The rest is the table's.
   */
  readonly nodes: Int32Array;
  /** The same records as doubles: a node's counters, in the record its lookup reads. */
  private readonly counts: Float64Array;
  private readonly heads: Int32Array;
  private gcCursor = 0;

  constructor(opts: TableOptions = {}) {
    const max = opts.max ?? 262144;
    const buckets = opts.buckets ?? max;
    if (!Number.isInteger(max) || max < 1 || max > 1 << 26) {
      throw new RangeError(`conntrack max must be an integer in 1..2^26, got ${max}`);
    }
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1 << 26) {
      throw new RangeError(`conntrack buckets must be an integer in 1..2^26, got ${buckets}`);
    }
    this.max = max;
    this.buckets = buckets;
    this.seed = (opts.seed ?? 0x5eed) | 0;
    this.bucketMask = (buckets & (buckets - 1)) === 0 ? buckets - 1 : -1;
    this.proto = new Uint8Array(max);
    this.status = new Uint32Array(max);
    this.mark = new Uint32Array(max);
    this.expires = new Float64Array(max);
    this.created = new Float64Array(max);
    this.l4state = new Uint8Array(max);
    this.used = new Uint8Array(max);
    this.freeNext = new Int32Array(max);
    for (let i = 0; i < max; i++) this.freeNext[i] = i + 1 < max ? i + 1 : -1;
    this.freeHead = 0;
    const nodes = max * 2;
    this.nodes = new Int32Array(nodes << NODE_SHIFT);
    this.counts = new Float64Array(this.nodes.buffer);
    this.heads = new Int32Array(buckets).fill(-1);
  }

  /** Bucket of a tuple (ports already packed). */
  bucketOf(proto: number, src: number, dst: number, ports: number): number {
    const h = hashTuple(this.seed, proto, src, dst, ports);
    // The hash is non-negative, so h & (2^k - 1) === h % 2^k: the same bucket, no division.
    const m = this.bucketMask;
    return m >= 0 ? h & m : h % this.buckets;
  }

  /**
   * Find the node holding this tuple (key words as int32); -1 if none. An expired match is
   * reaped and misses; other expired nodes on the way are left to gc, forEach and early drop.
   */
  private findNode(proto: number, src: number, dst: number, ports: number, now: number): number {
    return this.findIn(this.bucketOf(proto, src, dst, ports), proto, src, dst, ports, now);
  }

  private findIn(b: number, proto: number, src: number, dst: number, ports: number, now: number) {
    const nd = this.nodes;
    let n = this.heads[b]!;
    while (n !== -1) {
      const o = n << NODE_SHIFT;
      if (
        nd[o + PORTS] === ports &&
        nd[o + SRC] === src &&
        nd[o + DST] === dst &&
        nd[o + PROTO] === proto
      ) {
        const e = n >> 1;
        if (this.expires[e]! > now) return n;
        this.remove(e); // a tuple is in the table at most once
        return -1;
      }
      n = nd[o + NEXT]!;
    }
    return -1;
  }

  /** Look a packet's tuple up: ref = entry*2 + dir, or -1. Counts `found`. */
  lookup(proto: number, src: number, dst: number, sport: number, dport: number, now: number) {
    const n = this.findNode(proto, src | 0, dst | 0, packPorts(sport, dport) | 0, now);
    if (n >= 0) this.stats.found++;
    return n;
  }

  /** Like lookup, without counting: is this tuple taken (e.g. picking a SNAT port)? */
  has(proto: number, src: number, dst: number, sport: number, dport: number, now: number) {
    return this.findNode(proto, src | 0, dst | 0, packPorts(sport, dport) | 0, now) >= 0;
  }

  /**
   * Ensure a free slot for a new flow with this original tuple. When full, early-drop
   * non-ASSURED entries near the tuple's bucket (early_drop in nf_conntrack_core.c); if none,
   * count `drop` and return false: the caller drops the packet with TABLE_FULL_REASON.
   */
  makeRoom(proto: number, src: number, dst: number, sport: number, dport: number, now: number) {
    if (this.count < this.max) return true;
    const start = this.bucketOf(proto, src | 0, dst | 0, packPorts(sport, dport) | 0);
    if (this.earlyDrop(start, now)) return true;
    this.stats.drop++;
    return false;
  }

  /** Evict non-assured entries from the first of up to 8 buckets that has any. */
  private earlyDrop(start: number, now: number): boolean {
    let seen = 0;
    for (let i = 0; i < EARLY_DROP_BUCKETS && seen < EARLY_DROP_NODES; i++) {
      let drops = 0;
      let n = this.heads[(start + i) % this.buckets]!;
      while (n !== -1 && seen++ < EARLY_DROP_NODES) {
        const e = n >> 1;
        if (this.expires[e]! <= now) {
          n = this.removeAndNext(e, n); // expired: plain reaping, not an early drop
        } else if ((this.status[e]! & CtStatus.ASSURED) === 0) {
          n = this.removeAndNext(e, n);
          drops++;
        } else {
          n = this.nodes[(n << NODE_SHIFT) + NEXT]!;
        }
      }
      if (drops > 0) {
        this.stats.earlyDrop += drops;
        return true;
      }
    }
    return this.count < this.max;
  }

  /**
   * Insert a flow: its original tuple and its reply tuple as seen after NAT (for DNAT the reply
   * source is the backend; for SNAT the reply destination is the masquerade address). Status
   * gets DST_NAT / SRC_NAT when the reply tuple is not the plain inverse of the original.
   * Returns the entry index, or InsertError.TABLE_FULL / InsertError.CLASH (counted).
   * The entry is unconfirmed until its first packet goes through a protocol tracker.
   */
  insert(
    proto: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    rsrc: number,
    rdst: number,
    rsport: number,
    rdport: number,
    now: number,
    mark = 0,
  ): number {
    src |= 0;
    dst |= 0;
    rsrc |= 0;
    rdst |= 0;
    const op = packPorts(sport, dport) | 0;
    const rp = packPorts(rsport, rdport) | 0;
    const ob = this.bucketOf(proto, src, dst, op);
    const rb = this.bucketOf(proto, rsrc, rdst, rp);
    if (
      this.findIn(ob, proto, src, dst, op, now) >= 0 ||
      this.findIn(rb, proto, rsrc, rdst, rp, now) >= 0
    ) {
      this.stats.insertFailed++;
      return InsertError.CLASH;
    }
    if (this.count >= this.max && !this.earlyDrop(ob, now)) {
      this.stats.drop++;
      return InsertError.TABLE_FULL;
    }
    const e = this.freeHead;
    this.freeHead = this.freeNext[e]!;
    this.used[e] = 1;
    this.proto[e] = proto;
    let status = 0;
    if (proto === IPPROTO_ICMP) {
      // ICMP keys are id<<16 | type<<8 | code: only the addresses and the id can be NATed.
      if (rsrc !== dst) status |= CtStatus.DST_NAT;
      if (rdst !== src || rsport !== sport) status |= CtStatus.SRC_NAT;
    } else {
      if (rsrc !== dst || (rsport & 0xffff) !== (dport & 0xffff)) status |= CtStatus.DST_NAT;
      if (rdst !== src || (rdport & 0xffff) !== (sport & 0xffff)) status |= CtStatus.SRC_NAT;
    }
    this.status[e] = status;
    this.mark[e] = mark >>> 0;
    this.expires[e] = Infinity; // set by the first packet's tracker
    this.created[e] = now;
    this.l4state[e] = 0;
    const o = e * 2;
    this.setNode(o, ob, proto, src, dst, op);
    this.setNode(o + 1, rb, proto, rsrc, rdst, rp);
    this.count++;
    this.stats.insert++;
    return e;
  }

  private setNode(n: number, b: number, proto: number, src: number, dst: number, ports: number) {
    const nd = this.nodes;
    const o = n << NODE_SHIFT;
    nd[o + SRC] = src;
    nd[o + DST] = dst;
    nd[o + PORTS] = ports;
    nd[o + PROTO] = proto;
    this.counts[(n << NODE_SHIFT_F64) + PACKETS_F64] = 0;
    this.counts[(n << NODE_SHIFT_F64) + BYTES_F64] = 0;
    nd[o + NODE_STAMP] = 0;
    // New nodes go to the chain head (hlist_nulls_add_head_rcu).
    const h = this.heads[b]!;
    nd[o + BUCKET] = b;
    nd[o + PREV] = -1;
    nd[o + NEXT] = h;
    if (h !== -1) nd[(h << NODE_SHIFT) + PREV] = n;
    this.heads[b] = n;
  }

  private unlink(n: number): void {
    const nd = this.nodes;
    const o = n << NODE_SHIFT;
    const p = nd[o + PREV]!;
    const nx = nd[o + NEXT]!;
    if (p === -1) this.heads[nd[o + BUCKET]!] = nx;
    else nd[(p << NODE_SHIFT) + NEXT] = nx;
    if (nx !== -1) nd[(nx << NODE_SHIFT) + PREV] = p;
    // NEXT of n is kept so a walk standing on n can still move on.
  }

  /** The chain successor of node n (-1 at the end). */
  private nextOf(n: number): number {
    return this.nodes[(n << NODE_SHIFT) + NEXT]!;
  }

  /** True if entry e is in the table (expired or not). */
  isLive(e: number): boolean {
    return e >= 0 && e < this.max && this.used[e] === 1;
  }

  /**
   * Remove entry e (both nodes). Its tuples stay readable until the slot is reused by the next
   * insert, so a caller may still NAT the packet that killed it. Returns false if e was free.
   */
  remove(e: number): boolean {
    if (!this.isLive(e)) return false;
    this.unlink(e * 2);
    this.unlink(e * 2 + 1);
    this.used[e] = 0;
    this.freeNext[e] = this.freeHead;
    this.freeHead = e;
    this.count--;
    this.stats.delete++;
    return true;
  }

  /** Remove e while walking a chain at node n; return the node to continue from. */
  private removeAndNext(e: number, n: number): number {
    let nx = this.nextOf(n);
    this.remove(e);
    while (nx !== -1 && nx >> 1 === e) nx = this.nextOf(nx); // skip e's other node
    return nx;
  }

  /** Set the timeout and account a packet of `bytes` to the direction of `ref`. */
  refresh(ref: number, now: number, timeoutMs: number, bytes: number): void {
    this.expires[ref >> 1] = now + timeoutMs;
    const c = this.counts;
    const k = ref << NODE_SHIFT_F64;
    c[k + PACKETS_F64]!++;
    c[k + BYTES_F64]! += bytes;
  }

  /** Packets counted on node n (its direction of the flow). */
  packetsOf(n: number): number {
    return this.counts[(n << NODE_SHIFT_F64) + PACKETS_F64]!;
  }

  /** Bytes counted on node n. */
  bytesOf(n: number): number {
    return this.counts[(n << NODE_SHIFT_F64) + BYTES_F64]!;
  }

  /** Reap expired entries in the next `budget` buckets (round robin); returns entries reaped. */
  gc(now: number, budget = 64): number {
    let reaped = 0;
    for (let i = 0; i < budget && i < this.buckets; i++) {
      const b = this.gcCursor;
      this.gcCursor = b + 1 === this.buckets ? 0 : b + 1;
      let n = this.heads[b]!;
      while (n !== -1) {
        const e = n >> 1;
        if (this.expires[e]! <= now) {
          n = this.removeAndNext(e, n);
          reaped++;
        } else {
          n = this.nextOf(n);
        }
      }
    }
    return reaped;
  }

  /**
   * Visit every live, unexpired entry once, in dump order (bucket by bucket, through the
   * ORIGINAL node, as ctnetlink_dump_table does), reaping expired ones met. `visit` may remove
   * the entry it is given.
   */
  forEach(now: number, visit: (e: number) => void): void {
    for (let b = 0; b < this.buckets; b++) {
      let n = this.heads[b]!;
      while (n !== -1) {
        const e = n >> 1;
        if (this.expires[e]! <= now) {
          n = this.removeAndNext(e, n);
          continue;
        }
        let nx = this.nextOf(n);
        if ((n & 1) === 0) {
          visit(e);
          if (!this.used[e]) while (nx !== -1 && nx >> 1 === e) nx = this.nextOf(nx);
        }
        n = nx;
      }
    }
  }

  /** Remove every entry (conntrack -F); returns how many were removed. */
  flush(): number {
    let removed = 0;
    for (let e = 0; e < this.max; e++) if (this.remove(e)) removed++;
    return removed;
  }

  /** Length of every bucket chain (nodes), for tests and hash-quality checks. */
  chainLengths(): Uint32Array {
    const out = new Uint32Array(this.buckets);
    for (let b = 0; b < this.buckets; b++) {
      for (let n = this.heads[b]!; n !== -1; n = this.nextOf(n)) out[b]!++;
    }
    return out;
  }

  /** Where node n's record starts in `nodes` (for NODE_STAMP and NODE_USER). */
  nodeOffset(n: number): number {
    return n << NODE_SHIFT;
  }

  // The tuple stored at node n (ref = entry*2 + dir).
  /** Source address of node n's tuple (u32). */
  tupleSrc(n: number): number {
    return this.nodes[(n << NODE_SHIFT) + SRC]! >>> 0;
  }
  /** Destination address of node n's tuple (u32). */
  tupleDst(n: number): number {
    return this.nodes[(n << NODE_SHIFT) + DST]! >>> 0;
  }
  /** sport << 16 | dport of node n's tuple (ICMP: id << 16 | type << 8 | code), u32. */
  tuplePorts(n: number): number {
    return this.nodes[(n << NODE_SHIFT) + PORTS]! >>> 0;
  }

  // What a packet of direction `ref` must carry after NAT: the inverse of the other tuple.
  /** Source address after NAT. */
  natSrc(ref: number): number {
    return this.tupleDst(ref ^ 1);
  }
  /** Destination address after NAT. */
  natDst(ref: number): number {
    return this.tupleSrc(ref ^ 1);
  }
  /** Source port after NAT (TCP/UDP). */
  natSport(ref: number): number {
    return this.tuplePorts(ref ^ 1) & 0xffff;
  }
  /** Destination port after NAT (TCP/UDP). */
  natDport(ref: number): number {
    return this.tuplePorts(ref ^ 1) >>> 16;
  }
  /** ICMP echo id after NAT. */
  natIcmpId(ref: number): number {
    return this.tuplePorts(ref ^ 1) >>> 16;
  }
}
