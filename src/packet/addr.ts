// IPv4 addresses as unsigned 32-bit numbers. Dotted strings exist only at the
// edges (config, CLI, logs); inside, an address is a u32 (always `>>> 0`).

/** Parse dotted-quad `a.b.c.d` strictly (no leading zeros, no spaces); undefined if malformed. */
export function tryIpToU32(s: string): number | undefined {
  if (typeof s !== 'string' || s.length < 7 || s.length > 15) return undefined;
  let acc = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0) return undefined;
      acc = acc * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return undefined;
    } else if (c >= 0x30 && c <= 0x39) {
      // A leading zero ("010") is ambiguous (inet_aton reads it as octal): reject.
      if (digits === 1 && octet === 0) return undefined;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return (acc * 256 + octet) >>> 0;
}

/** Parse dotted-quad; throws on malformed input (edge use only: config and CLI). */
export function ipToU32(s: string): number {
  const n = tryIpToU32(s);
  if (n === undefined) throw new Error(`invalid IPv4 address: ${JSON.stringify(s)}`);
  return n;
}

/** Format a u32 as dotted-quad. */
/** Recently formatted addresses, direct-mapped by a hash of the address (1,024 slots). */
const IP_TEXT_KEY = new Int32Array(1024);
const IP_TEXT: (string | undefined)[] = new Array<string | undefined>(1024).fill(undefined);

export function u32ToIp(n: number): string {
  const k = n | 0;
  const slot = (k ^ (k >>> 10) ^ (k >>> 20)) & 1023;
  const hit = IP_TEXT[slot];
  if (hit !== undefined && IP_TEXT_KEY[slot] === k) return hit;
  const s = `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
  IP_TEXT_KEY[slot] = k;
  IP_TEXT[slot] = s;
  return s;
}

export interface Cidr {
  /** Network address (host bits cleared), u32. */
  readonly base: number;
  /** Prefix length 0..32. */
  readonly prefix: number;
}

/** Netmask for a prefix length as u32 (prefix 0 -> 0, 32 -> 0xffffffff). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parse `a.b.c.d/n`; undefined if malformed. Host bits must be zero unless `loose`. */
export function tryParseCidr(s: string, loose = false): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = tryIpToU32(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (ip === undefined || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(p)) return undefined;
  const prefix = Number(p);
  const base = (ip & prefixMask(prefix)) >>> 0;
  if (!loose && base !== ip) return undefined;
  return { base, prefix };
}

/** Parse `a.b.c.d/n` (e.g. '10.244.0.0/16' -> {base, prefix: 16}); throws if malformed. */
export function parseCidr(s: string, loose = false): Cidr {
  const c = tryParseCidr(s, loose);
  if (c === undefined) throw new Error(`invalid IPv4 CIDR: ${JSON.stringify(s)}`);
  return c;
}

/** True if u32 address `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: number): boolean {
  return (ip & prefixMask(cidr.prefix)) >>> 0 === cidr.base;
}

/** Format a CIDR as `a.b.c.d/n`. */
export function formatCidr(cidr: Cidr): string {
  return `${u32ToIp(cidr.base)}/${cidr.prefix}`;
}

/** Number of addresses in the CIDR (2^(32-prefix)). */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}
