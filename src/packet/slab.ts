// Small byte buffers carved from shared slabs: a view of its own zero-filled bytes in a
// 16 KiB ArrayBuffer, never handed out twice. A Uint8Array of its own costs an ArrayBuffer,
// a backing store and an extension the garbage collector sweeps (and allocating one may
// wait for that sweep); a view of a slab costs one small object. A slab is freed once no
// view of it is referenced, so whatever keeps a buffer for long should copy it out (or
// keep nothing: a consumer that has read a buffer to its end should drop the view).
// Nothing on the packet path reads a buffer's `.buffer` beyond its own view (DESIGN.md:
// views are built with byteOffset and byteLength). Packet buffers are the exception to
// "never handed out twice": the reader that owns a packet last may give it back
// (recyclePacket) and packetBytes hands it out again, so a packet costs no allocation.

const SLAB_BYTES = 16 * 1024;
/** Larger buffers get an ArrayBuffer of their own. */
const SLAB_MAX = 1024;

/** A zero-length array to share (nothing can be written to it). */
export const EMPTY_BYTES = new Uint8Array(0);

let slab = new ArrayBuffer(SLAB_BYTES);
let slabAt = 0;

/** `n` zero bytes of their own. */
export function slabBytes(n: number): Uint8Array {
  if (n === 0) return EMPTY_BYTES;
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabAt + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabAt = 0;
  }
  const b = new Uint8Array(slab, slabAt, n);
  slabAt += (n + 7) & ~7; // 8-byte aligned starts
  return b;
}

/** A copy of b[start, end) in slab bytes (what b.slice(start, end) holds). */
export function slabCopy(b: Uint8Array, start = 0, end = b.length): Uint8Array {
  const out = slabBytes(end - start);
  if (out.length > 0) out.set(start === 0 && end === b.length ? b : b.subarray(start, end));
  return out;
}

// Packet buffers handed back by their last reader, by length (see packetBytes).
const recycled: (Uint8Array[] | undefined)[] = new Array<Uint8Array[] | undefined>(
  SLAB_MAX + 1,
).fill(undefined);
/** Buffers kept per length: more than a run has in flight at once. */
const RECYCLED_MAX = 4096;

/**
 * `n` bytes for a packet about to be written in full: a buffer recyclePacket() gave back
 * (its old bytes still in it), else fresh slab bytes.
 */
export function packetBytes(n: number): Uint8Array {
  const free = recycled[n];
  if (free !== undefined && free.length > 0) return free.pop()!;
  return slabBytes(n);
}

/**
 * Give back a packet nobody will read again (any buffer of up to SLAB_MAX bytes): the
 * caller must own it, and no view of it may be kept anywhere. Simulated hosts in a
 * network call this for each packet they have received (sim/host.ts, recyclePackets).
 */
export function recyclePacket(b: Uint8Array): void {
  const n = b.length;
  if (n === 0 || n > SLAB_MAX) return;
  const free = (recycled[n] ??= []);
  if (free.length < RECYCLED_MAX) free.push(b);
}
