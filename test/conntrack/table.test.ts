import test from 'ava';
import {
  CtDir,
  CtStatus,
  InsertError,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../src/conntrack/constants.ts';
import { ConntrackTable } from '../../src/conntrack/table.ts';
import type { CtFilter } from '../../src/conntrack/entries.ts';
import { BACKEND, CLIENT, NODE, S, SYN, VIP, ip, newCt } from './helpers.ts';

const DNS = ip('10.96.0.10');
const COREDNS = ip('10.244.0.3');

function table(max = 64, buckets?: number) {
  return new ConntrackTable(buckets === undefined ? { max } : { max, buckets });
}

/** Insert a plain (un-NATed) UDP flow and give it a timeout. */
function plain(t: ConntrackTable, src: number, sport: number, now = 0, ttl = 30 * S) {
  const e = t.insert(IPPROTO_UDP, src, DNS, sport, 53, DNS, src, 53, sport, now);
  if (e >= 0) t.refresh(e * 2, now, ttl, 60);
  return e;
}

test('one lookup finds either direction of an un-NATed flow', (t) => {
  const ct = table();
  const e = plain(ct, CLIENT, 5353);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 5353, 53, 1), e * 2 + CtDir.ORIGINAL);
  t.is(ct.lookup(IPPROTO_UDP, DNS, CLIENT, 53, 5353, 1), e * 2 + CtDir.REPLY);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 5354, 53, 1), -1);
  t.is(ct.lookup(IPPROTO_TCP, CLIENT, DNS, 5353, 53, 1), -1); // protocol is part of the key
  t.is(ct.status[e]! & (CtStatus.DST_NAT | CtStatus.SRC_NAT), 0);
  t.is(ct.stats.found, 2);
});

test('a DNAT entry: the reply tuple comes from the backend and maps back to the VIP', (t) => {
  const ct = table();
  const e = ct.insert(IPPROTO_TCP, CLIENT, VIP, 43210, 80, BACKEND, CLIENT, 8080, 43210, 0);
  ct.refresh(e * 2, 0, 60 * S, 60);
  t.is(ct.status[e]! & (CtStatus.DST_NAT | CtStatus.SRC_NAT), CtStatus.DST_NAT);
  const out = ct.lookup(IPPROTO_TCP, CLIENT, VIP, 43210, 80, 1);
  t.is(out, e * 2);
  // The client's packet is rewritten to the backend...
  t.deepEqual(
    [ct.natSrc(out), ct.natDst(out), ct.natSport(out), ct.natDport(out)],
    [CLIENT, BACKEND, 43210, 8080],
  );
  // ...and the backend's answer is found and rewritten back to come from the VIP.
  const back = ct.lookup(IPPROTO_TCP, BACKEND, CLIENT, 8080, 43210, 1);
  t.is(back, e * 2 + 1);
  t.deepEqual(
    [ct.natSrc(back), ct.natDst(back), ct.natSport(back), ct.natDport(back)],
    [VIP, CLIENT, 80, 43210],
  );
  // The VIP never appears as a reply source.
  t.is(ct.lookup(IPPROTO_TCP, VIP, CLIENT, 80, 43210, 1), -1);
});

test('DNAT + masquerade sets both NAT bits and replies come to the node', (t) => {
  const ct = table();
  const e = ct.insert(IPPROTO_TCP, CLIENT, VIP, 43210, 80, BACKEND, NODE, 8080, 61000, 0);
  ct.refresh(e * 2, 0, 60 * S, 60);
  t.is(ct.status[e]! & (CtStatus.DST_NAT | CtStatus.SRC_NAT), CtStatus.DST_NAT | CtStatus.SRC_NAT);
  const back = ct.lookup(IPPROTO_TCP, BACKEND, NODE, 8080, 61000, 1);
  t.is(back, e * 2 + 1);
  t.deepEqual([ct.natSrc(back), ct.natDst(back), ct.natDport(back)], [VIP, CLIENT, 43210]);
  t.true(ct.has(IPPROTO_TCP, BACKEND, NODE, 8080, 61000, 1)); // that SNAT port is taken
});

