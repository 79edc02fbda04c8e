import test from 'ava';
import { KeyTable } from '../../../src/proxy/ipvs/key-table.ts';
import { seededRandom } from '../../../src/proxy/random.ts';

test('get() agrees with a Map through random sets and deletes, probe runs shifting back', (t) => {
  const rnd = seededRandom(7);
  const tab = new KeyTable();
  const ref = new Map<string, number>();
  // Few distinct keys, high addresses (negative as int32) among them, so runs collide.
  const key = () =>
    [
      (Math.floor(rnd() * 200) * 0x01000001) >>> 0,
      Math.floor(rnd() * 3) << 16,
      rnd() < 0.5 ? 0 : 0xc0a80001,
    ] as const;
  for (let i = 0; i < 30_000; i++) {
    const [a, b, c] = key();
    const k = `${a | 0},${b},${c | 0}`;
    const r = rnd();
    if (r < 0.5) {
      const v = 1 + Math.floor(rnd() * 1000);
      tab.set(a, b, c, v);
      ref.set(k, v);
    } else if (r < 0.6) {
      tab.set(a, b, c, 0);
      ref.delete(k);
    } else {
      t.is(tab.delete(a, b, c), ref.delete(k));
    }
    if (i % 991 === 0) {
      for (let x = 0; x < 200; x++)
        for (let y = 0; y < 3; y++)
          for (const z of [0, 0xc0a80001]) {
            const a2 = (x * 0x01000001) >>> 0;
            const want = ref.get(`${a2 | 0},${y << 16},${z | 0}`) ?? 0;
            if (tab.get(a2, y << 16, z) !== want) return t.fail(`step ${i}: (${x}, ${y}, ${z})`);
          }
      t.is(tab.size, ref.size);
    }
  }
  t.pass();
});
