// The ipset types kube-proxy's ipvs mode uses, modelled on the kernel's ip_set_hash_gen.h and
// ip_set_bitmap_port.c closely enough that `ipset list` prints what ipset 7.17 prints on a 6.x
// kernel: members in bucket order (jhash2 of the element struct with the set's initval), bucket
// arrays growing two slots at a time up to bucketsize 12 and the table doubling past that, and
// "Size in memory" accounted the way the kernel accounts it. Members are kept as words (Member:
// what the element struct holds), in typed arrays; their text -- kube-proxy's entry strings
// `10.96.0.1`, `10.96.0.1,tcp:443`, `10.244.1.2,tcp:80,10.244.1.2`, `1.2.3.4,tcp:80,10.0.0.0/8`,
// `30001` -- is parsed by add()/del()/has() and made again only when the set is listed.
import { tryIpToU32, tryParseCidr, u32ToIp } from '../../packet/addr.ts';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './constants.ts';
import { bswap32, jhashWords } from './jhash.ts';
import { KeyTable } from './key-table.ts';

export type IpsetType =
  'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

interface TypeInfo {
  /** The revision the 6.x kernel module reports (what `ipset list` prints). */
  readonly revision: number;
  /** sizeof(struct htype) + sizeof(struct htable) + one region, as measured for each type. */
  readonly base: number;
  /** set->dsize: the element struct size. */
  readonly dsize: number;
}

const TYPES: Readonly<Record<IpsetType, TypeInfo>> = {
  'hash:ip': { revision: 6, base: 216, dsize: 4 },
  'hash:ip,port': { revision: 7, base: 216, dsize: 8 },
  'hash:ip,port,ip': { revision: 6, base: 208, dsize: 12 },
  'hash:ip,port,net': { revision: 8, base: 464, dsize: 12 },
  'bitmap:port': { revision: 3, base: 8264, dsize: 0 },
};

/** sizeof(struct hbucket) and AHASH_INIT_SIZE. */
const HBUCKET = 32;
const INIT_SIZE = 2;
/** sizeof(struct ip_set_region); HTABLE_REGION_BITS. */
const REGION = 24;
const REGION_BITS = 10;

const PROTO_NUM: Readonly<Record<string, number>> = {
  tcp: IPPROTO_TCP,
  udp: IPPROTO_UDP,
  sctp: IPPROTO_SCTP,
};
const PROTO_NAME: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/**
 * A member as three words, the one encoding every caller uses (no parsed strings kept):
 * hash:ip `(ip, 0, 0)`; hash:ip,port `(ip, proto << 16 | port, 0)`; hash:ip,port,ip
 * `(ip, proto << 16 | port, ip2)`; hash:ip,port,net `(ip, prefix << 24 | proto << 16 | port,
 * net base)`; bitmap:port `(port, 0, 0)`. Addresses may be passed signed or unsigned.
 */
