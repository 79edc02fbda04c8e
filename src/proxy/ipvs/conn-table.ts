// Storage of the IPVS connection table (struct ip_vs_conn, ip_vs_conn.c) in typed arrays:
// one slot per connection or persistence template, chained in buckets hashed on
// (protocol, client address, client port) -- the one key both directions know, which is
// why the kernel hashes there too. Lifetimes, counters and state live in ipvs.ts.
import { DEFAULT_ARENA } from './arena.ts';
import type { IpvsArena } from './arena.ts';
import { ConnFlag } from './constants.ts';

const F_TEMPLATE = ConnFlag.TEMPLATE; // a module constant: read per packet
import { destAt } from './dest.ts';
import type { IpvsDest } from './dest.ts';
import type { VirtualService } from './service.ts';

function connHash(proto: number, caddr: number, cport: number): number {
  let h = Math.imul(caddr ^ 0x27d4eb2f, 0x85ebca6b) ^ Math.imul((cport << 8) | proto, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** An array-like view whose element `id` is `get(id)`. */
function slotView<T>(get: (id: number) => T): readonly T[] {
  return new Proxy([] as T[], {
    get(target, key, receiver) {
      if (typeof key === 'string' && key.length > 0 && key.length < 11 && /^\d+$/.test(key))
        return get(Number(key));
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

export class ConnTable {
  private cap: number;
  count = 0;
  proto: Uint8Array;
  state: Uint8Array;
  /** IP_VS_CONN_F_* (TEMPLATE, INACTIVE, forwarding method). */
  flags: Uint16Array;
  caddr: Uint32Array;
  cport: Uint16Array;
  vaddr: Uint32Array;
  vport: Uint16Array;
  daddr: Uint32Array;
  dport: Uint16Array;
  /** Expiry on the caller's clock (ms); the entry is dead once expires <= now. */
  expires: Float64Array;
  /** The current state's timeout (ms), re-armed on every packet (ip_vs_conn_put). */
  timeoutMs: Float64Array;
  /** Controlling template slot, or -1 (cp->control). */
  control: Int32Array;
  /** Connections this template controls (cp->n_control). */
  nControl: Int32Array;
  /** Bucket chain; doubles as the free list. A slot is live while its svcSlot is >= 0. */
  private next: Int32Array;
  /** Each live slot's bucket, so free() unlinks without hashing again. */
  private bucket: Int32Array;
  /** The last tuple findIn() hashed and its bucket: alloc() after a miss reuses it. */
  private lastProto = -1;
  private lastCaddr = 0;
  private lastCport = 0;
  private lastBucket = 0;
  /** Each connection's service and server as arena slots (arena.ts), -1 for none. */
  svcSlot: Int32Array;
  destSlot: Int32Array;
  /**
   * The same as objects, read through the slot columns (views and tests read `dest[id]`;
   * the packet path writes only slots, so a new connection touches no object).
   */
  readonly svc: readonly (VirtualService | null)[];
  readonly dest: readonly (IpvsDest | null)[];
  private heads: Int32Array;
  private mask: number;
  private freeHead = -1;
  private top = 0;

  /** @param arena where the servers' records are (their Active/InAct counters move here). */
  constructor(
    initial = 1024,
    readonly arena: IpvsArena = DEFAULT_ARENA,
  ) {
    this.cap = initial;
    this.proto = new Uint8Array(initial);
    this.state = new Uint8Array(initial);
    this.flags = new Uint16Array(initial);
    this.caddr = new Uint32Array(initial);
    this.cport = new Uint16Array(initial);
    this.vaddr = new Uint32Array(initial);
    this.vport = new Uint16Array(initial);
    this.daddr = new Uint32Array(initial);
    this.dport = new Uint16Array(initial);
    this.expires = new Float64Array(initial);
    this.timeoutMs = new Float64Array(initial);
    this.control = new Int32Array(initial);
    this.nControl = new Int32Array(initial);
    this.next = new Int32Array(initial);
    this.bucket = new Int32Array(initial);
    this.svc = slotView((id) => this.svcOf(id));
    this.dest = slotView((id) => this.destOf(id));
    this.svcSlot = new Int32Array(initial).fill(-1);
    this.destSlot = new Int32Array(initial).fill(-1);
    this.heads = new Int32Array(initial).fill(-1);
    this.mask = initial - 1;
  }

  /** The service of connection `id` (null: none, or a free slot). */
  svcOf(id: number): VirtualService | null {
    const s = this.svcSlot[id] ?? -1;
    return s < 0 ? null : ((this.arena.objs[s] as VirtualService | null | undefined) ?? null);
  }

  /** The server of connection `id`. */
  destOf(id: number): IpvsDest | null {
    const s = this.destSlot[id] ?? -1;
    return s < 0 || this.arena.released(s) ? null : (destAt(this.arena, s) as IpvsDest);
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.top && this.svcSlot[id]! >= 0;
  }

  /**
   * A fresh slot, hashed under (proto, caddr, cport), for service record `svc`; the caller
   * writes the rest (flags among them).
   */
  alloc(proto: number, caddr: number, cport: number, svc: number): number {
    let id = this.freeHead;
    if (id >= 0) this.freeHead = this.next[id]!;
    else {
      if (this.top === this.cap) this.grow();
      id = this.top++;
    }
    this.svcSlot[id] = svc;
    this.proto[id] = proto;
    this.caddr[id] = caddr;
    this.cport[id] = cport;
    this.control[id] = -1;
    this.nControl[id] = 0;
    this.state[id] = 0;
    const b =
      proto === this.lastProto && caddr === this.lastCaddr && cport === this.lastCport
        ? this.lastBucket
        : connHash(proto, caddr, cport) & this.mask;
    this.bucket[id] = b;
    this.next[id] = this.heads[b]!;
    this.heads[b] = id;
    this.count++;
    return id;
  }

  /** Unhash and free a slot. */
  free(id: number): void {
    const b = this.bucket[id]!;
    let prev = -1;
    for (let i = this.heads[b]!; i >= 0; prev = i, i = this.next[i]!) {
      if (i !== id) continue;
      if (prev < 0) this.heads[b] = this.next[i]!;
      else this.next[prev] = this.next[i]!;
      break;
    }
    this.svcSlot[id] = -1;
    this.destSlot[id] = -1;
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
  }

  /** Is slot `id` a live connection (not a template) with this client-side tuple? */
  isConnIn(
    id: number,
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
  ): boolean {
    return (
      id >= 0 &&
      id < this.top &&
      this.svcSlot[id]! >= 0 &&
      this.caddr[id] === caddr &&
      this.cport[id] === cport &&
      this.vaddr[id] === vaddr &&
      this.vport[id] === vport &&
      this.proto[id] === proto &&
      (this.flags[id]! & F_TEMPLATE) === 0
    );
  }

  /** Client-side lookup (ip_vs_conn_in_get / ip_vs_ct_in_get for templates). */
  findIn(
    proto: number,
    caddr: number,
    cport: number,
    vaddr: number,
    vport: number,
    template: boolean,
  ): number {
    const b = connHash(proto, caddr, cport) & this.mask;
    this.lastProto = proto;
    this.lastCaddr = caddr;
    this.lastCport = cport;
    this.lastBucket = b;
    for (let i = this.heads[b]!; i >= 0; i = this.next[i]!) {
      if (
        this.caddr[i] === caddr &&
        this.cport[i] === cport &&
        this.vaddr[i] === vaddr &&
        this.vport[i] === vport &&
        this.proto[i] === proto &&
        ((this.flags[i]! & ConnFlag.TEMPLATE) !== 0) === template
      ) {
        return i;
      }
    }
    return -1;
  }

  /** Reply-side lookup: real server daddr:dport answering client caddr:cport (ip_vs_conn_out_get). */
  findOut(proto: number, daddr: number, dport: number, caddr: number, cport: number): number {
    for (
      let i = this.heads[connHash(proto, caddr, cport) & this.mask]!;
      i >= 0;
      i = this.next[i]!
    ) {
      if (
        this.caddr[i] === caddr &&
        this.cport[i] === cport &&
        this.daddr[i] === daddr &&
        this.dport[i] === dport &&
        this.proto[i] === proto &&
        (this.flags[i]! & ConnFlag.TEMPLATE) === 0
      ) {
        return i;
      }
    }
    return -1;
  }

  /** Live slot ids in slot order (views). */
  ids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.top; i++) if (this.svcSlot[i]! >= 0) out.push(i);
    return out;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    const u16 = (a: Uint16Array) => {
      const b = new Uint16Array(cap);
      b.set(a);
      return b;
    };
    const u32 = (a: Uint32Array) => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.proto = u8(this.proto);
    this.state = u8(this.state);
    this.flags = u16(this.flags);
    this.cport = u16(this.cport);
    this.vport = u16(this.vport);
    this.dport = u16(this.dport);
    this.caddr = u32(this.caddr);
    this.vaddr = u32(this.vaddr);
    this.daddr = u32(this.daddr);
    this.expires = f64(this.expires);
    this.timeoutMs = f64(this.timeoutMs);
    this.control = i32(this.control);
    this.nControl = i32(this.nControl);
    this.next = i32(this.next);
    this.bucket = i32(this.bucket);
    this.lastProto = -1;
    const old = this.cap;
    this.svcSlot = i32(this.svcSlot);
    this.svcSlot.fill(-1, old);
    this.destSlot = i32(this.destSlot);
    this.destSlot.fill(-1, old);
    this.cap = cap;
    // Rehash into as many buckets as slots.
    this.heads = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < this.top; i++) {
      if (this.svcSlot[i]! < 0) continue;
      const b = connHash(this.proto[i]!, this.caddr[i]!, this.cport[i]!) & this.mask;
      this.bucket[i] = b;
      this.next[i] = this.heads[b]!;
      this.heads[b] = i;
    }
    // The free list was threaded through `next`; live slots were just relinked, so rebuild it.
    this.freeHead = -1;
    for (let i = this.top - 1; i >= 0; i--) {
      if (this.svcSlot[i]! >= 0) continue;
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
  }
}
