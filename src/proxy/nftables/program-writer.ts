// Writes a flat program (program.ts) straight from the compiler, without rule objects: the
// fixed part is flattened from its small Ruleset, then each service port's chains are
// appended as integer records. Code and chain spans grow in scratch arrays kept between
// compiles (no garbage per rule); finish() copies them out at their final size.
import type { AffinitySet } from './affinity.ts';
import type { PairTable } from './pair-table.ts';
import type { NftProgram } from './program.ts';
import { HDR as HDR_WORDS, MW as MATCH_WORDS } from './program.ts';

// Copied once: the TypeScript loader turns imports into getters.
const HDR = HDR_WORDS;
const MW = MATCH_WORDS;

let scratchCode = new Int32Array(1 << 16);
let scratchSpan = new Int32Array(1 << 12);

export class ProgramWriter {
  private code: Int32Array;
  private span: Int32Array;
  /** Next free code word. */
  private o: number;
  /** Chains allocated so far (their indexes are 0 .. chains - 1). */
  private chains: number;
  private readonly ranges: Uint32Array[];
  private readonly dyns: AffinitySet[];
  private readonly dynIdx = new Map<AffinitySet, number>();

  /** Start from the fixed part, flattened: its chains keep their indexes. */
  constructor(private readonly fixed: NftProgram) {
    this.code = scratchCode;
    this.span = scratchSpan;
    this.o = fixed.code.length;
    this.chains = fixed.chainSpan.length >> 1;
    this.reserve(0);
    this.reserveChains(0);
    this.code.set(fixed.code);
    this.span.set(fixed.chainSpan);
    this.ranges = [...fixed.ranges];
    this.dyns = [...fixed.dyns];
    fixed.dyns.forEach((d, i) => this.dynIdx.set(d, i));
  }

  private reserve(words: number): void {
    if (this.o + words <= this.code.length) return;
    let n = this.code.length * 2;
    while (n < this.o + words) n *= 2;
    const next = new Int32Array(n);
    next.set(this.code.subarray(0, this.o));
    this.code = scratchCode = next;
  }

  private reserveChains(n: number): void {
    const need = (this.chains + n) * 2;
    if (need <= this.span.length) return;
    let len = this.span.length * 2;
    while (len < need) len *= 2;
    const next = new Int32Array(len);
    next.set(this.span.subarray(0, this.chains * 2));
    this.span = scratchSpan = next;
  }

  /** Allocate `n` consecutive chain indexes (written later, in index order); the first. */
  allocChains(n: number): number {
    this.reserveChains(n);
    const first = this.chains;
    this.chains += n;
    return first;
  }

  /** Chain `ci`'s rules start here. */
  beginChain(ci: number): void {
    this.span[2 * ci] = this.o;
  }

  endChain(ci: number): void {
    this.span[2 * ci + 1] = this.o;
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

  /** The program, copied out of the scratch arrays. */
  finish(): NftProgram {
    const tables: readonly PairTable[] = this.fixed.tables;
    return {
      code: this.code.slice(0, this.o),
      chainSpan: this.span.slice(0, this.chains * 2),
      tables,
      ranges: this.ranges,
      dyns: this.dyns,
      hookChains: this.fixed.hookChains,
      hookChainIsNat: this.fixed.hookChainIsNat,
    };
  }
}
