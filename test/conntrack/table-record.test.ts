// A conntrack node's record holds its key and chain links, the user's stamp and words (the
// dataplane's flow cache) and its direction's counters: none of them may overwrite another,
// and a node made anew starts with a zero stamp and zero counters.
import test from 'ava';
import { IPPROTO_TCP } from '../../src/conntrack/constants.ts';
import { ConntrackTable, NODE_STAMP, NODE_USER } from '../../src/conntrack/table.ts';
import { BACKEND, CLIENT, VIP } from './helpers.ts';

const flow = (t: ConntrackTable, sport: number) =>
  t.insert(IPPROTO_TCP, CLIENT, VIP, sport, 80, BACKEND, CLIENT, 8080, sport, 0);

test('user words, stamp and counters share the record without touching the key', (t) => {
  const ct = new ConntrackTable({ max: 8 });
  const a = flow(ct, 40000);
  const b = flow(ct, 40001);
  for (const ref of [a * 2, a * 2 + 1, b * 2, b * 2 + 1]) {
    const o = ct.nodeOffset(ref);
    ct.nodes[o + NODE_STAMP] = -1;
    for (let k = 0; k < 4; k++) ct.nodes[o + NODE_USER + k] = -1;
  }
  ct.refresh(a * 2, 0, 1000, 60);
  ct.refresh(a * 2, 0, 1000, 40);
  ct.refresh(a * 2 + 1, 0, 1000, 1500);
  t.is(ct.packetsOf(a * 2), 2);
  t.is(ct.bytesOf(a * 2), 100);
  t.is(ct.packetsOf(a * 2 + 1), 1);
  t.is(ct.bytesOf(a * 2 + 1), 1500);
  t.is(ct.packetsOf(b * 2), 0);
  t.is(ct.nodes[ct.nodeOffset(a * 2) + NODE_USER + 3], -1);
  t.is(ct.lookup(IPPROTO_TCP, CLIENT, VIP, 40000, 80, 1), a * 2);
  t.is(ct.lookup(IPPROTO_TCP, BACKEND, CLIENT, 8080, 40000, 1), a * 2 + 1);
  t.is(ct.lookup(IPPROTO_TCP, CLIENT, VIP, 40001, 80, 1), b * 2);
  // The slot made anew: zero stamp, zero counters.
  ct.remove(a);
  const c = flow(ct, 40002);
  t.is(c, a);
  t.is(ct.nodes[ct.nodeOffset(c * 2) + NODE_STAMP], 0);
  t.is(ct.nodes[ct.nodeOffset(c * 2 + 1) + NODE_STAMP], 0);
  t.is(ct.packetsOf(c * 2), 0);
  t.is(ct.bytesOf(c * 2 + 1), 0);
});
