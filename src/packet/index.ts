// Public API of the packet layer: field accessors over (bytes, offset), Reprs, checksums,
// in-place NAT, builders and the dataplane's classify() entry.
export * from './addr.ts';
export * from './checksum.ts';
export * from './ipv4.ts';
export * from './ipv4-repr.ts';
export * from './tcp.ts';
export * from './tcp-repr.ts';
export * from './tcp-options.ts';
export * from './udp.ts';
export * from './icmp.ts';
export * from './icmp-repr.ts';
export * from './icmp-error.ts';
export * from './nat.ts';
export * from './build.ts';
export * from './parse.ts';
export type * from './result.ts';
