// One-entry DataView cache for the hot path. V8 inlines DataView getUint16/32 into
// single loads, which beats assembling fields byte by byte (bench/packet.ts), but
// building a DataView per packet would allocate; the dataplane reads packets from a
// few long-lived buffers, so remembering the last one makes the lookup one compare.

// A const holder (not module `let`s): stable shape, no TDZ checks on the hot path.
const cache: { bytes: Uint8Array | null; view: DataView } = {
  bytes: null,
  view: new DataView(new ArrayBuffer(0)),
};

/** A DataView over exactly `b` (buffer, byteOffset, byteLength); index 0 = b[0]. */
export function dataViewOf(b: Uint8Array): DataView {
  if (b !== cache.bytes) {
    cache.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    cache.bytes = b;
  }
  return cache.view;
}
