// Recently parsed message heads, by their bytes. A simulated workload sends the same few
// heads over and over (a client's request to one address, a server's response to it):
// when a buffer starts with the bytes of a head parsed before, that parse is used again
// instead of finding the head's end, decoding it and cutting it up. Parsed heads are
// frozen, so every message with those bytes shares one head, its header list and what
// its fields say about the body's length.
import type { ParsedHead } from './parser.ts';

/** Heads remembered per kind of parser (requests go to a few node addresses). */
const SLOTS = 4;
/** Longer heads are not remembered (copying and comparing them would cost more). */
const MAX_BYTES = 512;

/** A remembered head (parser.ts imports this file: a type-only cycle). */
export interface HeadMemoEntry {
  /** The head's bytes, up to and including the empty line. */
  readonly bytes: Uint8Array;
  readonly head: ParsedHead;
  /** What the parser made of its fields for framing the body (see declaredLength). */
  readonly length: number;
}

export class HeadMemo {
  private readonly entries: (HeadMemoEntry | undefined)[] = new Array<HeadMemoEntry | undefined>(
    SLOTS,
  );
  /** The slot the next new head replaces (round robin). */
  private next = 0;

  /**
   * The head whose bytes `buf` starts with, or undefined. A remembered head ends at its
   * first empty line, so a buffer starting with its bytes has its head end there too.
   */
  find(buf: Uint8Array): HeadMemoEntry | undefined {
    const n = buf.length;
    for (let s = 0; s < SLOTS; s++) {
      const e = this.entries[s];
      if (e === undefined) continue;
      const b = e.bytes;
      const len = b.length;
      if (len > n) continue;
      let i = 0;
      while (i < len && b[i] === buf[i]) i++;
      if (i === len) return e;
    }
    return undefined;
  }

  /** Remember `head` (frozen), parsed from the `len` first bytes of `buf`. */
  remember(buf: Uint8Array, len: number, head: ParsedHead, length: number): void {
    if (len > MAX_BYTES) return;
    const s = this.next;
    this.next = (s + 1) % SLOTS;
    // A copy of its own: the memo outlives the slab `buf` may be a view of.
    this.entries[s] = { bytes: buf.slice(0, len), head, length };
  }
}
