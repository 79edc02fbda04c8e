// Recently parsed message heads, by their bytes. A simulated workload sends the same few
// heads over and over (a client's request to one address, a server's response to it):
// when a head's bytes equal one parsed before, its raw text, start line and header pairs
// are taken from that parse instead of being decoded and cut up again. Each use gets its
// own ParsedHead and its own header list (a caller may push to it); the pairs and strings
// are shared, and nothing writes to them.
import { slabCopy } from '../../packet/slab.ts';
import type { ParsedHead } from './parser.ts';

/** Heads remembered per kind of parser (requests go to a few node addresses). */
const SLOTS = 4;
/** Longer heads are not remembered (copying and comparing them would cost more). */
const MAX_BYTES = 512;

/** A parsed head as the parser makes it (parser.ts imports this file: a type-only cycle). */
export type HeadFields = ParsedHead;

export class HeadMemo {
  private readonly bytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS);
  private readonly heads: (HeadFields | undefined)[] = new Array<HeadFields | undefined>(SLOTS);
  /** The slot the next new head replaces (round robin). */
  private next = 0;

  /** The head parsed from the same `len` first bytes of `buf`, or undefined. */
  find(buf: Uint8Array, len: number): HeadFields | undefined {
    if (len > MAX_BYTES) return undefined;
    for (let s = 0; s < SLOTS; s++) {
      const b = this.bytes[s];
      if (b === undefined || b.length !== len) continue;
      let i = 0;
      while (i < len && b[i] === buf[i]) i++;
      if (i === len) return this.heads[s];
    }
    return undefined;
  }

  /** Remember `head`, parsed from the `len` first bytes of `buf`. */
  remember(buf: Uint8Array, len: number, head: HeadFields): void {
    if (len > MAX_BYTES) return;
    const s = this.next;
    this.next = (s + 1) % SLOTS;
    this.bytes[s] = slabCopy(buf, 0, len);
    this.heads[s] = {
      method: head.method,
      target: head.target,
      version: head.version,
      status: head.status,
      reason: head.reason,
      headers: head.headers.slice(),
      raw: head.raw,
    };
  }
}
