// Recorded filter walks (the rules and policies a walk counted, see evaluateTableRecorded)
// interned as small-integer tokens, so the dataplane's flow cache holds a number and a
// repeat packet re-counts the walk by token. Keyed by a hash of the path's entries: no
// string per walk, and the scratch path is copied only when it is new.

export class PathTokens {
  /** By token; token 0 is the empty path. */
  private paths: Int32Array[] = [new Int32Array(0)];
  /** Next token with the same hash (0: none), by token. */
  private nextSameHash: number[] = [0];
  private readonly firstByHash = new Map<number, number>();

  /** The token of path[0 .. n), made on first sight. */
  intern(path: Int32Array, n: number): number {
    if (n === 0) return 0;
    let h = n;
    for (let k = 0; k < n; k++) h = Math.imul(h ^ path[k]!, 0x9e3779b1) ^ (h >>> 15);
    const first = this.firstByHash.get(h);
    for (let t = first ?? 0; t !== 0; t = this.nextSameHash[t]!) {
      if (sameEntries(this.paths[t]!, path, n)) return t;
    }
    const token = this.paths.length;
    this.paths.push(path.slice(0, n));
    this.nextSameHash.push(first ?? 0);
    this.firstByHash.set(h, token);
    return token;
  }

  /** The path of a token (empty for 0 or an unknown token). */
  path(token: number): Int32Array {
    return this.paths[token] ?? this.paths[0]!;
  }

  /** Forget every path (new rules: their indexes mean other rules now). */
  clear(): void {
    this.paths = [this.paths[0]!];
    this.nextSameHash = [0];
    this.firstByHash.clear();
  }
}

function sameEntries(a: Int32Array, b: Int32Array, n: number): boolean {
  if (a.length !== n) return false;
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return false;
  return true;
}
