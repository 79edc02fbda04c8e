// headerHasToken's allocation-free single-token compare against trim().toLowerCase(), the
// case helpers that skip toLowerCase()/toUpperCase() when nothing changes, and keepsAlive.
import test from 'ava';
import fc from 'fast-check';
import { headerHasToken, keepsAlive } from '../../src/sim/http/message.ts';
import { type HeaderList, lowered, raised } from '../../src/workloads/header-fields.ts';

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

test('lowered/raised: the string itself when nothing changes, else toLowerCase/toUpperCase', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...chars, 'G', 'T', 'z', 'İ', 'ß') }), (s) => {
      t.is(lowered(s), s.toLowerCase());
      t.is(raised(s), s.toUpperCase());
    }),
    { numRuns: 2000 },
  );
});

test('keepsAlive: HTTP/1.1 unless Connection lists close, HTTP/1.0 only with keep-alive', (t) => {
  const c = (v: string): HeaderList => [
    ['Host', 'x'],
    ['Connection', v],
  ];
  t.true(keepsAlive('HTTP/1.1', []));
  t.true(keepsAlive('HTTP/1.1', c('keep-alive')));
  t.false(keepsAlive('HTTP/1.1', c('Upgrade, Close')));
  t.false(keepsAlive('HTTP/1.0', []));
  t.true(keepsAlive('HTTP/1.0', c(' Keep-Alive ')));
  t.false(keepsAlive('HTTP/1.0', c('keep-alive, close')));
});
