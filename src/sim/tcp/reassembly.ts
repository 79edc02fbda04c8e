// Out-of-order receive queue (RFC 9293 §3.10.7.4 "seventh, process the segment text"):
// segments beyond RCV.NXT wait here until the hole before them is filled.
import { seqAdd, seqDiff, seqLe } from './seq.ts';

interface Piece {
  seq: number;
  data: Uint8Array;
}

export class Reassembly {
  private pieces: Piece[] = [];
  /** Sequence number of a FIN seen beyond a hole, if any. */
  finSeq: number | undefined;

  get size(): number {
    let n = 0;
    for (const p of this.pieces) n += p.data.length;
    return n;
  }

  /** Keep `data` starting at `seq` (copied); overlaps are resolved when pulled. */
  insert(seq: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const at = this.pieces.findIndex((p) => seqDiff(p.seq, seq) > 0);
    const piece = { seq, data: data.slice() };
    if (at < 0) this.pieces.push(piece);
    else this.pieces.splice(at, 0, piece);
  }

  /** Remove and return the bytes that now follow `rcvNxt` contiguously. */
  pull(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let next = rcvNxt;
    while (this.pieces.length > 0) {
      const p = this.pieces[0]!;
      if (!seqLe(p.seq, next)) break;
      this.pieces.shift();
      const skip = seqDiff(next, p.seq);
      if (skip < p.data.length) {
        out.push(p.data.subarray(skip));
        next = seqAdd(next, p.data.length - skip);
      }
    }
    return out;
  }

  clear(): void {
    this.pieces = [];
    this.finSeq = undefined;
  }
}
