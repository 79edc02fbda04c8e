// headerHasToken's allocation-free single-token compare against trim().toLowerCase().
import test from 'ava';
import fc from 'fast-check';
import { headerHasToken } from '../../src/sim/http/message.ts';

const chars = ['a', 'K', 'e', 'p', '-', ' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', 'É', 'é'];
const ref = (v: string, t: string): boolean => v.trim().toLowerCase() === t;

test('headerHasToken matches trim().toLowerCase() on every value', (t) => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom(...chars, 'C', 'L', 'O', 'S', 'E', 'l', 'o', 's', ',') }),
      fc.constantFrom('close', 'keep-alive', 'e', ''),
      (v, tok) => {
        const want = v.split(',').some((x) => ref(x, tok));
        t.is(headerHasToken([['Connection', v]], 'connection', tok), want);
      },
    ),
    { numRuns: 5000 },
  );
  t.true(headerHasToken([['connection', ' Keep-Alive\t']], 'Connection', 'keep-alive'));
  t.false(headerHasToken([['Connection', 'keep-alive']], 'connection', 'close'));
});