test('inserting a tuple that is already there fails and counts insert_failed', (t) => {
  const ct = table();
  plain(ct, CLIENT, 5353);
  t.is(plain(ct, CLIENT, 5353), InsertError.CLASH);
  // A different original whose reply tuple collides is a clash too.
  t.is(ct.insert(IPPROTO_UDP, NODE, DNS, 1, 53, DNS, CLIENT, 53, 5353, 0), InsertError.CLASH);
  t.is(ct.stats.insertFailed, 2);
  t.is(ct.count, 1);
});

test('expired entries disappear from lookups, are reaped lazily, and by gc', (t) => {
  const ct = table(64, 16);
  const a = plain(ct, CLIENT, 1000, 0, 10 * S);
  plain(ct, CLIENT, 1001, 0, 10 * S);
  plain(ct, CLIENT, 1002, 0, 100 * S);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 1000, 53, 10 * S - 1), a * 2);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 1000, 53, 10 * S), -1); // expires <= now: dead
  t.is(ct.count, 2); // reaped by that lookup
  t.is(ct.gc(50 * S, 16), 1);
  t.is(ct.count, 1);
  t.is(ct.gc(200 * S, 4) + ct.gc(200 * S, 12), 1); // the budget is in buckets
  t.is(ct.count, 0);
});

test('table full: a non-assured entry is early-dropped for the new flow', (t) => {
  const ct = table(4, 1);
  for (let i = 0; i < 3; i++) {
    const e = plain(ct, CLIENT, 2000 + i);
    ct.status[e]! |= CtStatus.ASSURED;
  }
  const victim = plain(ct, CLIENT, 3000); // the only unassured one
  t.is(ct.count, 4);
  const e = plain(ct, NODE, 4000);
  t.true(e >= 0);
  t.is(ct.stats.earlyDrop, 1);
  t.is(ct.stats.drop, 0);
  t.is(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 3000, 53, 1), -1);
  t.is(victim, e); // its slot was reused
  for (let i = 0; i < 3; i++) t.not(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 2000 + i, 53, 1), -1);
});

test('table full of assured flows: the new flow is dropped and counted, old ones survive', (t) => {
  const ct = table(4, 2);
  for (let i = 0; i < 4; i++) ct.status[plain(ct, CLIENT, 2000 + i)]! |= CtStatus.ASSURED;
  t.false(ct.makeRoom(IPPROTO_UDP, NODE, DNS, 4000, 53, 1));
  t.is(plain(ct, NODE, 4001), InsertError.TABLE_FULL);
  t.is(ct.stats.drop, 2);
  t.is(ct.stats.earlyDrop, 0);
  t.is(ct.count, 4);
  for (let i = 0; i < 4; i++) t.not(ct.lookup(IPPROTO_UDP, CLIENT, DNS, 2000 + i, 53, 1), -1);
});

test('table full of expired flows: they are reaped, not early-dropped', (t) => {
  const ct = table(2, 1);
  plain(ct, CLIENT, 1, 0, 1 * S);
  plain(ct, CLIENT, 2, 0, 1 * S);
  t.true(plain(ct, CLIENT, 3, 5 * S) >= 0);
  t.is(ct.stats.earlyDrop, 0);
  t.is(ct.count, 1);
});

test('the early-drop scan is bounded: 8 buckets from the new tuple', (t) => {
  const ct = table(16, 16);
  for (let i = 0; i < 16; i++) ct.status[plain(ct, CLIENT, 6000 + i)]! |= CtStatus.ASSURED;
  ct.status[0]! &= ~CtStatus.ASSURED; // entry 0, port 6000, is the only candidate
  // Its two nodes sit in these buckets; a scan starting 8+ buckets past both misses it.
  const homes = [
    ct.bucketOf(IPPROTO_UDP, CLIENT, DNS, ((6000 << 16) | 53) >>> 0),
    ct.bucketOf(IPPROTO_UDP, DNS, CLIENT, ((53 << 16) | 6000) >>> 0),
  ];
  const reaches = (p: number) => {
    const b = ct.bucketOf(IPPROTO_UDP, NODE, DNS, ((p << 16) | 53) >>> 0);
    return homes.some((h) => (h - b + 16) % 16 < 8);
  };
  let far = 1;
  while (reaches(far)) far++;
  let near = 1;
  while (!reaches(near)) near++;
  t.false(ct.makeRoom(IPPROTO_UDP, NODE, DNS, far, 53, 1));
  t.is(ct.stats.drop, 1);
  t.true(ct.makeRoom(IPPROTO_UDP, NODE, DNS, near, 53, 1));
  t.is(ct.stats.earlyDrop, 1);
  t.is(ct.count, 15);
});

