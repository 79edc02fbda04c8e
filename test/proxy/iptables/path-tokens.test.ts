// PathTokens: the same path always gets the same token, different paths (hash collisions
// included) never share one, and clear() forgets them all.
import test from 'ava';
import fc from 'fast-check';
import { PathTokens } from '../../../src/proxy/iptables/path-tokens.ts';

const scratch = (xs: readonly number[]) => {
  const a = new Int32Array(64);
  a.set(xs);
  return a;
};

test('a token per distinct path, stable, the path read back as recorded', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: -4, max: 40 }), { maxLength: 6 }), { maxLength: 40 }),
      (paths) => {
        const tokens = new PathTokens();
        const seen = new Map<string, number>();
        for (const p of paths) {
          const tok = tokens.intern(scratch(p), p.length);
          const key = p.join(',');
          if (p.length === 0) t.is(tok, 0);
          if (seen.has(key)) t.is(tok, seen.get(key)!);
          else t.false([...seen.values()].includes(tok));
          seen.set(key, tok);
          t.deepEqual([...tokens.path(tok)], p);
        }
      },
    ),
  );
});

test('clear() forgets the paths: tokens start over', (t) => {
  const tokens = new PathTokens();
  const a = tokens.intern(scratch([3, ~1]), 2);
  t.is(tokens.intern(scratch([7]), 1), a + 1);
  tokens.clear();
  t.is(tokens.path(a + 1).length, 0);
  t.is(tokens.intern(scratch([7]), 1), a);
});
