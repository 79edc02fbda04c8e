// The ipset types kube-proxy's ipvs mode uses, modelled on the kernel's ip_set_hash_gen.h and
// ip_set_bitmap_port.c closely enough that `ipset list` prints what ipset 7.17 prints on a 6.x
// kernel: members in bucket order (jhash2 of the element struct with the set's initval), bucket
// arrays growing two slots at a time up to bucketsize 12 and the table doubling past that, and
// "Size in memory" accounted the way the kernel accounts it. Members are kube-proxy's entry
// strings: `10.96.0.1`, `10.96.0.1,tcp:443`, `10.244.1.2,tcp:80,10.244.1.2`,
// `1.2.3.4,tcp:80,10.0.0.0/8`, `30001`.
import { tryIpToU32, tryParseCidr, u32ToIp } from '../../packet/addr.ts';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './constants.ts';
import { bswap32, jhash2 } from './jhash.ts';
import { PairIndex } from './pair-index.ts';

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

/** A parsed member: its hash words (the element struct as host-order u32s) and its text. */
interface Elem {
  readonly text: string;
  readonly words: readonly number[];
  /**
   * Packet-path keys. 3-part types: `key` is ipPortKey(ip, proto, port), `ip2`/`prefix` the
   * third part. hash:ip and hash:ip,port: `prefix` is -1, `ip2` the ip and `key` proto << 16 | port
   * (0 for hash:ip), the pair PairIndex holds.
   */
  readonly key: number;
  readonly ip2: number;
  readonly prefix: number;
}

const PROTO_IDX: Readonly<Record<number, number>> = { 6: 0, 17: 1, 132: 2 };

/** (ip, proto, port) as one exact number below 2^50. */
export function ipPortKey(ip: number, proto: number, port: number): number {
  return ((ip >>> 0) * 65536 + port) * 4 + (PROTO_IDX[proto] ?? 3);
}

interface Bucket {
  slots: (Elem | null)[];
  pos: number;
}

function portWord(port: number, proto: number, extra = 0): number {
  // __be16 port; then u8 fields: bytes [port_hi, port_lo, b2, b3] read little-endian.
  return ((port >>> 8) | ((port & 0xff) << 8) | (extra << 16)) >>> 0;
}

function parseIpPort(s: string): { ip: number; proto: number; port: number } | undefined {
  const m = /^([0-9.]+),(tcp|udp|sctp):(\d+)$/.exec(s);
  const ip = m ? tryIpToU32(m[1]!) : undefined;
  if (!m || ip === undefined) return undefined;
  return { ip, proto: PROTO_NUM[m[2]!]!, port: Number(m[3]) };
}

/** Parse a member of a hash type into its element; undefined if malformed. */
export function parseMember(type: IpsetType, s: string): Elem | undefined {
  const parts = s.split(',');
  switch (type) {
    case 'hash:ip': {
      const ip = tryIpToU32(s);
      if (ip === undefined) return undefined;
      return { text: u32ToIp(ip), words: [bswap32(ip)], key: 0, ip2: ip, prefix: -1 };
    }
    case 'hash:ip,port': {
      const p = parseIpPort(s);
      if (!p) return undefined;
      const text = `${u32ToIp(p.ip)},${PROTO_NAME[p.proto]}:${p.port}`;
      const words = [bswap32(p.ip), portWord(p.port, p.proto, p.proto)];
      return { text, words, key: (p.proto << 16) | p.port, ip2: p.ip, prefix: -1 };
    }
    case 'hash:ip,port,ip': {
      const p = parseIpPort(parts.slice(0, 2).join(','));
      const ip2 = parts.length === 3 ? tryIpToU32(parts[2]!) : undefined;
      if (!p || ip2 === undefined) return undefined;
      const text = `${u32ToIp(p.ip)},${PROTO_NAME[p.proto]}:${p.port},${u32ToIp(ip2)}`;
      const words = [bswap32(p.ip), bswap32(ip2), portWord(p.port, p.proto, p.proto)];
      return { text, words, key: ipPortKey(p.ip, p.proto, p.port), ip2, prefix: 32 };
    }
    case 'hash:ip,port,net': {
      const p = parseIpPort(parts.slice(0, 2).join(','));
      const raw = parts[2] ?? '';
      const c = tryParseCidr(raw.includes('/') ? raw : `${raw}/32`, true);
      if (!p || c === undefined || parts.length !== 3) return undefined;
      const net = c.prefix === 32 ? u32ToIp(c.base) : `${u32ToIp(c.base)}/${c.prefix}`;
      // cidr is stored minus one in 7 bits (IP_SET_HASH_WITH_NETS_PACKED), proto after it.
      const w2 = portWord(p.port, p.proto, ((c.prefix - 1) & 0x7f) | (p.proto << 8));
      return {
        text: `${u32ToIp(p.ip)},${PROTO_NAME[p.proto]}:${p.port},${net}`,
        words: [bswap32(p.ip), bswap32(c.base), w2],
        key: ipPortKey(p.ip, p.proto, p.port),
        ip2: c.base,
        prefix: c.prefix,
      };
    }
    case 'bitmap:port':
      return undefined;
  }
}