test('delete by filter: kube-proxy clearing UDP flows of a removed endpoint', (t) => {
  const c = newCt();
  const add = (src: number, sport: number, backend: number) => {
    const e = c.insert(IPPROTO_UDP, src, DNS, sport, 53, backend, src, 53, sport, 0);
    c.udpPacket(e * 2, 0, 60);
  };
  add(CLIENT, 1111, COREDNS);
  add(NODE, 2222, COREDNS);
  add(CLIENT, 3333, ip('10.244.0.4'));
  const gone = c.deleteWhere(1, { proto: IPPROTO_UDP, replySrc: COREDNS });
  t.deepEqual(gone.map((g) => g.orig.sport).sort(), [1111, 2222]);
  t.is(c.count, 1);
  t.is(c.list(1, { origDst: DNS }).length, 1);
  t.is(c.deleteWhere(1, { proto: IPPROTO_TCP }).length, 0);
  t.is(c.flush(), 1);
  t.is(c.count, 0);
});

test('filters on status and ports; unconfirmed entries are not listed', (t) => {
  const c = newCt({ timeouts: { tcpSynSent: 1, udp: 1 } });
  const e = c.insert(IPPROTO_TCP, CLIENT, VIP, 43210, 80, BACKEND, CLIENT, 8080, 43210, 0);
  c.tcpPacket(e * 2, 0, 60, SYN, 1, 0, 64240, 0);
  const p = c.insert(IPPROTO_UDP, CLIENT, DNS, 5353, 53, DNS, CLIENT, 53, 5353, 0);
  c.udpPacket(p * 2, 0, 60);
  const ids = (f: CtFilter) => c.list(0, f).map((x) => x.id);
  t.deepEqual(ids({ status: CtStatus.DST_NAT }), [e]);
  t.deepEqual(ids({ origDport: 53 }), [p]);
  t.deepEqual(ids({ replySport: 8080 }), [e]);
  t.deepEqual(ids({ origSrc: CLIENT, replyDst: CLIENT, mark: 0 }).sort(), [e, p].sort());
  // Inserted but no packet through yet: in the table, not in a dump.
  c.insert(IPPROTO_UDP, NODE, DNS, 1, 53, DNS, NODE, 53, 1, 0);
  t.is(c.count, 3);
  t.is(c.list(0).length, 2);
  t.is(c.deleteWhere(0, { origSrc: NODE }).length, 0);
  t.is(c.list(2 * S).length, 0); // both expired by then
});

test('hash collisions: everything in one or three buckets still works', (t) => {
  for (const buckets of [1, 3]) {
    const ct = table(256, buckets);
    const refs: number[] = [];
    for (let i = 0; i < 200; i++) refs.push(plain(ct, CLIENT + i, 1024 + i));
    for (let i = 0; i < 200; i += 2) t.true(ct.remove(refs[i]!));
    for (let i = 0; i < 200; i++) {
      const hit = ct.lookup(IPPROTO_UDP, DNS, CLIENT + i, 53, 1024 + i, 1);
      t.is(hit, i % 2 ? refs[i]! * 2 + 1 : -1, `buckets=${buckets} i=${i}`);
    }
    const lengths = ct.chainLengths();
    t.is(
      lengths.reduce((a, b) => a + b, 0),
      200,
    ); // two nodes per live entry
  }
});

test('removal keeps the dying ref readable for the packet that killed it', (t) => {
  const ct = table();
  const e = ct.insert(IPPROTO_TCP, CLIENT, VIP, 1, 80, BACKEND, CLIENT, 8080, 1, 0);
  t.true(ct.remove(e));
  t.false(ct.remove(e));
  t.is(ct.natDst(e * 2), BACKEND);
});

test('bad sizes are programmer errors', (t) => {
  t.throws(() => new ConntrackTable({ max: 0 }), { instanceOf: RangeError });
  t.throws(() => new ConntrackTable({ max: 8, buckets: 1.5 }), { instanceOf: RangeError });
});
