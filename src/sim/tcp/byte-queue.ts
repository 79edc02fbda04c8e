// The send buffer: bytes written by the application and not yet acknowledged,
// kept as a list of chunks so writes and acknowledgements never copy the whole buffer.
import { slabCopy } from '../../packet/slab.ts';

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(slabCopy(bytes));
    this.length += bytes.length;
  }

  /** Drop `n` bytes from the front. */
  drop(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Copy of `len` bytes starting `offset` bytes from the front. */
  peek(offset: number, len: number): Uint8Array {
    len = Math.max(0, Math.min(len, this.length - offset));
    const out = new Uint8Array(len);
    this.copyTo(out, 0, offset, len);
    return out;
  }

  /** Write `len` bytes starting `offset` bytes from the front into `out` at `at`. */
  copyTo(out: Uint8Array, at: number, offset: number, len: number): void {
    len = Math.max(0, Math.min(len, this.length - offset));
    const end = at + len;
    let skip = offset + this.head;
    for (const c of this.chunks) {
      if (at >= end) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, end - at);
      out.set(skip === 0 && take === c.length ? c : c.subarray(skip, skip + take), at);
      at += take;
      skip = 0;
    }
  }
}