export interface IpsetOptions {
  /** jhash initval; the kernel picks a random one, svclab a seeded one. */
  readonly initval?: number;
  readonly hashsize?: number;
  readonly maxelem?: number;
  readonly bucketsize?: number;
}

export class IpSet {
  readonly info: TypeInfo;
  readonly initval: number;
  readonly maxelem: number;
  readonly bucketsize: number;
  /** iptables rules that reference the set (`References:`). */
  references = 0;
  private bits: number;
  private buckets: (Bucket | undefined)[];
  private extSize = 0;
  private readonly members = new Map<string, Elem>();
  /** The 3-part types' packet-path index: key -> elements with that key. */
  private readonly index = new Map<number, Elem[]>();
  /** hash:ip and hash:ip,port's packet-path index, flat: (ip, proto << 16 | port). */
  private readonly flat = new PairIndex();
  private readonly ports = new Uint8Array(65536);
  private portCount = 0;

  constructor(
    readonly name: string,
    readonly type: IpsetType,
    opts: IpsetOptions = {},
  ) {
    this.info = TYPES[type];
    this.initval = (opts.initval ?? 0) >>> 0;
    this.maxelem = opts.maxelem ?? 65536;
    this.bucketsize = opts.bucketsize ?? 12;
    // htable_bits(hashsize): the smallest power of two holding it.
    this.bits = Math.max(1, Math.ceil(Math.log2(opts.hashsize ?? 1024)));
    this.buckets = new Array<Bucket | undefined>(1 << this.bits);
  }

  get size(): number {
    return this.type === 'bitmap:port' ? this.portCount : this.members.size;
  }

  /** A hash set at maxelem: `ipset add` of a new member fails with "Hash is full". */
  get full(): boolean {
    return this.type !== 'bitmap:port' && this.members.size >= this.maxelem;
  }

  /** `ipset add` (-exist semantics: adding a member twice is not an error). */
  add(entry: string): boolean {
    if (this.type === 'bitmap:port') return this.setPort(entry, 1);
    const e = parseMember(this.type, entry);
    if (e === undefined) throw new Error(`ipset ${this.name}: bad entry ${JSON.stringify(entry)}`);
    if (this.members.has(e.text)) return false;
    if (this.members.size >= this.maxelem) throw new Error(`ipset ${this.name}: Hash is full`);
    while (!this.place(e)) this.resize();
    this.members.set(e.text, e);
    if (e.prefix < 0) {
      this.flat.add(e.ip2, e.key);
      return true;
    }
    const l = this.index.get(e.key);
    if (l === undefined) this.index.set(e.key, [e]);
    else l.push(e);
    return true;
  }

  /** `ipset del`. */
  del(entry: string): boolean {
    if (this.type === 'bitmap:port') return this.setPort(entry, 0);
    const e = parseMember(this.type, entry);
    if (e === undefined || !this.members.delete(e.text)) return false;
    if (e.prefix < 0) this.flat.remove(e.ip2, e.key);
    else {
      const l = this.index.get(e.key)!;
      l.splice(
        l.findIndex((x) => x.text === e.text),
        1,
      );
      if (l.length === 0) this.index.delete(e.key);
    }
    const key = jhash2(e.words, this.initval) & ((1 << this.bits) - 1);
    const n = this.buckets[key]!;
    const i = n.slots.findIndex((x) => x?.text === e.text);
    n.slots[i] = null;
    if (i + 1 === n.pos) n.pos--;
    const free = n.slots.slice(0, n.pos).filter((x) => x === null).length;
    if (n.pos === 0 && free === 0) {
      this.extSize -= HBUCKET + n.slots.length * this.info.dsize;
      this.buckets[key] = undefined;
    } else if (free >= INIT_SIZE) {
      // Shrink: used slots compacted into an array two slots smaller.
      const used = n.slots.slice(0, n.pos).filter((x): x is Elem => x !== null);
      n.slots = [...used, ...new Array<null>(n.slots.length - INIT_SIZE - used.length).fill(null)];
      n.pos = used.length;
      this.extSize -= HBUCKET + INIT_SIZE * this.info.dsize;
    }
    return true;
  }