export interface Member {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

/** The second word of a member: `proto << 16 | port`, with a net's prefix above it. */
export function portProto(proto: number, port: number, prefix = 0): number {
  return (prefix << 24) | ((proto & 0xff) << 16) | (port & 0xffff);
}

function portWord(port: number, extra: number): number {
  // __be16 port; then u8 fields: bytes [port_hi, port_lo, b2, b3] read little-endian.
  return ((port >>> 8) | ((port & 0xff) << 8) | (extra << 16)) >>> 0;
}

function parseIpPort(s: string): { ip: number; proto: number; port: number } | undefined {
  const m = /^([0-9.]+),(tcp|udp|sctp):(\d+)$/.exec(s);
  const ip = m ? tryIpToU32(m[1]!) : undefined;
  if (!m || ip === undefined) return undefined;
  return { ip, proto: PROTO_NUM[m[2]!]!, port: Number(m[3]) };
}

/** Parse a member as `ipset add` takes it (kube-proxy's entry strings); undefined if malformed. */
export function parseMember(type: IpsetType, s: string): Member | undefined {
  const parts = s.split(',');
  switch (type) {
    case 'hash:ip': {
      const ip = tryIpToU32(s);
      return ip === undefined ? undefined : { a: ip, b: 0, c: 0 };
    }
    case 'hash:ip,port': {
      const p = parseIpPort(s);
      return p && { a: p.ip, b: portProto(p.proto, p.port), c: 0 };
    }
    case 'hash:ip,port,ip': {
      const p = parseIpPort(parts.slice(0, 2).join(','));
      const ip2 = parts.length === 3 ? tryIpToU32(parts[2]!) : undefined;
      if (!p || ip2 === undefined) return undefined;
      return { a: p.ip, b: portProto(p.proto, p.port), c: ip2 };
    }
    case 'hash:ip,port,net': {
      const p = parseIpPort(parts.slice(0, 2).join(','));
      const raw = parts[2] ?? '';
      const c = tryParseCidr(raw.includes('/') ? raw : `${raw}/32`, true);
      if (!p || c === undefined || parts.length !== 3) return undefined;
      return { a: p.ip, b: portProto(p.proto, p.port, c.prefix), c: c.base };
    }
    case 'bitmap:port': {
      const port = Number(s);
      return Number.isInteger(port) && port >= 0 && port <= 65535
        ? { a: port, b: 0, c: 0 }
        : undefined;
    }
  }
}

/** A member's text as `ipset list` prints it. */
export function memberText(type: IpsetType, a: number, b: number, c: number): string {
  if (type === 'bitmap:port') return String(a);
  if (type === 'hash:ip') return u32ToIp(a >>> 0);
  const ipPort = `${u32ToIp(a >>> 0)},${PROTO_NAME[(b >>> 16) & 0xff]}:${b & 0xffff}`;
  if (type === 'hash:ip,port') return ipPort;
  if (type === 'hash:ip,port,ip') return `${ipPort},${u32ToIp(c >>> 0)}`;
  const prefix = b >>> 24;
  return `${ipPort},${u32ToIp(c >>> 0)}${prefix === 32 ? '' : `/${prefix}`}`;
}

/** jhash2 of the member's element struct (host-order u32 words) with the set's initval. */
function elementHash(type: IpsetType, a: number, b: number, c: number, initval: number): number {
  const ip = bswap32(a >>> 0);
  const port = b & 0xffff;
  const proto = (b >>> 16) & 0xff;
  switch (type) {
    case 'hash:ip':
      return jhashWords(1, ip, 0, 0, initval);
    case 'hash:ip,port':
      return jhashWords(2, ip, portWord(port, proto), 0, initval);
    case 'hash:ip,port,ip':
      return jhashWords(3, ip, bswap32(c >>> 0), portWord(port, proto), initval);
    default:
      // cidr is stored minus one in 7 bits (IP_SET_HASH_WITH_NETS_PACKED), proto after it.
      return jhashWords(
        3,
        ip,
        bswap32(c >>> 0),
        portWord(port, (((b >>> 24) - 1) & 0x7f) | (proto << 8)),
        initval,
      );
  }
}

export interface IpsetOptions {
  /** jhash initval; the kernel picks a random one, svclab a seeded one. */
  readonly initval?: number;
  readonly hashsize?: number;
  readonly maxelem?: number;
  readonly bucketsize?: number;
  /**
   * A word shared by a group of sets (kube-ipsets.ts) in which this set keeps `occupancyBit`
   * set while it has members: the packet path reads one word, not each set's object.
   */
  readonly occupancy?: Int32Array;
  readonly occupancyBit?: number;
}

const NO_SLOTS = new Int32Array(0);

export class IpSet {
  readonly info: TypeInfo;
  readonly initval: number;
  readonly maxelem: number;
  readonly bucketsize: number;
  /** iptables rules that reference the set (`References:`). */
  references = 0;
  private bits: number;
  /**
   * The kernel's buckets as arrays: bucket k's slots are `slots[k * stride ...]`, member ids
   * or -1 (a deleted or unused slot); `len[k]` is its allocated size (0: no bucket), `pos[k]`
   * its next free position. Made at the first add.
   */
  private slots = NO_SLOTS;
  private len = new Uint8Array(0);
  private pos = new Uint8Array(0);
  private readonly stride: number;
  private extSize = 0;
  /** Members -> id + 1: the dedupe and the packet path's membership test. */
  private readonly members = new KeyTable();
  /** Member words by id; freed ids are reused. */
  private ma = new Int32Array(16);
  private mb = new Int32Array(16);
  private mc = new Int32Array(16);
  private top = 0;
  private readonly freeIds: number[] = [];
  /** hash:ip,port,net: members per prefix length (the kernel's nets[] walk). */
  private readonly prefixes = new Int32Array(33);
  private readonly ports = new Uint8Array(65536);
  /**
   * Members (ports for bitmap:port), a plain field: the packet-path tests (testIp*, hasPort)
   * read it first, so an empty set costs one load, not a lookup.
   */
  count = 0;
  private readonly occupancy: Int32Array;
  private readonly occupancyBit: number;

