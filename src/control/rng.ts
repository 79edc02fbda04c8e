// The control plane's random source: svclab's one generator (xoshiro128**, in
// proxy/random.ts, below every layer that draws) and the two shapes the control plane
// draws in: generated names in Kubernetes' safe alphabet and version-4 uids. Every random choice
// (uids, generated names, ClusterIPs, NodePorts) draws from it in a deterministic order,
// so the same seed reproduces the same cluster.
import { SeededRng } from '../proxy/random.ts';

/** Kubernetes' safe alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The 36 character codes of a uuid being formatted (dashes stay in place). */
const UUID_CODES: number[] = Array.from('00000000-0000-0000-0000-000000000000', (c) =>
  c.charCodeAt(0),
);

/** `n` lowercase hex digits of `x` into UUID_CODES at `at`. */
function putHex(x: number, at: number, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    UUID_CODES[at + i] = HEX_CODES[x & 15]!;
    x >>>= 4;
  }
}

export class Rng extends SeededRng {
  /** `n` characters drawn from `alphabet` (default: Kubernetes' safe alphabet). */
  string(n: number, alphabet: string = SAFE_ALPHABET): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(alphabet[this.int(alphabet.length)]!);
    // join() yields one flat string (`+=` builds a tree of cons strings that stays in the heap).
    return out.join('');
  }

  /** An RFC 4122 version-4 UUID, as the API server assigns to metadata.uid. */
  uuid(): string {
    const a = this.nextU32();
    const b = ((this.nextU32() & 0xffff0fff) | 0x00004000) >>> 0; // version 4
    const c = ((this.nextU32() & 0x3fffffff) | 0x80000000) >>> 0; // variant 10
    const d = this.nextU32();
    // One flat string from char codes (a template literal leaves a tree of cons strings in
    // every stored uid; joining pieces allocates them first).
    putHex(a, 0, 8);
    putHex(b >>> 16, 9, 4);
    putHex(b & 0xffff, 14, 4);
    putHex(c >>> 16, 19, 4);
    putHex(c & 0xffff, 24, 4);
    putHex(d, 28, 8);
    return String.fromCharCode.apply(null, UUID_CODES);
  }
}
