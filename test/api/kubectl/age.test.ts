import test from 'ava';
import { humanDuration } from '../../../src/api/kubectl/age.ts';

const S = 1_000_000_000;

// Expected strings from apimachinery's duration_test.go (HumanDuration).
const cases: [number, string][] = [
  [-2 * S, '<invalid>'],
  [-S, '0s'],
  [0, '0s'],
  [S, '1s'],
  [119 * S, '119s'],
  [120 * S, '2m'],
  [121 * S, '2m1s'],
  [9 * 60 * S + 59 * S, '9m59s'],
  [10 * 60 * S, '10m'],
  [179 * 60 * S, '179m'],
  [3 * 3600 * S, '3h'],
  [3 * 3600 * S + 61 * S, '3h1m'],
  [8 * 3600 * S, '8h'],
  [47 * 3600 * S + 59 * 60 * S, '47h'],
  [48 * 3600 * S, '2d'],
  [48 * 3600 * S + 3600 * S, '2d1h'],
  [8 * 24 * 3600 * S, '8d'],
  [2 * 365 * 24 * 3600 * S, '2y'],
  [(2 * 365 + 3) * 24 * 3600 * S, '2y3d'],
  [8 * 365 * 24 * 3600 * S, '8y'],
];

for (const [ns, want] of cases) {
  test(`humanDuration(${ns / S}s) = ${want}`, (t) => {
    t.is(humanDuration(ns), want);
  });
}
