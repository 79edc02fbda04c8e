// The send buffer: bytes written by the application and not yet acknowledged,
// kept as a list of chunks so writes and acknowledgements never copy the whole buffer.
// The first chunk is a field and only later ones go in a list: a connection that writes
// one message (an HTTP request or response) needs no array, and one in TIME-WAIT keeps none.
import { slabCopy } from '../../packet/slab.ts';

export class ByteQueue {
  /** The front chunk, then the rest in order (made on the second pending chunk). */
  private first: Uint8Array | undefined;
  private more: Uint8Array[] | undefined;
  /** Bytes of the front chunk already consumed. */
  private head = 0;
  length = 0;

  /** Append a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    if (bytes.length > 0) this.pushShared(slabCopy(bytes));
  }

  /** Append `bytes` themselves (kept until dropped: the caller writes to them no more). */
  pushShared(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.first === undefined) this.first = bytes;
    else (this.more ??= []).push(bytes);
    this.length += bytes.length;
  }

  /** Drop `n` bytes from the front. */
  drop(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const c = this.first!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      const more = this.more;
      this.first = more !== undefined && more.length > 0 ? more.shift() : undefined;
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
    const more = this.more;
    const n = more === undefined ? 0 : more.length;
    for (let i = -1; i < n && at < end; i++) {
      const c = i < 0 ? this.first : more![i]!;
      if (c === undefined) break;
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