  constructor(
    readonly name: string,
    readonly type: IpsetType,
    opts: IpsetOptions = {},
  ) {
    this.info = TYPES[type];
    this.initval = (opts.initval ?? 0) >>> 0;
    this.maxelem = opts.maxelem ?? 65536;
    this.bucketsize = opts.bucketsize ?? 12;
    this.occupancy = opts.occupancy ?? new Int32Array(1);
    this.occupancyBit = opts.occupancyBit ?? 1;
    // Buckets grow two slots at a time, so one may reach the even size at or above bucketsize.
    this.stride = Math.max(INIT_SIZE, this.bucketsize + (this.bucketsize & 1));
    // htable_bits(hashsize): the smallest power of two holding it.
    this.bits = Math.max(1, Math.ceil(Math.log2(opts.hashsize ?? 1024)));
  }

  get size(): number {
    return this.count;
  }

  /** A hash set at maxelem: `ipset add` of a new member fails with "Hash is full". */
  get full(): boolean {
    return this.type !== 'bitmap:port' && this.members.size >= this.maxelem;
  }

  /** `ipset add` (-exist semantics: adding a member twice is not an error). */
  add(entry: string): boolean {
    const e = parseMember(this.type, entry);
    if (e === undefined) throw new Error(`ipset ${this.name}: bad entry ${JSON.stringify(entry)}`);
    return this.addMember(e.a, e.b, e.c);
  }

  /** `ipset del`. */
  del(entry: string): boolean {
    const e = parseMember(this.type, entry);
    if (e === undefined) {
      if (this.type === 'bitmap:port')
        throw new Error(`ipset ${this.name}: bad entry ${JSON.stringify(entry)}`);
      return false;
    }
    return this.delMember(e.a, e.b, e.c);
  }

  has(entry: string): boolean {
    const e = parseMember(this.type, entry);
    return e !== undefined && this.hasMember(e.a, e.b, e.c);
  }

  /** add() of a member given as words (see Member). */
  addMember(a: number, b: number, c: number): boolean {
    if (this.type === 'bitmap:port') return this.setPort(a, 1);
    if (this.members.get(a, b, c) !== 0) return false;
    if (this.members.size >= this.maxelem) throw new Error(`ipset ${this.name}: Hash is full`);
    if (this.slots.length === 0) this.table(this.bits);
    const id = this.newId(a, b, c);
    while (!this.place(id)) this.resize();
    this.members.set(a, b, c, id + 1);
    this.counted(1);
    if (this.type === 'hash:ip,port,net') this.prefixes[b >>> 24]!++;
    return true;
  }

