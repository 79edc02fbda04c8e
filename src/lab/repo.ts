// Where svclab's own files are: the folder holding its package.json, found by walking up
// from this module. The same paths then hold from src/ (run through tsx) and from the
// one-file bundle under dist/ that bin/svclab.js runs, whose modules all share one URL.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'svclab'
    ) {
      return (root = dir);
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`svclab's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A path inside the svclab folder: `repoPath('scenarios', 'seed')`. */
export function repoPath(...parts: string[]): string {
  return join(repoRoot(), ...parts);
}
