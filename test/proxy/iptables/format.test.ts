import test from 'ava';
import {
  formatFixed,
  goHex08,
  hex,
  kubeProxyProbability,
  statisticProbability,
} from '../../../src/proxy/iptables/format.ts';

test('kube-proxy probabilities: %0.10f of 1/n', (t) => {
  t.is(kubeProxyProbability(2), '0.5000000000');
  t.is(kubeProxyProbability(3), '0.3333333333');
  t.is(kubeProxyProbability(7), '0.1428571429');
  t.is(kubeProxyProbability(1000), '0.0010000000');
});

test('exact ties round to even like Go and glibc (toFixed would round up)', (t) => {
  // 1/2048 = 0.00048828125 exactly: the 11th digit is a tie.
  t.is(kubeProxyProbability(2048), '0.0004882812');
  t.is((1 / 2048).toFixed(10), '0.0004882813');
  t.is(formatFixed(0.125, 2), '0.12');
  t.is(formatFixed(0.375, 2), '0.38');
  t.is(formatFixed(2.5, 0), '2');
});

test('iptables prints the kernel value lround(p * 2^31) / 2^31 with 11 decimals', (t) => {
  const p31 = Math.round(0x80000000 * 0.3333333333);
  t.is(statisticProbability(p31), '0.33333333349');
  t.is(statisticProbability(Math.round(0x80000000 * 0.5)), '0.50000000000');
  t.is(statisticProbability(Math.round(0x80000000 * 0.25)), '0.25000000000');
});

test('hex forms', (t) => {
  t.is(hex(0x4000), '0x4000');
  t.is(hex(0), '0x0');
  t.is(goHex08(1 << 14), '0x00004000');
});