  /** del() of a member given as words. */
  delMember(a: number, b: number, c: number): boolean {
    if (this.type === 'bitmap:port') return this.setPort(a, 0);
    const v = this.members.get(a, b, c);
    if (v === 0) return false;
    this.members.delete(a, b, c);
    this.counted(-1);
    const id = v - 1;
    if (this.type === 'hash:ip,port,net') this.prefixes[b >>> 24]!--;
    const key = this.bucketOf(id);
    const base = key * this.stride;
    const s = this.slots;
    const len = this.len[key]!;
    let i = 0;
    while (s[base + i] !== id) i++;
    s[base + i] = -1;
    let pos = this.pos[key]!;
    if (i + 1 === pos) this.pos[key] = --pos;
    let free = 0;
    for (let j = 0; j < pos; j++) if (s[base + j] === -1) free++;
    if (pos === 0) {
      this.extSize -= HBUCKET + len * this.info.dsize;
      this.len[key] = 0;
    } else if (free >= INIT_SIZE) {
      // Shrink: used slots compacted into an array two slots smaller.
      let used = 0;
      for (let j = 0; j < pos; j++) if (s[base + j] !== -1) s[base + used++] = s[base + j]!;
      s.fill(-1, base + used, base + len);
      this.len[key] = len - INIT_SIZE;
      this.pos[key] = used;
      this.extSize -= HBUCKET + INIT_SIZE * this.info.dsize;
    }
    this.freeIds.push(id);
    return true;
  }

  hasMember(a: number, b: number, c: number): boolean {
    if (this.type === 'bitmap:port') return this.ports[a] === 1;
    return this.members.get(a, b, c) !== 0;
  }

  /** bitmap:port membership, for the packet path. */
  hasPort(port: number): boolean {
    return this.count !== 0 && this.ports[port] === 1;
  }

  /** hash:ip `dst` match. */
  testIp(ip: number): boolean {
    return this.count !== 0 && this.members.get(ip, 0, 0) !== 0;
  }

  /** hash:ip,port `dst,dst` (or `src,dst`) match. */
  testIpPort(ip: number, proto: number, port: number): boolean {
    return this.count !== 0 && this.members.get(ip, portProto(proto, port), 0) !== 0;
  }

  /** hash:ip,port,ip / hash:ip,port,net `dst,dst,src` match: the third part holds `src`. */
  testIpPortSrc(ip: number, proto: number, port: number, src: number): boolean {
    if (this.count === 0) return false;
    const pp = portProto(proto, port);
    if (this.type !== 'hash:ip,port,net') return this.members.get(ip, pp, src) !== 0;
    // As the kernel's hash:net types: one lookup per prefix length the set holds.
    for (let p = 32; p >= 0; p--) {
      if (this.prefixes[p] === 0) continue;
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      if (this.members.get(ip, pp | (p << 24), (src & mask) >>> 0) !== 0) return true;
    }
    return false;
  }

  /** Members in `ipset list` order. */
  entries(): string[] {
    const out: string[] = [];
    if (this.type === 'bitmap:port') {
      for (let p = 0; p < 65536; p++) if (this.ports[p] === 1) out.push(String(p));
      return out;
    }
    const n = this.len.length;
    for (let k = 0; k < n; k++) {
      const base = k * this.stride;
      for (let i = 0; i < this.pos[k]!; i++) {
        const id = this.slots[base + i]!;
        if (id >= 0) out.push(memberText(this.type, this.ma[id]!, this.mb[id]!, this.mc[id]!));
      }
    }
    return out;
  }

  get hashsize(): number {
    return 1 << this.bits;
  }

  /** "Size in memory" (mtype_head: memsize + bucket ext_size). */
  get memsize(): number {
    if (this.type === 'bitmap:port') return this.info.base;
    const regions = this.bits > REGION_BITS ? 1 << (this.bits - REGION_BITS) : 1;
    return this.info.base + (regions - 1) * REGION + this.extSize;
  }

  header(): string {
    if (this.type === 'bitmap:port') return 'range 0-65535';
    const iv = this.initval.toString(16).padStart(8, '0');
    return `family inet hashsize ${this.hashsize} maxelem ${this.maxelem} bucketsize ${this.bucketsize} initval 0x${iv}`;
  }

