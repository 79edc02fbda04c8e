// Where IPVS keeps what a new connection's first packet reads: one fixed-size record per
// virtual service, per real server and per destination-list head, in one ArrayBuffer seen
// as Int32Array and Float64Array. The objects (VirtualService, IpvsDest, DestNode) are
// handles onto their record, so every existing reader (schedulers, ipvsadm, graceful
// termination) works unchanged, while the packet path (ipvs.ts) reads the records by slot
// and touches no object: a service's head and servers are allocated one after another, so
// scheduling reads a few neighbouring cache lines instead of an object graph spread over
// the heap. A real server gets its handle only when something asks for one (a view, a
// scheduler other than rr, a delete; dest.ts destAt()): a full sync makes a record per server
// and no object, so nothing of it is left for the young-generation collector to copy.
// Slots are never reused: a released record (its server deleted for good) is kept, unread,
// 96 bytes per deleted server.

/** Int32 words per record (96 bytes; a service's words and a server's share places). */
export const REC = 24;
/** Float64 words per record. */
export const REC64 = 12;

// Int32 words of a record. Destination-list links are slots; a list ends at its head's slot.
export const R_NEXT = 0;
export const R_PREV = 1;
/** Server DestFlag bits, or the service's IP_VS_SVC_F_* flags. */
export const R_FLAGS = 2;
export const R_ADDR = 3;
export const R_PORT = 4;
// Server words 5-12.
export const R_WEIGHT = 5;
export const R_CONN_FLAGS = 6;
export const R_U_THRESHOLD = 7;
export const R_L_THRESHOLD = 8;
export const R_ACTIVE = 9;
export const R_INACT = 10;
export const R_PERSIST = 11;
export const R_LAST_WEIGHT = 12;
// Service words 5-11, in the places a server keeps its own.
/** Service: firewall mark. */
export const R_FWMARK = 5;
/** Service: SCHED_RR when its scheduler is rr (the packet path's own rr walk), else 0. */
export const R_SCHED = 6;
/** Service: rr's cursor (svc->sched_data), a slot on its list (the head's at first). */
export const R_CURSOR = 7;
/** Service: its list head's slot. */
export const R_HEAD = 8;
export const R_PROTO = 9;
/** Service: persistence timeout (s). */
export const R_TIMEOUT = 10;
/** Service: persistence netmask. */
export const R_NETMASK = 11;
/**
 * Service: its rr cursor's successor on the list, or -1 when unknown. The packet path's rr
 * walk starts there without reading the cursor's own record (one cache line fewer per first
 * packet); any list change or cursor move from outside the walk resets it (service.ts).
 */
export const R_RR_NEXT = 12;

// Float64 words of a record, after Int32 words 0-13: the IpvsStats counters (Int32 words 14-23).
export const F_CONNS = 7;
export const F_INPKTS = 8;
export const F_OUTPKTS = 9;
export const F_INBYTES = 10;
export const F_OUTBYTES = 11;

export const SCHED_RR = 1;

export class IpvsArena {
  i32: Int32Array;
  f64: Float64Array;
  /** Slot -> its handle: undefined while none was made yet, null once released. */
  readonly objs: unknown[] = [];
  private cap: number;
  private top = 0;

  constructor(initial = 256) {
    this.cap = initial;
    const buf = new ArrayBuffer(initial * REC * 4);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
  }

  /** Records in use (released ones included). */
  get size(): number {
    return this.top;
  }

  /** A fresh zeroed record for `obj` (undefined: a record whose handle is made later). */
  alloc(obj: unknown): number {
    if (this.top === this.cap) this.grow();
    const slot = this.top++;
    this.objs.push(obj);
    return slot;
  }

  /** Whether slot's record was released (a handle-less live record is not). */
  released(slot: number): boolean {
    return this.objs[slot] === null;
  }

  /** Make room for `records` more allocations with at most one copy. */
  reserve(records: number): void {
    if (this.top + records > this.cap) this.grow(this.top + records);
  }

  /** Drop the handle (its record stays, unread). */
  release(slot: number): void {
    this.objs[slot] = null;
  }

  /** Half again as many records (doubling would leave up to half of a large arena unused). */
  private grow(atLeast = 0): void {
    this.cap = Math.max(Math.ceil(this.cap * 1.5), atLeast);
    const buf = new ArrayBuffer(this.cap * REC * 4);
    const i32 = new Int32Array(buf);
    i32.set(this.i32);
    this.i32 = i32;
    this.f64 = new Float64Array(buf);
  }
}

/** The arena of services made outside an Ipvs (tests, tools). */
export const DEFAULT_ARENA = new IpvsArena();