  has(entry: string): boolean {
    if (this.type === 'bitmap:port') return this.ports[Number(entry)] === 1;
    const e = parseMember(this.type, entry);
    return e !== undefined && this.members.has(e.text);
  }

  /** bitmap:port membership, for the packet path. */
  hasPort(port: number): boolean {
    return this.ports[port] === 1;
  }

  /** hash:ip `dst` match. */
  testIp(ip: number): boolean {
    return this.flat.size > 0 && this.flat.has(ip, 0);
  }

  /** hash:ip,port `dst,dst` (or `src,dst`) match. */
  testIpPort(ip: number, proto: number, port: number): boolean {
    return this.flat.size > 0 && this.flat.has(ip, ((proto & 0xffff) << 16) | (port & 0xffff));
  }

  /** hash:ip,port,ip / hash:ip,port,net `dst,dst,src` match: the third part holds `src`. */
  testIpPortSrc(ip: number, proto: number, port: number, src: number): boolean {
    const l = this.index.get(ipPortKey(ip, proto, port));
    if (l === undefined) return false;
    for (const e of l) {
      const mask = e.prefix === 0 ? 0 : (0xffffffff << (32 - e.prefix)) >>> 0;
      if ((src & mask) >>> 0 === e.ip2) return true;
    }
    return false;
  }

  /** Members in `ipset list` order. */
  entries(): string[] {
    if (this.type === 'bitmap:port') {
      const out: string[] = [];
      for (let p = 0; p < 65536; p++) if (this.ports[p] === 1) out.push(String(p));
      return out;
    }
    const out: string[] = [];
    for (const n of this.buckets)
      if (n) for (let i = 0; i < n.pos; i++) if (n.slots[i]) out.push(n.slots[i]!.text);
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

  private setPort(entry: string, v: 0 | 1): boolean {
    const p = Number(entry);
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new Error(`ipset ${this.name}: bad entry ${JSON.stringify(entry)}`);
    }
    if (this.ports[p] === v) return false;
    this.ports[p] = v;
    this.portCount += v === 1 ? 1 : -1;
    return true;
  }

  /** mtype_add() into the current table; false when the bucket is full (resize needed). */
  private place(e: Elem): boolean {
    const key = jhash2(e.words, this.initval) & ((1 << this.bits) - 1);
    let n = this.buckets[key];
    if (n === undefined) {
      n = { slots: new Array<Elem | null>(INIT_SIZE).fill(null), pos: 0 };
      this.buckets[key] = n;
      this.extSize += HBUCKET + INIT_SIZE * this.info.dsize;
    } else {
      const j = n.slots.indexOf(null);
      if (j >= 0 && j < n.pos) {
        n.slots[j] = e; // reuse the first deleted slot
        return true;
      }
      if (n.pos >= n.slots.length) {
        if (n.slots.length >= this.bucketsize) return false;
        n.slots.push(...new Array<null>(INIT_SIZE).fill(null));
        this.extSize += HBUCKET + INIT_SIZE * this.info.dsize;
      }
    }
    n.slots[n.pos++] = e;
    return true;
  }

  /** mtype_resize(): double the table and re-add every member in bucket order. */
  private resize(): void {
    const old = this.buckets;
    for (;;) {
      this.bits++;
      this.buckets = new Array<Bucket | undefined>(1 << this.bits);
      this.extSize = 0;
      let ok = true;
      for (const n of old) {
        if (!n) continue;
        for (let i = 0; i < n.pos && ok; i++) if (n.slots[i]) ok = this.place(n.slots[i]!);
        if (!ok) break;
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