  private setPort(p: number, v: 0 | 1): boolean {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new Error(`ipset ${this.name}: bad entry ${JSON.stringify(String(p))}`);
    }
    if (this.ports[p] === v) return false;
    this.ports[p] = v;
    this.counted(v === 1 ? 1 : -1);
    return true;
  }

  /** Count members in or out, keeping the occupancy bit. */
  private counted(delta: number): void {
    this.count += delta;
    const o = this.occupancy;
    o[0] = this.count === 0 ? o[0]! & ~this.occupancyBit : o[0]! | this.occupancyBit;
  }

  private newId(a: number, b: number, c: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.top++;
      if (id === this.ma.length) {
        const grow = (x: Int32Array) => {
          const y = new Int32Array(x.length * 2);
          y.set(x);
          return y;
        };
        this.ma = grow(this.ma);
        this.mb = grow(this.mb);
        this.mc = grow(this.mc);
      }
    }
    this.ma[id] = a;
    this.mb[id] = b;
    this.mc[id] = c;
    return id;
  }

  private bucketOf(id: number): number {
    const h = elementHash(this.type, this.ma[id]!, this.mb[id]!, this.mc[id]!, this.initval);
    return h & ((1 << this.bits) - 1);
  }

  /** Empty buckets for 2^bits. */
  private table(bits: number): void {
    this.bits = bits;
    this.slots = new Int32Array((1 << bits) * this.stride).fill(-1);
    this.len = new Uint8Array(1 << bits);
    this.pos = new Uint8Array(1 << bits);
    this.extSize = 0;
  }

  /** mtype_add() into the current table; false when the bucket is full (resize needed). */
  private place(id: number): boolean {
    const key = this.bucketOf(id);
    const base = key * this.stride;
    const s = this.slots;
    const len = this.len[key]!;
    const pos = this.pos[key]!;
    if (len === 0) {
      this.len[key] = INIT_SIZE;
      this.extSize += HBUCKET + INIT_SIZE * this.info.dsize;
    } else {
      // Reuse the first deleted slot.
      for (let j = 0; j < pos; j++) {
        if (s[base + j] === -1) {
          s[base + j] = id;
          return true;
        }
      }
      if (pos >= len) {
        if (len >= this.bucketsize) return false;
        this.len[key] = len + INIT_SIZE;
        this.extSize += HBUCKET + INIT_SIZE * this.info.dsize;
      }
    }
    s[base + pos] = id;
    this.pos[key] = pos + 1;
    return true;
  }

  /** mtype_resize(): double the table and re-add every member in bucket order. */
  private resize(): void {
    const oldSlots = this.slots;
    const oldPos = this.pos;
    const stride = this.stride;
    for (let bits = this.bits + 1; ; bits++) {
      this.table(bits);
      let ok = true;
      for (let k = 0; k < oldPos.length && ok; k++) {
        for (let i = 0; i < oldPos[k]! && ok; i++) {
          const id = oldSlots[k * stride + i]!;
          if (id >= 0) ok = this.place(id);
        }
      }
      if (ok) return;
    }
  }
}

/** `ipset list [NAME...]` in ipset 7.x's plain format. */
export function ipsetList(sets: readonly IpSet[]): string {
  return sets
    .map(
      (s) =>
        [
          `Name: ${s.name}`,
          `Type: ${s.type}`,
          `Revision: ${s.info.revision}`,
          `Header: ${s.header()}`,
          `Size in memory: ${s.memsize}`,
          `References: ${s.references}`,
          `Number of entries: ${s.size}`,
          'Members:',
          ...s.entries(),
        ].join('\n') + '\n',
    )
    .join('\n');
}

/** `ipset save`: create and add lines. */
export function ipsetSave(sets: readonly IpSet[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    lines.push(`create ${s.name} ${s.type} ${s.header()}`);
    for (const e of s.entries()) lines.push(`add ${s.name} ${e}`);
  }
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}
