import test from 'ava';
import { PairIndex } from '../../../src/proxy/ipvs/pair-index.ts';
import { seededRandom } from '../../../src/proxy/random.ts';

test('has() agrees with a counted Map through random adds and removes', (t) => {
  const rnd = seededRandom(7);
  const idx = new PairIndex();
  const ref = new Map<string, number>();
  // Few distinct keys, so probe runs collide and deletions shift members back.
  const key = () => [Math.floor(rnd() * 300) * 0x01000001, Math.floor(rnd() * 3)] as const;
  for (let i = 0; i < 20_000; i++) {
    const [a, b] = key();
    const k = `${a},${b}`;
    if (rnd() < 0.55) {
      idx.add(a, b);
      ref.set(k, (ref.get(k) ?? 0) + 1);
    } else {
      idx.remove(a, b);
      const n = ref.get(k) ?? 0;
      if (n <= 1) ref.delete(k);
      else ref.set(k, n - 1);
    }
    if (i % 997 === 0) {
      for (let x = 0; x < 300; x++)
        for (let y = 0; y < 3; y++)
          if (idx.has(x * 0x01000001, y) !== ref.has(`${x * 0x01000001},${y}`))
            return t.fail(`step ${i}: (${x}, ${y})`);
      t.is(idx.size, ref.size);
    }
  }
  t.pass();
});
