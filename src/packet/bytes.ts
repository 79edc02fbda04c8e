// Big-endian reads and writes on plain bytes for the hot path. Measured against
// DataView (bench/packet.ts): a DataView's loads are cheaper once it exists, but
// constructing one costs more than a packet's whole classify + NAT, and packets
// often arrive in fresh buffers; byte arithmetic is allocation-free for every
// buffer and small enough for V8 to inline. Out-of-range reads give 0 (`undefined`
// in integer arithmetic) and out-of-range writes are dropped: never a throw.

export function rd16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** Unsigned. */
export function rd32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function wr16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8;
  b[i + 1] = v;
}

export function wr32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = v >>> 16;
  b[i + 2] = v >>> 8;
  b[i + 3] = v;
}
