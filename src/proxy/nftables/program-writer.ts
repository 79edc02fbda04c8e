// Writes a flat program (program.ts) straight from the compiler, without rule objects: the
// fixed part is flattened from its small Ruleset, then each service port's chains are
// appended as integer records. Code and chain offsets are allocated once at their expected
// size and handed out as they are (a view of the part written): on this machine first
// touching fresh memory costs about as much as writing it (8 MiB, ~30 ms of page faults), so
// a scratch buffer copied out at the end would pay it twice.
import type { AffinitySet } from './affinity.ts';
import type { PairTable } from './pair-table.ts';
import type { NftProgram } from './program.ts';
import { HDR as HDR_WORDS, MW as MATCH_WORDS } from './program.ts';

// Copied once: the TypeScript loader turns imports into getters.
const HDR = HDR_WORDS;
const MW = MATCH_WORDS;

export class ProgramWriter {
  private code: Int32Array;
  private chainAt: Int32Array;
  /** Next free code word. */
  private o: number;
  /** Chains allocated so far (their indexes are 0 .. chains - 1). */
  private chains: number;
  private readonly ranges: Uint32Array[];
  private readonly dyns: AffinitySet[];
  private readonly dynIdx = new Map<AffinitySet, number>();

  /**
   * Start from the fixed part, flattened: its chains keep their indexes. `words` and `chains`
   * are expected totals: the arrays are made that size at once.
   */
  constructor(
    private readonly fixed: NftProgram,
    words = 0,
    chains = 0,
  ) {
    this.o = fixed.code.length;
    this.chains = fixed.chainAt.length;
    this.code = new Int32Array(Math.max(words, this.o, 64));
    this.chainAt = new Int32Array(Math.max(chains, this.chains, 16));
    this.code.set(fixed.code);
    this.chainAt.set(fixed.chainAt);
    this.ranges = [...fixed.ranges];
    this.dyns = [...fixed.dyns];
    fixed.dyns.forEach((d, i) => this.dynIdx.set(d, i));
  }

  private reserve(words: number): void {
    if (this.o + words <= this.code.length) return;
    const n = Math.max(this.code.length * 2, this.o + words);
    const next = new Int32Array(n);
    next.set(this.code.subarray(0, this.o));
    this.code = next;
  }

  private reserveChains(n: number): void {
    const need = this.chains + n;
    if (need <= this.chainAt.length) return;
    const next = new Int32Array(Math.max(this.chainAt.length * 2, need));
    next.set(this.chainAt.subarray(0, this.chains));
    this.chainAt = next;
  }

  /** Allocate `n` consecutive chain indexes (written later, in index order); the first. */
  allocChains(n: number): number {
    this.reserveChains(n);
    const first = this.chains;
    this.chains += n;
    return first;
  }

  /** Chain `ci` starts here: its header word, then its rules. */
  beginChain(ci: number): void {
    this.reserve(1);
    this.chainAt[ci] = this.o;
    this.code[this.o++] = 0;
  }

  /** Chain `ci` ends here: its header gets the offset. */
  endChain(ci: number): void {
    this.code[this.chainAt[ci]!] = this.o;
  }

  /** A written chain as verdicts name it: the code offset of its header. */
  target(ci: number): number {
    return this.chainAt[ci]!;
  }

  /** A rule header [nMatches, actionKind, a0, a1, 0]; its matches and entries follow. */
  rule(nMatches: number, kind: number, a0: number, a1: number, extra = 0): void {
    this.reserve(HDR + nMatches * MW + extra);
    const c = this.code;
    const o = this.o;
    c[o] = nMatches;
    c[o + 1] = kind;
    c[o + 2] = a0;
    c[o + 3] = a1;
    c[o + 4] = 0;
    this.o = o + HDR;
  }

  /** A match [kind, value, mask, aux] (room reserved by rule()). */
  match(kind: number, value: number, mask: number, aux: number): void {
    const c = this.code;
    const o = this.o;
    c[o] = kind;
    c[o + 1] = value;
    c[o + 2] = mask;
    c[o + 3] = aux;
    this.o = o + MW;
  }

  /**
   * Room for `words` words written by the caller straight into `buf` from the returned
   * offset (the hot per-endpoint records skip the per-word calls).
   */
  claim(words: number): number {
    this.reserve(words);
    const o = this.o;
    this.o = o + words;
    return o;
  }

  /** The code array claim() wrote into (valid until the next reserve). */
  get buf(): Int32Array {
    return this.code;
  }

  /** Chain `ci`'s header was written by the caller (claim()) at `header`. */
  setChain(ci: number, header: number): void {
    this.chainAt[ci] = header;
  }

  /** One word: a numgen entry (room reserved by rule()'s `extra`). */
  word(v: number): void {
    this.code[this.o++] = v;
  }

  /** The side-table index of an address range list. */
  range(r: Uint32Array): number {
    this.ranges.push(r);
    return this.ranges.length - 1;
  }

  /** The side-table index of an affinity set (one per set). */
  dyn(d: AffinitySet): number {
    let i = this.dynIdx.get(d);
    if (i === undefined) {
      i = this.dyns.length;
      this.dyns.push(d);
      this.dynIdx.set(d, i);
    }
    return i;
  }

  /** The program: views of the arrays written, copied only when much of them is unused. */
  finish(): NftProgram {
    const tables: readonly PairTable[] = this.fixed.tables;
    const fit = (a: Int32Array, n: number) =>
      n >= a.length - (a.length >> 3) ? a.subarray(0, n) : a.slice(0, n);
    return {
      code: fit(this.code, this.o),
      chainAt: fit(this.chainAt, this.chains),
      tables,
      ranges: this.ranges,
      dyns: this.dyns,
      hookChains: this.fixed.hookChains,
      hookChainIsNat: this.fixed.hookChainIsNat,
    };
  }
}
